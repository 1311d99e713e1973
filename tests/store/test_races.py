"""Competing writers on real SQLite and PostgreSQL: no check passes on a snapshot another
writer invalidates, and no deadlock or serialization failure reaches the user.

Each racer has its own Database (its own connections), as separate processes would; a
small random delay before each shuffles who goes first. After every race, every live
booking must still be offered by its specialist's schedule, the booking itself ignored
(`broken`), and the day index must equal the engine's answer.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import random
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select, text

from bookbot import clinic_file, i18n
from bookbot.engine import search
from bookbot.engine.model import Booking, BookingStatus, Client
from bookbot.engine.workday import Plan
from bookbot.errors import BookbotError
from bookbot.notify.messages import CANCELLED_BY_CLIENT, CANCELLED_FOR_CLIENT, Policy
from bookbot.services import bookings, people, schedules
from bookbot.services import clinic as clinic_service
from bookbot.services.booked import list_bookings
from bookbot.services.chat import remember
from bookbot.services.clinic import export_clinic, import_clinic, import_file
from bookbot.services.visits import Visit
from bookbot.store.chats import Profile
from bookbot.store.db import Database
from bookbot.store.import_stream import ImportStream, Ready
from bookbot.store.tables import OutboxRow
from bookbot.store.uow import ATTEMPTS, OutOfOrder, UnitOfWork, lock_key, retried
from tests.conftest import drop_postgres_database, dsn, new_postgres_database
from tests.store.test_day_index import assert_index_exact

NOW = datetime.fromisoformat("2026-11-30T08:00:00+01:00")  # a Monday in Berlin
ADMIN = people.Actor(1, admin=True)
POLICY = Policy((timedelta(hours=24),), timedelta(hours=24))
HOLD = timedelta(minutes=10)
SPECIALISTS = 4
ROUNDS = 2
JITTER = 0.004  # seconds: enough to vary who goes first
WORKDAYS = [
    date(2026, 12, 1) + timedelta(days=i)
    for i in range(56)
    if (date(2026, 12, 1) + timedelta(days=i)).weekday() < 5
]
BAVARIAN_HOLIDAYS = [date(2026, 12, 25), date(2027, 1, 1), date(2027, 1, 6)]  # weekdays

Job = Callable[[Database], Awaitable[Any]]


def clinic(bookings: list[str] | None = None) -> str:
    """Specialists s0, s1, ... on Telegram, working weekdays 09–17 with 1-hour slots."""
    lines = [
        "timezone: Europe/Berlin",
        "min_notice: 30m",
        "horizon_days: 60",
        "holidays: none",
        "services:",
        "  - {id: checkup, name: Check-up}",
        "specialists:",
    ]
    for i in range(SPECIALISTS):
        lines += [
            f"  - id: s{i}",
            f"    name: Specialist {i}",
            f"    telegram_id: {500 + i}",
            "    services: [checkup]",
            "    weekly:",
            '      - {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00", slot: 1h}',
        ]
    if bookings:
        lines += ["bookings:", *bookings]
    return "\n".join(lines) + "\n"


def at(day: date, hour: int) -> datetime:
    """A Berlin wall time in winter as an aware instant."""
    return datetime.combine(day, time(hour)).replace(tzinfo=NOW.tzinfo)


def days(round_: int) -> list[date]:
    """One workday per specialist, different in each round."""
    return WORKDAYS[round_ * SPECIALISTS : (round_ + 1) * SPECIALISTS]


class Racers:
    """Databases of their own, one per racer, as separate processes would have."""

    def __init__(self, url: str, count: int) -> None:
        self.databases = [Database(url) for _ in range(count)]

    async def __aenter__(self) -> Racers:
        for racer in self.databases:  # the schema check is not what races here
            await racer.prepare()
        return self

    async def __aexit__(self, *_: object) -> None:
        for racer in self.databases:
            await racer.close()

    async def run(self, jobs: list[Job], seed: int) -> list[Any]:
        """Runs the jobs at once; returns their results, or the BookbotErrors they raised.

        Any other exception (a raw deadlock, say) propagates: it would reach the user.
        """
        assert len(jobs) <= len(self.databases)
        shuffle = random.Random(seed)

        async def run(racer: Database, job: Job) -> Any:
            await asyncio.sleep(shuffle.random() * JITTER)
            try:
                return await job(racer)
            except BookbotError as error:
                return error

        return await asyncio.gather(
            *(run(r, j) for r, j in zip(self.databases, jobs, strict=False))
        )


async def broken(db: Database, now: datetime = NOW) -> list[Booking]:
    """Live bookings their specialist's schedule no longer offers, the booking itself ignored."""
    async with UnitOfWork(db, write=False) as uow:
        business = await uow.catalog.business()
        assert business is not None
        services = {s.id: s for s in await uow.catalog.services()}
        specialists = {s.id: s for s in await uow.catalog.specialists()}
        live = await uow.bookings.bookings(live_at=now)
    found = []
    for mine in live:
        specialist = specialists[mine.specialist]
        plan = Plan(specialist.schedule(business, [b for b in live if b.id != mine.id]))
        try:
            search.slot_at(plan, mine.start, now, business.rules, services[mine.service].duration)
        except search.Refusal:
            found.append(mine)
    return found


