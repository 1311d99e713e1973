"""The waitlist in the chat end to end: Want it sooner? under /my, the offer, Take it, Leave."""

from __future__ import annotations

from datetime import datetime

from bookbot.engine.bookings import CLIENT
from bookbot.engine.model import BookingStatus, Client
from bookbot.services import bookings
from tests.bot.staff import arrives, on_db, press, say

BOB = 42  # holds Tuesday 1 December 09:00 with ann (tests/clinics.py BASIC)


async def test_sooner_from_my_then_an_offer_taken_moves_the_booking(harness) -> None:
    h = harness
    mia = h.emulator.user(6101, "Mia")
    later = datetime.fromisoformat("2026-12-02T09:40:00+01:00")
    mine = await on_db(
        h, bookings.book, h.clock(), "ann", "checkup", later, Client("Mia", None, 6101)
    )
    listed = await say(h, mia, "/my")
    assert any("Want it sooner?" in b.text for b in listed.buttons)
    joined = await press(h, mia, "Want it sooner?")
    assert "You are on the waitlist for Check-up with Dr. Ann Weber" in joined.text
    waiting = await say(h, mia, "/my")
    assert "You are waiting for:" in waiting.text
    assert any(b.text.startswith("Leave:") for b in waiting.buttons)

    # Bob's Tuesday 09:00 frees up: it is offered to Mia, who takes it.
    await on_db(h, bookings.cancel, h.clock(), 1, CLIENT, client=BOB)
    offer = await arrives(h, mia, "A time freed up")
    assert "Tuesday 1 December, 09:00" in offer.text
    assert [b.text for b in offer.buttons] == ["Take it", "Not this one", "Leave the waitlist"]
    taken = await press(h, mia, "Take it")
    assert "Booked: Check-up with Dr. Ann Weber, Tuesday 1 December, 09:00" in taken.text
    hers = {
        b.start.isoformat(): b.status
        for b in await on_db(h, bookings.list_bookings)
        if b.client and b.client.telegram_id == 6101
    }
    assert hers == {
        "2026-12-01T09:00:00+01:00": BookingStatus.CONFIRMED,
        mine.start.isoformat(): BookingStatus.CANCELLED,  # moved, in one transaction
    }
    assert "You are waiting for:" not in (await say(h, mia, "/my")).text


async def test_leave_under_my_ends_the_entry(harness) -> None:
    h = harness
    mia = h.emulator.user(6102, "Mia")
    later = datetime.fromisoformat("2026-12-02T09:40:00+01:00")
    await on_db(h, bookings.book, h.clock(), "ann", "checkup", later, Client("Mia", None, 6102))
    await say(h, mia, "/my")
    await press(h, mia, "Want it sooner?")
    await say(h, mia, "/my")
    left = await press(h, mia, "Leave:")
    assert "You left the waitlist." in left.text
    assert "You are waiting for:" not in (await say(h, mia, "/my")).text
