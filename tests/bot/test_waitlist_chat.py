"""The waitlist in the chat end to end: Want it sooner? under /my, the offer, Take it, Leave."""

from __future__ import annotations

import asyncio
from datetime import datetime

from bookbot.engine.bookings import CLIENT
from bookbot.engine.model import BookingStatus, Client
from bookbot.services import booked, bookings, waitlist
from tests.bot.staff import arrives, on_db, press, say

BOB = 42  # holds Tuesday 1 December 09:00 with ann (tests/clinics.py BASIC)


async def my(h, user, needle: str = "Your coming bookings"):  # type: ignore[no-untyped-def]
    """/my, waiting for its answer (a booking's confirmation may arrive first)."""
    before = len(h.emulator.chat(user).messages)
    await say(h, user, "/my")
    while True:
        found = await arrives(h, user, needle)
        if h.emulator.chat(user).messages.index(found) >= before:
            return found
        await asyncio.sleep(0.05)


async def test_sooner_from_my_then_an_offer_taken_moves_the_booking(harness) -> None:
    h = harness
    mia = h.emulator.user(6101, "Mia")
    later = datetime.fromisoformat("2026-12-02T09:40:00+01:00")
    mine = await on_db(
        h, bookings.book, h.clock(), "ann", "checkup", later, Client("Mia", None, 6101)
    )
    listed = await my(h, mia)
    assert any("Want it sooner?" in b.text for b in listed.buttons)
    await press(h, mia, "Want it sooner?")
    await arrives(h, mia, "You are on the waitlist for Check-up with Dr. Ann Weber")
    waiting = await my(h, mia, "You are waiting for:")
    assert any(b.text.startswith("Leave:") for b in waiting.buttons)

    # Bob's Tuesday 09:00 frees up: it is offered to Mia, who takes it.
    await on_db(h, bookings.cancel, h.clock(), 1, CLIENT, client=BOB)
    offer = await arrives(h, mia, "A time freed up")
    assert "Tuesday 1 December, 09:00" in offer.text
    assert [b.text for b in offer.buttons] == ["Take it", "Not this one", "Leave the waitlist"]
    await press(h, mia, "Take it")
    await arrives(h, mia, "Booked: Check-up with Dr. Ann Weber, Tuesday 1 December, 09:00")
    hers = {
        b.start.isoformat(): b.status
        for b in await on_db(h, booked.list_bookings)
        if b.client and b.client.telegram_id == 6101
    }
    assert hers == {
        "2026-12-01T09:00:00+01:00": BookingStatus.CONFIRMED,
        mine.start.isoformat(): BookingStatus.CANCELLED,  # moved, in one transaction
    }
    assert await on_db(h, waitlist.entries, h.clock(), 6101) == []  # the entry ended


async def test_leave_under_my_ends_the_entry(harness) -> None:
    h = harness
    mia = h.emulator.user(6102, "Mia")
    later = datetime.fromisoformat("2026-12-02T09:40:00+01:00")
    await on_db(h, bookings.book, h.clock(), "ann", "checkup", later, Client("Mia", None, 6102))
    await my(h, mia)
    await press(h, mia, "Want it sooner?")
    await my(h, mia, "You are waiting for:")
    await press(h, mia, "Leave:")
    await arrives(h, mia, "You left the waitlist.")
    assert await on_db(h, waitlist.entries, h.clock(), 6102) == []


async def test_an_offer_nobody_answers_passes_to_the_next_who_waits(harness) -> None:
    h = harness
    first, second = h.emulator.user(6103, "Ida"), h.emulator.user(6104, "Uma")
    for user in (first, second):
        later = datetime.fromisoformat("2026-12-02T09:40:00+01:00")
        if user is second:
            later = datetime.fromisoformat("2026-12-02T10:20:00+01:00")
        await on_db(
            h, bookings.book, h.clock(), "ann", "checkup", later, Client(None, None, user.id)
        )
        await my(h, user)
        await press(h, user, "Want it sooner?")
        h.clock.advance(minutes=1)
    await on_db(h, bookings.cancel, h.clock(), 1, CLIENT, client=BOB)
    await arrives(h, first, "A time freed up")
    h.clock.advance(minutes=16)  # the hold (15 minutes by default) runs out unanswered
    offer = await arrives(h, second, "A time freed up", timeout=15)
    assert "Tuesday 1 December, 09:00" in offer.text