async def consistent(db: Database) -> None:
    """No live booking off the schedule, and the day index equal to the engine."""
    assert await broken(db) == []
    await assert_index_exact(db)


def book(specialist: str, start: datetime, telegram_id: int | None = None) -> Job:
    """A job: books a check-up, for a client on Telegram if an id is given."""
    client = Client(f"client {telegram_id}", "+49151000", telegram_id)
    return lambda db: bookings.book(db, NOW, specialist, "checkup", start, client)


def change(kind: str, specialist: str, day: date, **fields: Any) -> Job:
    """A job: an admin's schedule change."""
    asked = schedules.Change(kind, specialist, first=day, **fields)
    return lambda db: schedules.change(db, NOW, ADMIN, asked)


def hold(telegram_id: int, specialist: str, start: datetime) -> Job:
    """A job: a client on Telegram holds a slot."""
    return lambda db: bookings.hold(db, NOW, telegram_id, "checkup", specialist, start, HOLD)


async def loaded(db: Database, text: str | None = None) -> None:
    await import_clinic(db, clinic_file.read(text or clinic()), NOW)


async def streamed(db: Database, text: str) -> None:
    """Imports the clinic as `bookbot import` takes a JSON file: its bookings a chunk at a time."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clinic.json"
        path.write_text(json.dumps(clinic_file.document(clinic_file.read(text))), "utf-8")
        await import_file(db, path, NOW)


# -- a schedule change against a booking it closes -----------------------------------------

CLOSING = {
    "day off": lambda day: (schedules.DAY_OFF, day, {}),
    "vacation": lambda day: (
        schedules.VACATION,
        day - timedelta(days=1),
        {"last": day + timedelta(days=1)},
    ),
    "hours": lambda day: (schedules.HOURS, day, {"start": time(13), "end": time(17)}),
    "block": lambda day: (
        schedules.BLOCK,
        day,
        {"start": time(9, 30), "end": time(10, 30), "reason": "meeting"},
    ),
}


@pytest.mark.parametrize("kind", list(CLOSING))
async def test_a_schedule_change_and_a_booking_it_closes_never_both_apply(
    db: Database, kind: str
) -> None:
    await loaded(db)
    async with Racers(db.url, 2 * SPECIALISTS) as racers:
        for round_ in range(ROUNDS):
            jobs = []
            for i, day in enumerate(days(round_)):
                what, first, fields = CLOSING[kind](day)
                jobs += [change(what, f"s{i}", first, **fields), book(f"s{i}", at(day, 10))]
            results = await racers.run(jobs, round_)
            for changed, booked in zip(results[::2], results[1::2], strict=True):
                assert isinstance(changed, schedules.Outcome), changed
                if isinstance(booked, Booking):  # booked first: the change asks first
                    assert changed.pending is not None, kind
                    assert [h.booking.id for h in changed.displaced] == [booked.id]
                else:  # changed first: the booking is refused
                    assert booked.key in ("refused.not_offered", "refused.taken"), booked
                    assert changed.pending is None
    await consistent(db)


async def test_a_holiday_calendar_and_a_booking_on_a_holiday_never_both_apply(db: Database) -> None:
    await loaded(db)
    async with Racers(db.url, 2 * SPECIALISTS) as racers:
        for round_, day in enumerate(BAVARIAN_HOLIDAYS):
            jobs = []
            for i in range(SPECIALISTS):
                jobs += [
                    change(schedules.HOLIDAYS, f"s{i}", day, calendars=("DE-BY",)),
                    book(f"s{i}", at(day, 10)),
                ]
            results = await racers.run(jobs, round_)
            for changed, booked in zip(results[::2], results[1::2], strict=True):
                assert isinstance(changed, schedules.Outcome), changed
                assert (changed.pending is not None) == isinstance(booked, Booking)
            for i in range(SPECIALISTS):  # back to no holidays, for the next round
                await change(schedules.HOLIDAYS, f"s{i}", day, calendars=())(db)
    await consistent(db)


async def test_changes_to_one_schedule_at_once_are_all_kept(db: Database) -> None:
    await loaded(db)
    async with Racers(db.url, 3 * SPECIALISTS) as racers:
        jobs = [
            change(schedules.DAY_OFF, f"s{i}", WORKDAYS[3 * i + k])
            for i in range(SPECIALISTS)
            for k in range(3)
        ]
        results = await racers.run(jobs, 0)
    assert all(r.pending is None for r in results)
    exported = await export_clinic(db)
    for i, specialist in enumerate(exported.specialists):
        assert sorted(o.first for o in specialist.overrides) == WORKDAYS[3 * i : 3 * i + 3]
    await consistent(db)


def _in_a_process(url: str, jobs: list[tuple[str, str, date]], together: Any, results: Any) -> None:
    """Runs schedule changes or bookings one by one, each pair's two sides started together."""

    async def work() -> None:
        db = Database(url)
        await db.prepare()
        for kind, specialist, day in jobs:
            together.wait()  # the other process starts its side of the pair now too
            job = (
                book(specialist, at(day, 10))
                if kind == "book"
                else change(schedules.DAY_OFF, specialist, day)
            )
            try:
                found = await job(db)
                outcome = found.id if kind == "book" else found.pending
            except BookbotError as error:
                outcome = error.key
            except Exception as error:  # noqa: BLE001 - what would reach the user, shown
                outcome = repr(error)[:200]
            results.put((kind, specialist, day, outcome))
        await db.close()

    asyncio.run(work())


