"""The cut-off end to end: a clinic with prices and a 24h cancel notice, a moved clock.

Ann's visit on Tue 1 Dec 10:20 (Berlin) may be cancelled or moved by its client until
Mon 30 Nov 10:20; the clock starts at Mon 30 Nov 08:00.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from icalendar import Calendar

from bookbot.bot import callbacks
from bookbot.bot.callbacks import Action
from bookbot.engine.model import BookingStatus, Client
from bookbot.services.booked import list_bookings
from bookbot.services.bookings import book
from bookbot.testing.emulator import BotApiEmulator, CallbackQueryRecord, ChatMessage, ChatUser
from tests.bot.conftest import Clock, Harness
from tests.bot.staff import arrives, link, on_db, press, say, started
from tests.clinics import BASIC

PHONE = "+49 89 1234567"
POLICED = BASIC.replace(
    "timezone: Europe/Berlin\n",
    f'timezone: Europe/Berlin\ncurrency: EUR\nphone: "{PHONE}"\npolicy: {{cancel_notice: 24h}}\n',
).replace("{id: checkup, name: Check-up}", '{id: checkup, name: Check-up, price: "60.00"}')
VISIT = datetime.fromisoformat("2026-12-01T10:20:00+01:00")
CUTOFF = datetime.fromisoformat("2026-11-30T10:20:00+01:00")
CLIENT = 7001


@pytest.fixture
async def policed(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> AsyncIterator[Harness]:
    """The bot on the BASIC clinic with prices, a phone and a 24h notice; ADMIN an admin."""
    running = await started(emulator, tmp_path, clock, POLICED)
    yield running
    await running.stop()


async def booked(h: Harness) -> int:
    """Ann's visit at VISIT for CLIENT, written as the CLI would; its confirmation landed."""
    h.emulator.user(CLIENT, "Mia")
    made = await on_db(
        h, book, h.clock(), "ann", "checkup", VISIT, Client("Mia", "+491512222222", CLIENT)
    )
    await confirmation(h, CLIENT)
    return made.id


async def confirmation(h: Harness, user: ChatUser | int) -> ChatMessage:
    """The confirmation with its .ics file, once the outbox sent it."""
    async with asyncio.timeout(30):
        while not (sent := [m for m in h.emulator.chat(user).messages if m.document]):
            await asyncio.sleep(0.05)
    return sent[0]


async def status(h: Harness, booking_id: int) -> BookingStatus:
    return next(b.status for b in await on_db(h, list_bookings) if b.id == booking_id)


async def tap(h: Harness, message: ChatMessage, data: str) -> CallbackQueryRecord:
    """Taps `data` on a message of CLIENT's (drawn then, maybe gone since); waits for the answer."""
    record = await h.emulator.tap_data(CLIENT, message.message_id, data)
    async with asyncio.timeout(5):
        while not record.answered:
            await h.emulator.wait_idle()
    return record


async def test_the_menu_summary_and_confirmation_show_the_price_and_the_cutoff(policed) -> None:
    h = policed
    mia = h.emulator.user(CLIENT, "Mia")
    menu = await say(h, mia, "/start")
    assert [b.text for b in menu.buttons] == ["Check-up · €60.00", "Hygiene"]
    await press(h, mia, "Check-up")
    await press(h, mia, "Dr. Ann Weber")
    await press(h, mia, "›")
    await press(h, mia, "1")
    await press(h, mia, "10:20")
    await h.emulator.share_contact(mia, "+491512222222")
    summary = await arrives(h, mia, "Please check and confirm")
    assert summary.text.splitlines()[-2:] == [
        "Price: €60.00",
        "Free cancellation until Mon 30 Nov, 10:20",
    ]
    await press(h, mia, "Confirm")
    done = h.emulator.chat(mia).message(summary.message_id)
    assert done is not None and done.text.startswith("Booked")
    assert "Price: €60.00\nFree cancellation until Mon 30 Nov, 10:20" in done.text
    sent = await confirmation(h, mia)
    assert "Free cancellation until Mon 30 Nov, 10:20" in (sent.caption or "")
    assert sent.document is not None
    event = Calendar.from_ical(sent.document.data).walk("VEVENT")[0]
    assert "Free cancellation until Mon 30 Nov, 10:20" in str(event["description"])


async def test_a_client_cancels_a_minute_before_the_cutoff(policed) -> None:
    h = policed
    booking_id = await booked(h)
    h.clock.now = CUTOFF.replace(minute=19)
    mine = await say(h, CLIENT, "/my")
    assert PHONE not in mine.text and len(mine.buttons) == 3  # Cancel, Move, Want it sooner?
    await tap(h, mine, callbacks.encode(Action.ASK_CANCEL, booking_id))
    done = await press(h, CLIENT, "Yes, cancel it")
    assert done.text.startswith("Cancelled: Check-up with Dr. Ann Weber")
    assert await status(h, booking_id) == BookingStatus.CANCELLED


async def test_a_cancel_a_minute_after_the_cutoff_is_refused_and_changes_nothing(policed) -> None:
    h = policed
    booking_id = await booked(h)
    h.clock.now = CUTOFF.replace(minute=19)
    mine = await say(h, CLIENT, "/my")
    asked = await tap(h, mine, callbacks.encode(Action.ASK_CANCEL, booking_id))
    assert not asked.show_alert  # before the cut-off: the question is asked
    h.clock.now = CUTOFF.replace(minute=21)  # ... and answered after it
    refused = await tap(h, mine, callbacks.encode(Action.CANCEL, booking_id))
    assert refused.show_alert and "can no longer be cancelled or moved" in str(refused.answer_text)
    moved = await tap(h, mine, callbacks.encode(Action.RESCHEDULE, booking_id))  # drawn before
    assert moved.show_alert and "can no longer be cancelled or moved" in str(moved.answer_text)
    assert await status(h, booking_id) == BookingStatus.CONFIRMED


async def test_after_the_cutoff_my_and_the_reminder_say_whom_to_call_and_offer_no_cancel(
    policed,
) -> None:
    h = policed
    await booked(h)
    h.clock.now = CUTOFF.replace(minute=21)  # the 24h reminder fell due at the cut-off
    reminder = await arrives(h, CLIENT, "Reminder", timeout=30)
    assert reminder.text.splitlines() == [
        "Reminder: Check-up with Dr. Ann Weber, Tuesday 1 December, 10:20.",
        f"To change it, call {PHONE}.",
    ]
    # the first reminder keeps "I'll come" (policy.md); Cancel and Move are gone
    assert [b.text for b in reminder.buttons] == ["✅ I'll come"]
    mine = await say(h, CLIENT, "/my")
    assert mine.text.splitlines()[1:] == [
        "• Check-up with Dr. Ann Weber, Tuesday 1 December, 10:20",
        f"  To change it, call {PHONE}.",
    ]
    assert mine.buttons == []


async def test_the_specialist_cancels_after_the_cutoff(policed) -> None:
    h = policed
    ann = h.emulator.user(601, "Ann")
    await link(h, "ann", ann)
    booking_id = await booked(h)
    await arrives(h, ann, "New booking: Check-up", timeout=30)
    h.clock.now = CUTOFF.replace(hour=18)
    await press(h, ann, "Cancel with a reason")
    done = await say(h, ann, "I am ill")
    assert done.text.startswith("Cancelled. The client is told")
    assert await status(h, booking_id) == BookingStatus.CANCELLED
