"""Frees at once for one waiting client, on real SQLite and PostgreSQL: one offer at a time.

Ann and Ben work Tuesdays 09:00-10:00, one 1-hour slot each, and every Tuesday of December
both are booked. Each round, two cancellations of one Tuesday run at once through
databases of their own (as two processes would), each under its own specialist's lock:
the client who joined first (waiting with one entry for anyone, or with one entry for
each specialist) must end up holding one offer, never two, and the other slot goes to
the client who joined next.
"""

from __future__ import annotations

import asyncio
import random
from datetime import date, datetime, timedelta

import pytest

from bookbot import clinic_file
from bookbot.engine.bookings import CLIENT
from bookbot.engine.model import Booking, BookingStatus
from bookbot.services import bookings, waitlist
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork
from tests.store.test_day_index import assert_index_exact

NOW = datetime.fromisoformat("2026-11-30T08:00:00+01:00")  # Monday, in Berlin
TUESDAYS = [date(2026, 12, 1) + timedelta(weeks=n) for n in range(4)]
SPECIALISTS = ("ann", "ben")
JITTER = 0.004  # seconds: enough to vary who goes first


def clinic() -> str:
    lines = [
        "timezone: Europe/Berlin",
        "min_notice: 30m",
        "horizon_days: 40",
        "holidays: none",
        "services:",
        "  - {id: checkup, name: Check-up}",
        "specialists:",
    ]
    for who in SPECIALISTS:
        lines += [
            f"  - id: {who}",
            f"    name: {who.title()}",
            "    services: [checkup]",
            "    weekly:",
            '      - {days: [tue], start: "09:00", end: "10:00", slot: 1h}',
        ]
    lines.append("bookings:")
    for n, day in enumerate(TUESDAYS):
        for i, who in enumerate(SPECIALISTS):
            lines.append(
                f"  - {{specialist: {who}, service: checkup, start: {day}T09:00,"
                f" client: {{name: C, telegram_id: {900 + 10 * n + i}}}}}"
            )
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("entries", ["one for anyone", "one for each specialist"])
async def test_two_frees_at_once_give_one_client_one_offer(db: Database, entries: str) -> None:
    await import_clinic(db, clinic_file.read(clinic()), NOW)
    shuffle = random.Random(entries)
    racers = [Database(db.url), Database(db.url)]
    try:
        for n, day in enumerate(TUESDAYS):
            first, second = 100 + 10 * n, 101 + 10 * n
            joined = NOW + timedelta(minutes=n)
            for who in SPECIALISTS if entries != "one for anyone" else (None,):
                await waitlist.join(db, joined, first, "checkup", who, first=day, last=day)
            later = joined + timedelta(seconds=1)
            await waitlist.join(db, later, second, "checkup", first=day, last=day)
            booked = await live_of(db, day)
            await asyncio.gather(
                *(cancel(r, b, shuffle.random()) for r, b in zip(racers, booked, strict=True))
            )
            offered = [b for b in await live_offers(db, NOW) if b.start.date() == day]
            holders = sorted(b.client.telegram_id for b in offered if b.client)
            assert holders == [first, second], (day, holders)
    finally:
        for racer in racers:
            await racer.close()
    await assert_index_exact(db)


async def cancel(racer: Database, booking: Booking, delay: float) -> None:
    """The booking's client cancels it, after a share of JITTER."""
    await asyncio.sleep(delay * JITTER)
    assert booking.id is not None and booking.client is not None
    await bookings.cancel(racer, NOW, booking.id, CLIENT, client=booking.client.telegram_id)


async def live_offers(db: Database, now: datetime) -> list[Booking]:
    """Every held booking live at `now`: the offers, here."""
    async with UnitOfWork(db, write=False) as uow:
        found = await uow.bookings.bookings(live_at=now)
    return [b for b in found if b.status == BookingStatus.HELD]


async def live_of(db: Database, day: date) -> list[Booking]:
    """The confirmed bookings of one Tuesday, ann's then ben's."""
    async with UnitOfWork(db, write=False) as uow:
        found = await uow.bookings.bookings(live_at=NOW)
    return sorted(
        (b for b in found if b.start.date() == day and b.status == BookingStatus.CONFIRMED),
        key=lambda b: b.specialist,
    )