async def test_processes_racing_day_offs_and_bookings_leave_none_on_a_closed_day(
    db: Database,
) -> None:
    await loaded(db)
    pairs = [(f"s{i}", day) for day in WORKDAYS[:6] for i in range(SPECIALISTS)]
    spawn = multiprocessing.get_context("spawn")
    together, results = spawn.Barrier(2, timeout=120), spawn.Queue()
    workers = [
        spawn.Process(
            target=_in_a_process, args=(db.url, [(kind, s, d) for s, d in pairs], together, results)
        )
        for kind in ("book", "dayoff")
    ]
    for worker in workers:
        worker.start()
    found = {}
    for _ in range(2 * len(pairs)):
        kind, specialist, day, outcome = await asyncio.to_thread(results.get, timeout=180)
        found[kind, specialist, day] = outcome
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    for specialist, day in pairs:
        booked, pending = found["book", specialist, day], found["dayoff", specialist, day]
        if isinstance(booked, int):  # booked first: the day off asks first
            assert isinstance(pending, int), (specialist, day, pending)
        else:  # the day off first: the booking is refused
            assert (booked, pending) == ("refused.not_offered", None), (specialist, day)
    await consistent(db)


# -- imports, holds, cancellations ---------------------------------------------------------


@pytest.mark.parametrize("importing", [loaded, streamed], ids=["whole", "streamed"])
async def test_an_import_racing_bookings_shows_no_database_error(
    db: Database, importing: Callable[[Database, str], Awaitable[None]]
) -> None:
    await loaded(db)
    async with Racers(db.url, 1 + 2 * SPECIALISTS) as racers:
        for round_ in range(ROUNDS):
            day = days(round_)[0]
            lines = [
                f"  - {{specialist: s{i}, service: checkup, start: {day}T11:00}}"
                for i in range(SPECIALISTS)
            ]
            text = clinic(lines).replace("Specialist", f"Round {round_} specialist")
            jobs: list[Job] = [lambda db, text=text: importing(db, text)]
            for i in range(SPECIALISTS):
                jobs += [book(f"s{i}", at(day, 11)), book(f"s{i}", at(day, 12))]
            results = await racers.run(jobs, round_)
            imported, booked = results[0], results[1:]
            assert imported is None or imported.key == "error.invalid", imported
            assert all(isinstance(b, Booking) or b.key == "refused.taken" for b in booked)
            if imported is None:  # the file's bookings are there, or a racer's it matched
                starts = {(b.specialist, b.start) for b in await list_bookings(db) if b.live}
                assert all((f"s{i}", at(day, 11)) in starts for i in range(SPECIALISTS))
            await consistent(db)


