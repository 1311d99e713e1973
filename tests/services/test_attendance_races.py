"""Attendance writers racing cancels and moves, on real SQLite and PostgreSQL.

"I'll come", Arrived / No-show marks and /forgive each race a cancel, a move or a confirm
of the same client's hold, through databases of their own (as separate processes would),
a small random delay shuffling who goes first. Whoever wins, the outcome must be one a
serial order gives: the loser refused with a locale key (never a raw database error),
and what is stored agrees with who succeeded.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from bookbot import clinic_file
from bookbot.engine.bookings import ADMIN, CLIENT, MOVED
from bookbot.engine.model import Booking, BookingStatus, Client, Mark
from bookbot.errors import BookbotError
from bookbot.services import attendance, bookings, people
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork
from tests.store.test_day_index import assert_index_exact

NOW = datetime.fromisoformat("2026-11-30T07:00:00+00:00")  # Monday
HOLD = timedelta(minutes=10)
BOSS = people.Actor(1, admin=True)
ROUNDS = 3
JITTER = 0.004  # seconds: enough to vary who goes first
DAYS = [date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)]  # Tuesday to Thursday
CLINIC = """
timezone: UTC
min_notice: 30m
horizon_days: 30
holidays: none
policy: {no_show_limit: 1, no_show_window: 90d, after_no_shows: block}
services:
  - {id: checkup, name: Check-up}
