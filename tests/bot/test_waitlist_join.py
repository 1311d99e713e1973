"""Joining the waitlist in the chat: from a calendar with nothing free soon, and a full day."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import pytest

from bookbot.engine.bookings import CLIENT
from bookbot.engine.model import Client
from bookbot.engine.waitlist import MORNING
from bookbot.services import bookings, waitlist
from bookbot.testing.emulator import BotApiEmulator
from tests.bot.conftest import Clock, Harness
from tests.bot.staff import arrives, on_db, press, say, started
from tests.clinics import BASIC
from tests.services.test_waitlist import left_at

# Ben is away until Sunday 6 December: his soonest free day is a week off.
VACATION = "      - {from: 2026-11-30, to: 2026-12-06, type: vacation}\n"
AWAY = BASIC.replace("    holidays: none\n", "    holidays: none\n    overrides:\n" + VACATION)


@pytest.fixture
async def away(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> AsyncIterator[Harness]:
    running = await started(emulator, tmp_path, clock, AWAY)
    yield running
    await running.stop()


async def test_a_far_soonest_day_offers_the_waitlist_with_dates_and_parts(away) -> None:
    h = away
    eva = h.emulator.user(6201, "Eva")
    await say(h, eva, "/start")
    await press(h, eva, "Check-up")
    calendar = await press(h, eva, "Ben Keller")
    assert "🔔 Join the waitlist" in [b.text for b in calendar.buttons]
    form = await press(h, eva, "🔔 Join the waitlist")
    assert "Wait for a free time on Mon 30 Nov – Sun 6 Dec, Any time of day." in form.text
    assert "✓ Any time of day" in [b.text for b in form.buttons]
    await press(h, eva, "Morning")
    await press(h, eva, "Evening")
    form = await press(h, eva, "✓ Evening")  # pressed again: off
    assert "Mon 30 Nov – Sun 6 Dec, Morning." in form.text
    assert {"✓ Morning", "Afternoon", "Evening", "Any time of day"} <= {
        b.text for b in form.buttons
    }
    await press(h, eva, "✅ Join")
    await arrives(h, eva, "You are on the waitlist for Check-up with Ben Keller")
    [waiting] = await on_db(h, waitlist.entries, h.clock(), 6201)
    assert (waiting.entry.specialist, waiting.entry.first, waiting.entry.last) == (
        "ben",
        date(2026, 11, 30),
        date(2026, 12, 6),
    )
    assert waiting.entry.parts == {MORNING}
    await say(h, eva, "/my")
    listed = await arrives(h, eva, "You are waiting for:")
    assert "Check-up with Ben Keller, Mon 30 Nov to Sun 6 Dec (Morning)" in (listed.text or "")

    # Once Sunday 6 December has passed, the outbox's round ends the entry.
    h.clock.advance(days=7)
    async with asyncio.timeout(5):
        while await on_db(h, left_at, 6201) is None:
            await asyncio.sleep(0.1)


async def test_near_free_time_offers_no_waitlist(away) -> None:
    h = away
    eva = h.emulator.user(6202, "Eva")
    await say(h, eva, "/start")
    await press(h, eva, "Check-up")
    calendar = await press(h, eva, "Dr. Ann Weber")
    assert "🔔 Join the waitlist" not in [b.text for b in calendar.buttons]


async def test_a_day_that_filled_up_offers_its_waitlist_and_its_freed_time(harness) -> None:
    h = harness
    eva = h.emulator.user(6203, "Eva")
    await say(h, eva, "/start")
    await press(h, eva, "Check-up")
    await press(h, eva, "Dr. Ann Weber")
    await press(h, eva, "›")  # December: Friday the 4th is free
    friday = [datetime.fromisoformat(f"2026-12-04T{t}:00+01:00") for t in ("08:00", "08:30")]
    friday.append(datetime.fromisoformat("2026-12-04T10:30:00+01:00"))
    taken = [
        await on_db(h, bookings.book, h.clock(), "ann", "checkup", at, Client(None, None, 7000 + i))
        for i, at in enumerate(friday)
    ]
    full = await press(h, eva, "4")
    assert "That day has no free times any more" in full.text
    form = await press(h, eva, "🔔 Join the waitlist")
    assert "Wait for a free time on Fri 4 Dec, Any time of day." in form.text
    await press(h, eva, "✅ Join")
    await arrives(h, eva, "You are on the waitlist for Check-up with Dr. Ann Weber")
    [waiting] = await on_db(h, waitlist.entries, h.clock(), 6203)
    assert (waiting.entry.first, waiting.entry.last) == (date(2026, 12, 4), date(2026, 12, 4))

    await on_db(h, bookings.cancel, h.clock(), taken[2].id, CLIENT, client=7002)
    offer = await arrives(h, eva, "A time freed up")
    assert "Friday 4 December, 10:30" in offer.text