async def test_a_large_first_import_racing_bookings_shows_no_database_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL: bookings racing a clinic's first load, which lifts the catalog's keys
    (store/import_stream.py), end as they would one at a time."""
    monkeypatch.setattr(clinic_service, "UNKEYED", 0)  # every file counts as large
    for round_ in range(ROUNDS):
        url = await new_postgres_database(migrated=True)
        db = Database(url)
        try:
            day = days(round_)[0]
            lines = [
                f"  - {{specialist: s{i}, service: checkup, start: {day}T11:00}}"
                for i in range(SPECIALISTS)
            ]
            text = clinic(lines)
            async with Racers(url, 1 + 2 * SPECIALISTS) as racers:
                jobs: list[Job] = [lambda db, text=text: streamed(db, text)]
                for i in range(SPECIALISTS):
                    jobs += [book(f"s{i}", at(day, 11)), book(f"s{i}", at(day, 12))]
                results = await racers.run(jobs, round_)
            imported, booked = results[0], results[1:]
            assert imported is None, imported
            early = "error.empty_database"  # before the clinic was there
            assert all(isinstance(b, Booking) or b.key in (early, "refused.taken") for b in booked)
            starts = {(b.specialist, b.start) for b in await list_bookings(db) if b.live}
            assert all((f"s{i}", at(day, 11)) in starts for i in range(SPECIALISTS))
            assert len(starts) == SPECIALISTS + sum(isinstance(b, Booking) for b in booked)
            await consistent(db)
        finally:
            await db.close()
            await drop_postgres_database(url)


async def test_bookings_made_while_a_clinic_s_first_large_load_writes_wait_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL: with the catalog's keys lifted, a read of the specialists waits for the
    import; bookings, which wait for it anyway, then find the file's slots taken and the
    others free."""
    monkeypatch.setattr(clinic_service, "UNKEYED", 0)
    written, go = asyncio.Event(), asyncio.Event()
    keys: list[str] = []
    add = ImportStream.add

    async def add_then_wait(stream: ImportStream, ready: Ready | None) -> None:
        await add(stream, ready)
        names = await stream.imports.session.scalars(
            text("SELECT conname FROM pg_constraint WHERE conrelid = 'bookings'::regclass")
        )
        keys.extend(names)
        written.set()
        await go.wait()

    monkeypatch.setattr(ImportStream, "add", add_then_wait)
    url = await new_postgres_database(migrated=True)
    db = Database(url)
    try:
        day = days(0)[0]
        lines = [
            f"  - {{specialist: s{i}, service: checkup, start: {day}T11:00}}"
            for i in range(SPECIALISTS)
        ]
        importing = asyncio.ensure_future(streamed(db, clinic(lines)))
        await written.wait()
        assert "bookings_specialist_id_fkey" not in keys  # lifted meanwhile
        reader = await asyncpg.connect(dsn(url))
        try:
            await reader.execute("SET lock_timeout = '200ms'")
            with pytest.raises(asyncpg.LockNotAvailableError):
                await reader.fetchval("SELECT count(*) FROM specialists")
        finally:
            await reader.close()
        async with Racers(url, 2 * SPECIALISTS) as racers:
            jobs = [book(f"s{i}", at(day, hour)) for i in range(SPECIALISTS) for hour in (11, 12)]
            booking = asyncio.ensure_future(racers.run(jobs, 0))
            await asyncio.sleep(0.5)
            assert not booking.done()  # waiting for the import
            go.set()
            await importing
            booked = await booking
        assert [b.key if isinstance(b, BookbotError) else b.start.hour for b in booked] == [
            "refused.taken",
            12,
        ] * SPECIALISTS
        await consistent(db)
    finally:
        go.set()
        await db.close()
        await drop_postgres_database(url)


