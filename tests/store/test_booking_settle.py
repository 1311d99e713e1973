"""One booking with its index update: its bookings read once, its index rows exact.

A booking reads its specialist's bookings around the slot once, for the slot's check and
for settling the day index; a hold of theirs that ran out unmarked is expired first and the
bookings read again. Checked on real SQLite and PostgreSQL against a fresh engine
computation after every step of a random walk in which the clock moves past holds without
anyone sweeping them.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from bookbot import clinic_file
from bookbot.engine.model import BookingStatus
from bookbot.errors import Refused
from bookbot.services import availability
from bookbot.services import bookings as booking_uses
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork
from tests.store.test_day_index import DIRECTORY, IDS, NOW, assert_index_exact, live_bookings

HOLD = timedelta(minutes=10)


async def status(db: Database, booking_id: int | None) -> BookingStatus:
    assert booking_id is not None
    async with UnitOfWork(db, write=False) as uow:
        found = await uow.bookings.booking(booking_id)
    assert found is not None
    return found.status


async def test_a_booking_reads_its_specialists_bookings_once(db: Database) -> None:
    await import_clinic(db, clinic_file.read(DIRECTORY), NOW)
    day = NOW.date() + timedelta(days=1)
    first, second = (await availability.free_slots(db, NOW, day, day, specialist="ann"))[:2]
    await booking_uses.book(db, NOW, "ann", "checkup", first.start)  # reads the catalog
    statements: list[str] = []

    def count(_conn, _cursor, statement: str, *_: object) -> None:  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()))

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        await booking_uses.book(db, NOW, "ann", "checkup", second.start)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    reads = [s for s in statements if s.startswith("SELECT") and "FROM bookings" in s]
    assert len(reads) == 1, reads
    # The catalog's stamp, the bookings with the span, the insert, the day's row, the
    # counter; on PostgreSQL the locks and the stamp are one statement (migration 0022).
    assert len(statements) == (6 if db.dialect == "sqlite" else 5), statements
    if db.dialect == "postgresql":
        assert statements[0].startswith("SELECT bookbot_lock"), statements
    await assert_index_exact(db)


async def test_a_booking_expires_a_lapsed_hold_and_may_take_its_time(db: Database) -> None:
    await import_clinic(db, clinic_file.read(DIRECTORY), NOW)
    day = NOW.date() + timedelta(days=1)
    start = (await availability.free_slots(db, NOW, day, day, specialist="ann"))[2].start
    held = await booking_uses.book(db, NOW, "ann", "checkup", start, hold=HOLD)
    later = NOW + 2 * HOLD  # the hold ran out; nobody marked it
    with_it = await booking_uses.book(db, later, "ann", "checkup", start)
    assert with_it.status == BookingStatus.CONFIRMED
    assert await status(db, held.id) == BookingStatus.EXPIRED
    await assert_index_exact(db)
    with pytest.raises(Refused):
        await booking_uses.book(db, later, "ann", "checkup", start, hold=HOLD)


async def test_random_bookings_past_unswept_holds_keep_the_index_exact(db: Database) -> None:
    rng = random.Random(11)
    clinic = clinic_file.read(DIRECTORY)
    await import_clinic(db, clinic, NOW)
    now: datetime = NOW

    async def book(hold: bool) -> None:
        who = rng.choice(IDS)
        service = rng.choice(
            [s for s in ("checkup", "hygiene") if s in clinic.specialists[IDS.index(who)].services]
        )
        day = now.date() + timedelta(days=rng.randrange(-1, 8))
        offered = await availability.free_slots(db, now, day, day, service=service, specialist=who)
        if offered:
            start = rng.choice(offered).start
            await booking_uses.book(db, now, who, service, start, hold=HOLD if hold else None)

    async def cancel() -> None:
        found = await live_bookings(db)
        if found:
            await booking_uses.cancel(db, now, rng.choice(found).id, reason="random")

    async def wait() -> None:
        nonlocal now
        now += timedelta(minutes=rng.choice((4, 11, 11)))  # holds run out, none are swept

    steps = [book, book, book, book, cancel, wait]
    for _ in range(60):
        step = rng.choice(steps)
        if step is book:
            await book(rng.random() < 0.6)
        else:
            await step()
        await assert_index_exact(db)
