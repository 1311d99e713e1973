"""/waitlist through the real bot over the Bot API emulator: staff's list of who waits."""

from __future__ import annotations

from datetime import date

from bookbot.services import waitlist
from tests.bot.staff import ADMIN, on_db, say, staffed

__all__ = ["staffed"]  # the fixture, used by name below


async def test_an_admin_lists_who_waits_oldest_first_of_all_or_one_service(staffed) -> None:
    h = staffed
    boss = h.emulator.user(ADMIN, "Boss")
    assert (await say(h, boss, "/waitlist")).text == "Nobody is waiting."
    december = {"first": date(2026, 12, 1), "last": date(2026, 12, 4)}
    await on_db(h, waitlist.join, h.clock(), 71, "checkup", "ann", parts=["evening", "morning"])
    h.clock.advance(minutes=5)
    await on_db(h, waitlist.join, h.clock(), 72, "hygiene", None, **december)
    shown = await say(h, boss, "/waitlist")
    assert shown.text.splitlines() == [
        "#1 Mon 30 Nov 08:00: Check-up with Dr. Ann Weber, Mon 30 Nov to Fri 29 Jan"
        " (Morning, Evening), client 71",
        "#2 Mon 30 Nov 08:05: Hygiene with anyone, Tue 1 Dec to Fri 4 Dec"
        " (Any time of day), client 72",
    ]
    only = await say(h, boss, "/waitlist hygiene")
    assert only.text.splitlines() == [shown.text.splitlines()[1]]
    assert "no service" in (await say(h, boss, "/waitlist massage")).text.lower()
    assert "Usage: /waitlist" in (await say(h, boss, "/waitlist Check-up!")).text

    # An entry left, or whose dates passed, is no longer listed.
    await on_db(h, waitlist.leave, h.clock(), 71, 1)
    h.clock.advance(days=5)  # Saturday 5 December: the second entry's dates have passed
    assert (await say(h, boss, "/waitlist")).text == "Nobody is waiting."


async def test_clients_and_specialists_get_no_list(staffed) -> None:
    h = staffed
    await on_db(h, waitlist.join, h.clock(), 71, "checkup", None)
    client = h.emulator.user(77, "Eve")
    answer = await say(h, client, "/waitlist")
    assert "client 71" not in answer.text
    assert "/waitlist" not in (await say(h, client, "/help")).text
    assert "/waitlist: " in (await say(h, h.emulator.user(ADMIN, "Boss"), "/help")).text