async def test_holds_and_bookings_of_one_slot_leave_one(db: Database) -> None:
    await loaded(db)
    async with Racers(db.url, 3 * SPECIALISTS) as racers:
        for round_ in range(ROUNDS):
            jobs = []
            for i, day in enumerate(days(round_)):
                start = at(day, 10)
                jobs += [
                    hold(700 + i, f"s{i}", start),
                    hold(800 + i, f"s{i}", start),
                    book(f"s{i}", start),
                ]
            results = await racers.run(jobs, round_)
            for i in range(SPECIALISTS):
                won = [r for r in results[3 * i : 3 * i + 3] if not isinstance(r, BookbotError)]
                assert len(won) == 1, results[3 * i : 3 * i + 3]
    await consistent(db)


async def test_one_client_holding_two_slots_at_once_keeps_one_hold(db: Database) -> None:
    await loaded(db)
    async with Racers(db.url, 2 * SPECIALISTS) as racers:
        for round_ in range(ROUNDS):
            jobs = []
            for i, day in enumerate(days(round_)):
                other = f"s{(i + 1) % SPECIALISTS}"
                jobs += [hold(900 + i, f"s{i}", at(day, 14)), hold(900 + i, other, at(day, 15))]
            await racers.run(jobs, round_)
            for i in range(SPECIALISTS):
                held = await _live(db, 900 + i, BookingStatus.HELD)
                assert len(held) == 1, held
    await consistent(db)


async def test_a_reschedule_and_cancellations_of_its_booking_cancel_it_once(db: Database) -> None:
    await loaded(db)
    async with Racers(db.url, 3 * SPECIALISTS) as racers:
        for round_ in range(ROUNDS):
            jobs: list[Job] = []
            old: list[int] = []
            for i, day in enumerate(days(round_)):
                client = 1000 + 10 * round_ + i
                await remember(db, Profile(client, f"client {client}", "+49151000"))
                mine = await book(f"s{i}", at(day, 10), client)(db)
                await bookings.reschedule(db, NOW, client, mine.id)
                new = await hold(client, f"s{(i + 1) % SPECIALISTS}", at(day, 14))(db)
                old.append(mine.id)
                jobs += [
                    lambda db, c=client, b=new.booking.id: bookings.confirm(
                        db, NOW, b, client=c, policy=POLICY
                    ),
                    lambda db, c=client, b=mine.id: bookings.cancel(db, NOW, b, "client", client=c),
                    lambda db, b=mine.id: bookings.cancel(db, NOW, b, reason="closed"),
                ]
            results = await racers.run(jobs, round_)
            for i, booking_id in enumerate(old):
                confirmed, *cancels = results[3 * i : 3 * i + 3]
                assert isinstance(confirmed, Visit)  # the new time is kept either way
                assert sum(not isinstance(c, BookbotError) for c in cancels) <= 1
                assert await _notices(db, booking_id) == 1
    await consistent(db)


