"""Specialists in the chat: linking, their agenda, their own schedule, cancelling with a reason."""

from __future__ import annotations

from datetime import datetime

from bookbot.engine.model import BookingStatus, Client
from bookbot.services.booked import list_bookings
from bookbot.services.bookings import book
from tests.bot.staff import ADMIN, arrives, exported, link, on_db, press, say, staffed

__all__ = ["staffed"]  # the fixture, used by name below


async def status_of(h, telegram_id: int) -> list[BookingStatus]:  # type: ignore[no-untyped-def]
    return [
        b.status
        for b in await on_db(h, list_bookings)
        if b.client and b.client.telegram_id == telegram_id
    ]


async def test_a_linked_specialist_sees_their_agenda_with_phones_as_plain_text(staffed) -> None:
    h = staffed
    ann = h.emulator.user(601, "Ann")
    welcome = await link(h, "ann", ann)
    assert welcome.text.startswith("Welcome, Dr. Ann Weber! You are linked")
    assert (await exported(h)).specialists[0].telegram_id == 601
    await on_db(
        h,
        book,
        h.clock(),
        "ann",
        "checkup",
        datetime.fromisoformat("2026-12-02T09:40:00+01:00"),
        Client("Tom <Tim> & Co", "+49 151 2222", None),
    )
    # The notice comes from the outbox job; let it land first, so `say` reads the replies.
    await arrives(h, ann, "New booking: Check-up", timeout=30)

    today = await say(h, ann, "/today")
    assert today.text == "Bookings, Mon 30 Nov\nNo bookings."
    week = await say(h, ann, "/week")
    assert week.text.splitlines() == [
        "Bookings, Mon 30 Nov – Sun 6 Dec",
        "Tue 1 Dec 09:00–09:30 Bob Stone, +4915112345678 · Check-up",
        "Wed 2 Dec 09:40–10:10 Tom <Tim> & Co, +49 151 2222 · Check-up",
    ]
    # Telegram drops tel: links silently: the phones go as plain text, no link to lose.
    assert "tel:" not in week.raw_text and week.entities is None
    assert "Bob Stone, +4915112345678 · " in week.raw_text
    assert "Tom &lt;Tim&gt; &amp; Co" in week.raw_text and week.parse_mode == "HTML"
    h.clock.advance(days=1)
    assert "09:00–09:30 Bob Stone" in (await say(h, ann, "/today")).text

    ben_user = h.emulator.user(602, "Ben")
    await link(h, "ben", ben_user)
    assert "Tom" not in (await say(h, ben_user, "/week")).text
    assert (await say(h, h.emulator.user(603, "Nobody"), "/week")).text == (
        "Sorry, this command is for admins."
    )
    assert (await say(h, h.emulator.user(ADMIN, "Boss"), "/today")).text.startswith(
        "This command is for specialists"
    )


async def test_a_specialist_changes_only_their_own_schedule(staffed) -> None:
    h = staffed
    ann = h.emulator.user(601, "Ann")
    await link(h, "ann", ann)
    done = await say(h, ann, "/block tomorrow 10:00-11:00 meeting")
    assert done.text.startswith("Blocked for Dr. Ann Weber on Tue 1 Dec: 10:00–11:00 (meeting).")
    assert "10:00–11:00 blocked: meeting" in done.text
    assert "on Thu 3 Dec." in (await say(h, ann, "/dayoff ann 2026-12-03")).text
    assert "Wed 2 Dec · 09:00–13:00" in (await say(h, ann, "/schedule")).text

    before = next(s for s in (await exported(h)).specialists if s.id == "ben")
    for command in (
        "/dayoff ben 2026-12-03",
        "/schedule ben",
        "/bookings ben",
        "/vacation ben 2026-12-07 2026-12-09",
    ):
        assert (await say(h, ann, command)).text == (
            "You can change and see only your own schedule."
        ), command
    for command in (
        "/holidays ann none",
        "/weekly ann sat 09:00-10:00",
        "/invite ann",
        "/promote 601",
    ):
        assert (await say(h, ann, command)).text == "Sorry, this command is for admins.", command
    assert next(s for s in (await exported(h)).specialists if s.id == "ben") == before

    bob = h.emulator.user(42, "Bob")
    asked = await say(h, ann, "/dayoff 2026-12-01 conference")
    assert "this would cancel bookings (1)" in asked.text and "Bob Stone" in asked.text
    await press(h, ann, "Confirm and cancel them")
    told = await arrives(h, bob, "your booking was cancelled")
    assert "Reason: conference" in told.text and "The soonest free times:" in told.text
    assert await status_of(h, 42) == [BookingStatus.CANCELLED]


async def test_cancel_from_the_new_booking_message_asks_a_reason_and_tells_the_client(
    staffed,
) -> None:
    h = staffed
    from tests.bot.staff import book_ann

    ann = h.emulator.user(601, "Ann")
    await link(h, "ann", ann)
    client = h.emulator.user(1001, "Anna")
    await book_ann(h, client, time="10:20")
    notice = await arrives(h, ann, "New booking: Check-up")
    assert "Tuesday 1 December, 10:20" in notice.text and "Anna" in notice.text
    assert [b.text for b in notice.buttons] == ["Cancel with a reason"]

    # Someone else's specialist cannot use ann's button.
    ben = h.emulator.user(602, "Ben")
    await link(h, "ben", ben)
    foreign = await h.emulator.tap_data(ben, 1, notice.buttons[0].callback_data)
    await h.emulator.wait_idle()
    assert foreign.answered and foreign.show_alert
    assert await status_of(h, 1001) == [BookingStatus.CONFIRMED]

    asked = await press(h, ann, "Cancel with a reason")
    assert asked.text.startswith("Why is this booking cancelled?")
    await h.restart()  # the question waits in the database
    done = await say(h, ann, "I am ill today")
    assert done.text.startswith("Cancelled. The client is told")
    told = await arrives(h, client, "your booking was cancelled")
    assert "Reason: I am ill today" in told.text and "The soonest free times:" in told.text
    assert "•" in told.text
    assert await status_of(h, 1001) == [BookingStatus.CANCELLED]

    other = h.emulator.user(1002, "Otto")
    await book_ann(h, other, time="11:00")
    await arrives(h, ann, "11:00")
    await press(h, ann, "Cancel with a reason")
    assert (await press(h, ann, "Don't cancel")).text == "The booking stays."
    assert (await say(h, ann, "hello")).text.startswith("Send /start to book")
    assert await status_of(h, 1002) == [BookingStatus.CONFIRMED]
