"""Reviews in the chat: the rating buttons of a review request, and /reviews for staff."""

from __future__ import annotations

from bookbot.notify import reviews
from tests.bot.staff import ADMIN, arrives, book_ann, link, on_db, press, say, staffed

__all__ = ["staffed"]  # the fixture, used by name below


async def test_stars_in_the_review_request_store_one_review_and_staff_see_it(staffed) -> None:
    h = staffed
    client = h.emulator.user(9301, "Rita")
    ann = h.emulator.user(9302, "Ann")
    await link(h, "ann", ann)
    await book_ann(h, client)
    h.clock.advance(days=2, hours=3)  # a day after the visit on Tue 1 Dec
    await h.restart()  # the repeating job picks up the due request at start
    request = await arrives(h, client, "How was your visit", timeout=10)
    await press(h, client, "★★★★")
    assert "Thank you for your rating: ★★★★" in h.emulator.chat(client).message(
        request.message_id).text
    stored = await on_db(h, reviews.listed)
    assert [(r.specialist, r.rating) for r in stored] == [("ann", 4)]
    assert h.emulator.chat(client).message(request.message_id).buttons == []  # rated once

    admin = h.emulator.user(ADMIN, "Admin")
    assert "★★★★ ann" in (await say(h, admin, "/reviews")).text
    assert "★★★★ ann" in (await say(h, ann, "/reviews")).text
    assert "only your own" in (await say(h, ann, "/reviews ben")).text
    assert "for admins" in (await say(h, client, "/reviews")).text