async def test_a_hold_sweeps_holds_that_ran_out_and_a_lapsed_hold_cannot_be_confirmed(
    db: Database,
) -> None:
    await loaded(db)
    day = WORKDAYS[0]
    async with Racers(db.url, 2 * SPECIALISTS) as racers:
        held = [await hold(1200 + i, f"s{i}", at(day, 9))(db) for i in range(SPECIALISTS)]
        later = NOW + HOLD + timedelta(minutes=1)
        jobs: list[Job] = []
        for i, found in enumerate(held):
            jobs += [
                lambda db, c=1200 + i, b=found.booking.id: bookings.confirm(
                    db, NOW, b, client=c, policy=POLICY
                ),
                lambda db, c=1300 + i, s=f"s{(i + 1) % SPECIALISTS}": bookings.hold(
                    db, later, c, "checkup", s, at(day, 11), HOLD
                ),
            ]
        results = await racers.run(jobs, 0)
    for i, confirmed in enumerate(results[::2]):
        status = [
            b.status
            for b in await list_bookings(db, specialist=f"s{i}")
            if b.client and b.client.telegram_id == 1200 + i
        ]
        if isinstance(confirmed, Visit):  # confirmed first: the sweep leaves it be
            assert status == [BookingStatus.CONFIRMED]
        else:  # swept first: the hold ran out, and confirming it is refused
            assert confirmed.key in ("refused.hold_lost", "refused.not_held")
            assert status == [BookingStatus.EXPIRED]
    async with UnitOfWork(db, write=False) as uow:
        assert await uow.days.lapsed_holds(later) == set()
    await consistent(db)


async def _live(db: Database, telegram_id: int, status: BookingStatus) -> list[Booking]:
    async with UnitOfWork(db, write=False) as uow:
        return [
            b
            for b in await uow.bookings.bookings(client=telegram_id, live_at=NOW)
            if b.status == status
        ]


async def _notices(db: Database, booking_id: int) -> int:
    """How many cancellation notices a booking owes (to its client or its specialist)."""
    async with UnitOfWork(db, write=False) as uow:
        return await uow.session.scalar(
            select(func.count())
            .select_from(OutboxRow)
            .where(
                OutboxRow.booking_id == booking_id,
                OutboxRow.kind.in_((CANCELLED_BY_CLIENT, CANCELLED_FOR_CLIENT)),
            )
        )


# -- the locks and the retries themselves (PostgreSQL: SQLite's writers take turns at BEGIN) -


@pytest.fixture
async def pg() -> AsyncIterator[Database]:
    """A fresh PostgreSQL database with the schema."""
    url = await new_postgres_database()
    database = Database(url)
    await database.prepare()
    yield database
    await database.close()
    await drop_postgres_database(url)


async def test_a_conflict_runs_the_use_case_again_then_says_busy(pg: Database) -> None:
    runs: list[int] = []

    @retried
    async def use_case(failing: int) -> int:
        runs.append(1)
        async with UnitOfWork(pg) as uow:
            if len(runs) <= failing:  # what PostgreSQL says of a serialization failure
                await uow.session.execute(
                    text("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$")
                )
            return len(runs)

    assert await use_case(2) == 3
    runs.clear()
    with pytest.raises(BookbotError) as caught:
        await use_case(ATTEMPTS)
    assert (caught.value.key, len(runs)) == ("conflict.busy", ATTEMPTS)
    assert "try again" in i18n.text("conflict.busy", "en")


async def test_a_deadlock_is_run_again_not_shown(pg: Database) -> None:
    holding = [asyncio.Event(), asyncio.Event()]
    runs: list[str] = []

    racers = [Database(pg.url), Database(pg.url)]

    @retried
    async def crosswise(first: int, second: int, me: int) -> None:
        runs.append("run")
        async with UnitOfWork(racers[me]) as uow:
            await uow.session.execute(text("SET LOCAL deadlock_timeout = '20ms'"))
            await uow.session.execute(text(f"SELECT pg_advisory_xact_lock({first})"))
            holding[me].set()
            await holding[1 - me].wait()  # each holds one lock and asks for the other's
            await uow.session.execute(text(f"SELECT pg_advisory_xact_lock({second})"))
            await uow.commit()

    try:
        await asyncio.wait_for(asyncio.gather(crosswise(1, 2, 0), crosswise(2, 1, 1)), 60)
    finally:
        for racer in racers:
            await racer.close()
    assert len(runs) == 3  # one of the two was broken off and ran again