specialists:
  - id: ann
    name: Dr. Ann Weber
    services: [checkup]
    weekly:
      - {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00", slot: 1h}
"""

Job = Callable[[Database], Awaitable[Any]]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), NOW.tzinfo)


async def race(db: Database, jobs: list[Job], seed: int) -> list[Any]:
    """Runs the jobs at once, each on a Database of its own; their results or refusals."""
    shuffle = random.Random(seed)
    racers = [Database(db.url) for _ in jobs]

    async def run(racer: Database, job: Job) -> Any:
        await asyncio.sleep(shuffle.random() * JITTER)
        try:
            return await job(racer)
        except BookbotError as error:
            return error

    try:
        return await asyncio.gather(*(run(r, j) for r, j in zip(racers, jobs, strict=True)))
    finally:
        for racer in racers:
            await racer.close()


async def visit(db: Database, day: date, client: int, hour: int = 10) -> int:
    """A confirmed check-up of `client` with ann at `hour` on `day`; its id."""
    made = await bookings.book(db, NOW, "ann", "checkup", at(day, hour), Client(None, None, client))
    assert made.id is not None
    return made.id


async def held(db: Database, now: datetime, client: int, start: datetime) -> int:
    """A hold of `client` on ann's `start`, made at `now`; its id."""
    made = await bookings.hold(db, now, client, "checkup", "ann", start, HOLD)
    assert made.booking.id is not None
    return made.booking.id


async def stored(db: Database, booking_id: int) -> Booking:
    async with UnitOfWork(db, write=False) as uow:
        found = await uow.bookings.booking(booking_id)
    assert found is not None
    return found


def refused(outcome: Any, *keys: str) -> bool:
    """Tells whether a racer was refused with one of these locale keys."""
    return isinstance(outcome, BookbotError) and outcome.key in keys


async def test_ill_come_racing_a_cancel(db: Database) -> None:
    await import_clinic(db, clinic_file.read(CLINIC), NOW)
    for n, day in enumerate(DAYS[:ROUNDS]):
        client = 100 + n
        booking = await visit(db, day, client)
        said, gone = await race(
            db,
            [
                partial(attendance.attend, now=NOW, telegram_id=client, booking_id=booking),
                partial(bookings.cancel, now=NOW, booking_id=booking, by=CLIENT, client=client),
            ],
            seed=n,
        )
        assert not isinstance(gone, BookbotError), gone
        found = await stored(db, booking)
        assert found.status == BookingStatus.CANCELLED
        if refused(said, "refused.not_live"):  # the cancel came first
            assert found.attending_at is None
        else:
            assert isinstance(said, attendance.Attended) and found.attending_at == NOW
    await assert_index_exact(db)


async def test_ill_come_racing_a_move_of_the_visit(db: Database) -> None:
    await import_clinic(db, clinic_file.read(CLINIC), NOW)
    for n, day in enumerate(DAYS[:ROUNDS]):
        client = 200 + n
        old = await visit(db, day, client)
        await bookings.reschedule(db, NOW, client, old)
        new = await held(db, NOW, client, at(day, 12))
        said, moved = await race(
            db,
            [
                partial(attendance.attend, now=NOW, telegram_id=client, booking_id=old),
                partial(bookings.confirm, now=NOW, booking_id=new, client=client),
            ],
            seed=n,
        )
        assert not isinstance(moved, BookbotError), moved
        assert (await stored(db, new)).status == BookingStatus.CONFIRMED
        left = await stored(db, old)
        assert left.status == BookingStatus.CANCELLED
        async with UnitOfWork(db, write=False) as uow:
            assert (await uow.bookings.records(at(day, 0), at(day, 23)))[0].reason == MOVED
        if refused(said, "refused.not_live"):
            assert left.attending_at is None
        else:
            assert isinstance(said, attendance.Attended) and left.attending_at == NOW
    await assert_index_exact(db)


async def test_a_mark_racing_a_staff_cancel(db: Database) -> None:
    await import_clinic(db, clinic_file.read(CLINIC), NOW)
    for n, day in enumerate(DAYS[:ROUNDS]):
        booking = await visit(db, day, 300 + n)
        late = at(day, 10, 10)  # the visit has begun: it may be marked
        chosen = Mark.NO_SHOW if n % 2 else Mark.ARRIVED
        marked, gone = await race(
            db,
            [
                partial(attendance.mark, now=late, actor=BOSS, booking_id=booking, marked=chosen),
                partial(bookings.cancel, now=late, booking_id=booking, by=ADMIN, reason="ill"),
            ],
            seed=n,
        )
        assert not isinstance(gone, BookbotError), gone
        found = await stored(db, booking)
        assert found.status == BookingStatus.CANCELLED
        if refused(marked, "refused.not_live"):  # cancelled first: nothing to mark
            assert found.mark is None
        else:
            assert not isinstance(marked, BookbotError) and found.mark == chosen
    await assert_index_exact(db)


async def test_a_no_show_mark_racing_the_confirm_of_a_hold(db: Database) -> None:
    await import_clinic(db, clinic_file.read(CLINIC), NOW)
    for n, day in enumerate(DAYS[:ROUNDS]):
        client = 400 + n
        missed = await visit(db, day, client)
        late = at(day, 10, 10)
        hold = await held(db, late, client, at(day, 15))
        marked, booked = await race(
            db,
            [
                partial(
                    attendance.mark, now=late, actor=BOSS, booking_id=missed, marked=Mark.NO_SHOW
                ),
                partial(bookings.confirm, now=late, booking_id=hold, client=client),
            ],
            seed=n,
        )
        assert not isinstance(marked, BookbotError), marked
        status = (await stored(db, hold)).status
        if refused(booked, "refused.no_shows_no_phone"):  # marked first: blocked
            assert status == BookingStatus.HELD
        else:
            assert not isinstance(booked, BookbotError) and status == BookingStatus.CONFIRMED
    await assert_index_exact(db)


async def test_forgiving_racing_the_confirm_of_a_blocked_clients_hold(db: Database) -> None:
    await import_clinic(db, clinic_file.read(CLINIC), NOW)
    for n, day in enumerate(DAYS[:ROUNDS]):
        client = 500 + n
        missed = await visit(db, day, client)
        late = at(day, 10, 10)
        hold = await held(db, late, client, at(day, 15))
        await attendance.mark(db, late, BOSS, missed, Mark.NO_SHOW)
        forgiven, booked = await race(
            db,
            [
                partial(attendance.forgive, now=late, actor=BOSS, telegram_id=client),
                partial(bookings.confirm, now=late, booking_id=hold, client=client),
            ],
            seed=n,
        )
        assert not isinstance(forgiven, BookbotError), forgiven
        status = (await stored(db, hold)).status
        if refused(booked, "refused.no_shows_no_phone"):  # confirmed before forgiven
            assert status == BookingStatus.HELD
        else:
            assert not isinstance(booked, BookbotError) and status == BookingStatus.CONFIRMED
    await assert_index_exact(db)