async def test_a_lock_out_of_order_is_only_tried(pg: Database) -> None:
    low, high = sorted(("x0", "x1"), key=lambda s: lock_key("specialist", s))
    other = Database(pg.url)
    try:
        async with UnitOfWork(pg) as late:
            await late.lock(specialists=[high])
            await late.lock(specialists=[low])  # nobody holds it: taken at once
        async with UnitOfWork(other) as holder:
            await holder.lock(specialists=[low])
            async with UnitOfWork(pg) as late:
                await late.lock(specialists=[high])
                with pytest.raises(OutOfOrder):  # waiting could close a circle: start over
                    await asyncio.wait_for(late.lock(specialists=[low]), 30)
    finally:
        await other.close()


async def test_a_lock_reads_the_stamp_committed_while_it_waited(pg: Database) -> None:
    await import_clinic(pg, clinic_file.read(clinic()), NOW)
    other = Database(pg.url)
    try:
        async with UnitOfWork(other) as holder:
            await holder.lock_business()
            await holder.session.execute(text("UPDATE businesses SET stamp = 'changed'"))
            async with UnitOfWork(pg) as waiter:
                waiting = asyncio.ensure_future(waiter.lock(specialists=["s0"]))
                await asyncio.sleep(0.3)
                assert not waiting.done()  # the business is locked exclusively
                await holder.commit()
                await asyncio.wait_for(waiting, 30)
                # Read after the lock was granted, not with the snapshot of before it.
                assert waiter.catalog.stamp == "changed"
    finally:
        await other.close()


async def test_the_database_makes_writers_outside_the_locks_take_turns_on_one_specialist(
    pg: Database,
) -> None:
    await import_clinic(pg, clinic_file.read(clinic()), NOW)
    first, second = await asyncpg.connect(dsn(pg.url)), await asyncpg.connect(dsn(pg.url))
    insert = (
        "INSERT INTO bookings (specialist_id, service_id, start_at, end_at, status, created_at)"
        " VALUES ('s0', 'checkup', $1, $2, 'confirmed', now())"
    )
    day = datetime(2026, 12, 2, tzinfo=UTC)
    try:
        async with first.transaction():
            await first.execute(insert, day.replace(hour=9), day.replace(hour=10))
            # No advisory lock: the database's own guard makes the second one wait.
            waiting = asyncio.ensure_future(
                second.execute(
                    insert, day.replace(hour=9, minute=30), day.replace(hour=10, minute=30)
                )
            )
            await asyncio.sleep(0.3)
            assert not waiting.done()
        with pytest.raises(asyncpg.ExclusionViolationError) as caught:
            await asyncio.wait_for(waiting, 30)
        assert caught.value.constraint_name == "bookings_no_overlap"
        # Touching bookings, and one written beside a cancelled overlap, are kept.
        await second.execute(insert, day.replace(hour=10), day.replace(hour=11))
        await second.execute(
            "UPDATE bookings SET status = 'cancelled' WHERE start_at = $1", day.replace(hour=9)
        )
        await first.execute(insert, day.replace(hour=9, minute=30), day.replace(hour=10))
        with pytest.raises(asyncpg.ExclusionViolationError):  # a move onto another booking
            await first.execute(
                "UPDATE bookings SET start_at = $1, end_at = $2 WHERE start_at = $3",
                day.replace(hour=10, minute=30),
                day.replace(hour=11),
                day.replace(hour=9, minute=30),
            )
        with pytest.raises(asyncpg.ExclusionViolationError):  # no length
            await first.execute(insert, day.replace(hour=12), day.replace(hour=12))
    finally:
        await first.close()
        await second.close()
    kept = await list_bookings(pg, specialist="s0")
    assert [b.start.astimezone(UTC).strftime("%H:%M") for b in kept if b.live] == [
        "09:30",
        "10:00",
    ]
