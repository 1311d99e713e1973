"""The day index on real SQLite and PostgreSQL: always equal to the engine, and its answers too.

A random walk of bookings, holds, expiries, cancellations and schedule edits checks, after
every step, each indexed day against a fresh engine computation; then every question the
index answers (next --each, the search page, holes, slots, the "any available" calendar)
is compared with the engine's answer over all the specialists and their bookings. A
directory of a few hundred specialists pages the search through many batches at midday,
when notice has passed most of today's first free slots.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from msgspec.structs import replace
from sqlalchemy import delete, event, insert, update

from bookbot import clinic_file
from bookbot.cli import main
from bookbot.engine import search
from bookbot.engine.intervals import absolute
from bookbot.engine.model import (
    Block,
    Booking,
    BookingStatus,
    Business,
    Hours,
    Override,
    OverrideType,
    Rules,
    Service,
    Specialist,
    WeeklyEntry,
)
from bookbot.engine.summary import BUCKET, EPOCH
from bookbot.engine.workday import Plan
from bookbot.errors import Refused
from bookbot.services import availability, directory
from bookbot.services import bookings as booking_uses
from bookbot.services.clinic import import_clinic
from bookbot.services.reindex import reindex
from bookbot.store import dayindex
from bookbot.store.dayindex.rows import decode
from bookbot.store.dayindex.rows import spans as microsecond_holes
from bookbot.store.db import Database
from bookbot.store.tables import DayRow, DaySpanRow
from bookbot.store.uow import UnitOfWork

DIRECTORY = """
timezone: Europe/Berlin
min_notice: 30m
horizon_days: 21
holidays: DE-BY
services:
  - {id: checkup, name: Check-up}
  - {id: hygiene, name: Hygiene, duration: 90m}
specialists:
  - id: ann
    name: Dr. Ann Weber
    services: [checkup, hygiene]
    weekly:
      - {days: [mon, tue, wed], start: "09:00", end: "13:00", slot: 30m, break_after: 10m}
      - {days: [thu], start: "14:00", end: "18:00", slot: 1h}
      - {days: [fri], times: ["08:00", "08:30", "10:30"], slot: 30m}
    overrides:
      - {date: 2026-12-08, type: day_off}
      - {date: 2026-12-09, type: custom_hours, start: "10:00", end: "12:00", slot: 30m}
    blocks:
      - {start: 2026-12-01T12:00, end: 2026-12-01T13:00, reason: team meeting}
  - id: ben
    name: Ben Keller
    timezone: America/New_York
    holidays: none
    services: [checkup]
    weekly:
      - {days: [mon, tue, wed, thu, fri], start: "08:00", end: "12:00", slot: 1h}
    overrides:
      - {date: 2026-12-02, type: extra_slots, times: ["23:30"], slot: 1h}
  - id: cat
    name: Cat Tanaka
    timezone: Asia/Tokyo
    services: [checkup, hygiene]
    weekly:
      - {days: [sat, sun, mon], start: "10:00", end: "16:00", slot: 45m, break_after: 15m}
    overrides:
      - {from: 2026-12-12, to: 2026-12-14, type: vacation}
  - id: dan
    name: Dan Berg
    services: [hygiene]
    weekly:
      - {days: [mon, wed, fri], start: "08:00", end: "15:30", slot: 90m}
  - id: eve
    name: Eve Long
    services: [checkup, hygiene]
    weekly:
      - {days: [tue, thu], start: "09:00", end: "17:00", slot: 2h}
bookings:
  - {specialist: ann, service: checkup, start: 2026-12-01T09:00}
  - {specialist: dan, service: hygiene, start: 2026-11-30T09:30}
  - {specialist: eve, service: checkup, start: 2026-12-01T11:00}
"""

NOW = datetime.fromisoformat("2026-11-30T08:00:00+01:00")  # a Monday morning in Berlin
LONG_AGO = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
OPEN = Rules(min_notice=timedelta(0), horizon_days=40_000)  # limits nothing
IDS = ["ann", "ben", "cat", "dan", "eve"]


async def assert_index_exact(db: Database) -> None:
    """Every indexed day of every specialist equals the engine's answer from the store."""
    async with UnitOfWork(db, write=False) as uow:
        business = await uow.catalog.current_business()
        assert business is not None
        specialists = await uow.catalog.current(await uow.days.specialists())
        ids = [s.id for s in specialists]
        spans = await uow.days.spans(ids)
        rows = await uow.days.rows(ids)
        bookings = await uow.bookings.bookings()
    assert set(spans) == set(ids)
    for specialist in specialists:
        plan = Plan(specialist.schedule(business, bookings))  # held counts until expired
        span = spans[specialist.id]
        for day in search.dates(span.first, span.last):
            holes = search.holes([plan], day, day, LONG_AGO, OPEN, timedelta.resolution)
            free = search.day_slots(plan, day, LONG_AGO, OPEN)
            row = rows.pop((specialist.id, day), None)
            where = f"{specialist.id} {day}"
            if not holes:
                assert row is None, where
                continue
            assert row is not None, where
            expected = tuple((absolute(h.start), absolute(h.end)) for h in holes)
            assert decode(row["holes"]) == expected, where
            assert microsecond_holes(row["holes"]) == (
                [search.microseconds(start) for start, _ in expected],
                [search.microseconds(end) for _, end in expected],
            ), where
            assert row["free_minutes"] == sum(
                (end - start for start, end in expected), timedelta(0)
            ) // timedelta(minutes=1)
            assert row["longest_hole_minutes"] == max(
                end - start for start, end in expected
            ) // timedelta(minutes=1)
            assert (row["free_slots"], row["first_free"]) == (
                len(free),
                absolute(free[0].start) if free else None,
            ), where
            assert (row["free_base"], row["free_mask"]) == start_mask(free), where
            assert row["weekday"] == day.weekday()
    assert rows == {}  # nothing stored outside the spans


def start_mask(free: list) -> tuple[int | None, int]:
    """The 30-minute buckets holding a free start, as bits from the first one's (62: later)."""
    numbers = [(absolute(slot.start) - EPOCH) // BUCKET for slot in free]
    if not numbers:
        return None, 0
    return numbers[0], sum({1 << min(n - numbers[0], 62) for n in numbers})


async def live_bookings(db: Database) -> list:
    async with UnitOfWork(db, write=False) as uow:
        return [b for b in await uow.bookings.bookings() if b.live]


async def edit(db: Database, specialist: str, change) -> None:  # type: ignore[no-untyped-def]
    """Saves one specialist changed by `change`, as an admin command would."""
    async with UnitOfWork(db) as uow:
        before = await uow.catalog.specialist(specialist)
        assert before is not None
        position = (await uow.catalog.positions())[specialist]
        await uow.catalog.save_specialist(change(before), position)
        await uow.commit()


def at(day: date, hour: int, tz: str = "Europe/Berlin") -> datetime:
    from bookbot.engine.workday import zone

    return datetime.combine(day, time(hour), zone(tz))


def test_holes_read_as_microseconds_keep_every_microsecond() -> None:
    assert microsecond_holes("") == ([], [])
    assert microsecond_holes("60-120;180-240") == (
        [60_000_000, 180_000_000],
        [120_000_000, 240_000_000],
    )
    assert microsecond_holes("60.000001-120;180-240.500000") == (
        [60_000_001, 180_000_000],
        [120_000_000, 240_500_000],
    )


async def test_random_changes_keep_the_index_equal_to_the_engine(db: Database) -> None:
    rng = random.Random(6)
    clinic = clinic_file.read(DIRECTORY)
    await import_clinic(db, clinic, NOW)
    await assert_index_exact(db)
    now = NOW
    first = NOW.date()

    async def book(hold: bool) -> None:
        who = rng.choice(IDS)
        service = rng.choice(
            [s for s in ("checkup", "hygiene") if s in clinic.specialists[IDS.index(who)].services]
        )
        day = first + timedelta(days=rng.randrange(12))
        offered = await availability.free_slots(db, now, day, day, service=service, specialist=who)
        if offered:
            await booking_uses.book(
                db,
                now,
                who,
                service,
                rng.choice(offered).start,
                hold=timedelta(minutes=10) if hold else None,
            )

    async def cancel() -> None:
        found = await live_bookings(db)
        if found:
            await booking_uses.cancel(db, now, rng.choice(found).id, reason="random")

    async def confirm() -> None:
        held = [b for b in await live_bookings(db) if b.status == BookingStatus.HELD]
        if held:
            try:
                await booking_uses.confirm(db, now, rng.choice(held).id)
            except Refused:
                pass

    async def expire() -> None:
        nonlocal now
        now += timedelta(minutes=11)  # every hold made before runs out
        async with UnitOfWork(db) as uow:
            await uow.bookings.expire_holds(now)
            await uow.commit()

    async def override() -> None:
        day = first + timedelta(days=rng.randrange(14))
        kind = rng.choice(list(OverrideType))
        hours = {
            OverrideType.CUSTOM_HOURS: Hours(timedelta(minutes=30), time(7), time(10)),
            OverrideType.EXTRA_SLOTS: Hours(timedelta(minutes=60), times=(time(19), time(23))),
        }.get(kind)
        added = Override(kind, day, day + timedelta(days=rng.randrange(3)), hours)
        await edit(
            db,
            rng.choice(IDS),
            lambda s: replace(
                s,
                overrides=(s.overrides[1:] if s.overrides and rng.random() < 0.4 else s.overrides)
                + (added,),
            ),
        )

    async def block() -> None:
        who = rng.choice(IDS)
        start = at(first + timedelta(days=rng.randrange(10)), rng.randrange(7, 16))
        await edit(
            db,
            who,
            lambda s: replace(
                s,
                blocks=(s.blocks[1:] if s.blocks and rng.random() < 0.4 else s.blocks)
                + (Block(start, start + timedelta(minutes=rng.choice((30, 90)))),),
            ),
        )

    async def template() -> None:
        entry = WeeklyEntry(
            frozenset(rng.sample(range(7), 3)),
            Hours(timedelta(minutes=rng.choice((30, 60))), time(rng.randrange(7, 12)), time(17)),
        )
        await edit(db, rng.choice(IDS), lambda s: replace(s, weekly=s.weekly[-1:] + (entry,)))

    async def holidays() -> None:
        await edit(
            db,
            rng.choice(IDS),
            lambda s: replace(s, holidays=rng.choice([None, (), ("DE-BY",), ("US-NY",)])),
        )

    async def business() -> None:
        async with UnitOfWork(db) as uow:
            found = await uow.catalog.business()
            assert found is not None
            await uow.catalog.save_business(
                replace(
                    found,
                    holidays=rng.choice([(), ("DE-BY",), ("DE-SN", "IL")]),
                    timezone=rng.choice(["Europe/Berlin", "Europe/Lisbon"]),
                )
            )
            await uow.commit()

    async def imported() -> None:
        who = rng.choice(["ann", "ben"])
        day = first + timedelta(days=rng.randrange(1, 10))
        offered = await availability.free_slots(db, now, day, day, specialist=who)
        if offered:
            slot = rng.choice(offered)
            added = replace(
                clinic, bookings=clinic.bookings + (Booking(who, "checkup", slot.start, slot.end),)
            )
            await import_clinic(db, added, now)

    async def hold() -> None:
        await book(hold=True)

    async def confirmed() -> None:
        await book(hold=False)

    steps = [
        confirmed,
        confirmed,
        hold,
        hold,
        cancel,
        confirm,
        expire,
        expire,
        override,
        block,
        template,
        holidays,
        business,
        imported,
    ]
    for _ in range(60):
        await rng.choice(steps)()
        await assert_index_exact(db)


async def test_an_index_settled_a_specialist_at_a_time_is_exact(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL each chunk is written while the next is computed: none is lost or mixed."""
    monkeypatch.setattr(dayindex, "CHUNK", 1)
    clinic = clinic_file.read(DIRECTORY)
    assert len(clinic.specialists) > 2  # three chunks or more
    await import_clinic(db, clinic, NOW)
    await assert_index_exact(db)
    await reindex(db, NOW + timedelta(days=1))
    await assert_index_exact(db)


async def test_concurrent_bookings_of_one_day_leave_it_exact(db: Database) -> None:
    # On PostgreSQL each writer computes the day from what it sees; settling locks the
    # specialist, so the last writer sees the others' bookings.
    await import_clinic(db, clinic_file.read(DIRECTORY), NOW)
    day = NOW.date() + timedelta(days=2)
    offered = await availability.free_slots(db, NOW, day, day, specialist="ann")
    racers = [Database(db.url) for _ in offered]
    try:
        await asyncio.gather(
            *(
                booking_uses.book(racer, NOW, "ann", "checkup", slot.start)
                for racer, slot in zip(racers, offered, strict=True)
            )
        )
    finally:
        for racer in racers:
            await racer.close()
    assert await availability.free_slots(db, NOW, day, day, specialist="ann") == []
    await assert_index_exact(db)


# -- answers from the index equal the engine's ------------------------------------------


async def engine_context(db: Database, now: datetime, service: str) -> availability.Context:
    """Every specialist of the service with their live bookings: the engine's whole view."""
    async with UnitOfWork(db, write=False) as uow:
        return await availability.context(uow, now, service=service)


def engine_page(ctx: availability.Context, now: datetime) -> list:
    """The search page's order by the engine: soonest slot, then id; none last, by id."""
    results = search.soonest_days(
        ctx.plans, now, ctx.business.rules, None, availability.duration(ctx)
    )
    found = sorted(
        (r for r in results if r.slots), key=lambda r: (absolute(r.slots[0].start), r.specialist)
    )
    return found + sorted((r for r in results if not r.slots), key=lambda r: r.specialist)


def engine_holes(
    ctx: availability.Context,
    now: datetime,
    first: date,
    last: date,
    weekdays: frozenset[int] | None,
    least: timedelta | None,
) -> list:
    found = []
    for plan in ctx.plans:
        length = least or availability.duration(ctx) or search.shortest_slot(plan)
        found += search.holes([plan], first, last, now, ctx.business.rules, length, weekdays)
    return sorted(found, key=search.slot_order)


def engine_month(ctx: availability.Context, now: datetime, shown: date | None) -> tuple:
    rules, length = ctx.business.rules, availability.duration(ctx)
    first = min(plan.today(now) for plan in ctx.plans)
    soonest = min(
        (r.day for r in search.soonest_days(ctx.plans, now, rules, None, length) if r.day),
        default=None,
    )
    shown = (shown or soonest or first).replace(day=1)
    following = (shown + timedelta(days=31)).replace(day=1)
    days = set(
        search.free_days(ctx.plans, shown, following - timedelta(days=1), now, rules, length)
    )
    return shown, first, first + timedelta(days=rules.horizon_days), days, soonest


async def assert_answers_equal(db: Database, now: datetime) -> None:
    """Each question answered from the index equals the engine's answer, for both services."""
    for service in ("checkup", "hygiene"):
        ctx = await engine_context(db, now, service)
        rules, length = ctx.business.rules, availability.duration(ctx)
        assert await directory.soonest_days(db, now, service) == search.soonest_days(
            ctx.plans, now, rules, None, length
        )
        later = now.date() + timedelta(days=9)
        assert await directory.soonest_days(db, now, service, later) == search.soonest_days(
            ctx.plans, now, rules, later, length
        )
        page = engine_page(ctx, now)
        for limit, offset in ((1, 0), (2, 0), (2, 2), (3, 1), (20, 0)):
            found = await directory.search_page(db, now, service, limit, offset)
            assert [f.result for f in found] == page[offset : offset + limit]
        assert await directory.soonest_slot(db, now, service) == search.soonest_slot(
            ctx.plans, now, rules, None, length
        )
        assert await directory.soonest_slot(db, now, service, later) == search.soonest_slot(
            ctx.plans, now, rules, later, length
        )
        first, last = now.date() - timedelta(days=2), now.date() + timedelta(days=30)
        for weekdays, least in (
            (None, None),
            (frozenset({0, 2}), timedelta(minutes=90)),
            (frozenset({1}), timedelta(minutes=20)),
        ):
            assert await directory.holes(
                db, now, service, first, last, weekdays=weekdays, least=least
            ) == engine_holes(ctx, now, first, last, weekdays, least)
        assert await directory.free_slots(db, now, service, first, last) == search.slots(
            ctx.plans, first, last, now, rules, length
        )
        starts = {
            slot.start
            for slot in search.slots(
                ctx.plans, first, first + timedelta(days=4), now, rules, length
            )
        }
        starts |= {at(now.date() + timedelta(days=1), 10, "Asia/Tokyo"), now}
        for start in sorted(starts, key=absolute)[::3]:
            async with UnitOfWork(db, write=False) as uow:
                free = await directory.free_at(uow, now, service, start)
            assert free == sorted(
                plan.specialist
                for plan in ctx.plans
                if start
                in {
                    s.start
                    for s in search.day_slots(plan, plan.local(start).date(), now, rules, length)
                }
            )
        for shown in (None, (now + timedelta(days=25)).date()):
            month = await availability.month(db, now, service, availability.ANY, shown)
            assert (month.shown, month.first, month.last, month.days, month.soonest) == (
                engine_month(ctx, now, shown)
            )


@pytest.mark.parametrize("hours", [0, 5, 11, 30, 24 * 12, -24 * 3])
async def test_answers_from_the_index_equal_the_engine(db: Database, hours: int) -> None:
    # Morning, midday (notice cuts into today), evening, the next day, past the spans
    # (their ends are asked of the engine), and before the spans began.
    await import_clinic(db, clinic_file.read(DIRECTORY), NOW)
    now = NOW
    for who, day, hour in (("ann", 2, 11), ("cat", 6, 11), ("dan", 2, 8), ("eve", 1, 9)):
        await booking_uses.book(
            db,
            now,
            who,
            "hygiene" if who == "dan" else "checkup",
            at(
                NOW.date() + timedelta(days=day),
                hour,
                "Asia/Tokyo" if who == "cat" else "Europe/Berlin",
            ),
        )
    await assert_answers_equal(db, NOW + timedelta(hours=hours))


async def test_next_each_follows_bookings_and_the_clock_in_one_process(db: Database) -> None:
    # One process keeps each plan's candidates and the slots the last holes gave: a row
    # changed by a booking, or notice passing a candidate, must give new slots.
    await import_clinic(db, clinic_file.read(DIRECTORY), NOW)
    rng = random.Random(15)
    plans = None
    for step in range(12):
        now = NOW + timedelta(minutes=35 * step)
        for service in ("checkup", "hygiene"):
            ctx = await engine_context(db, now, service)
            expected = search.soonest_days(
                ctx.plans, now, ctx.business.rules, None, availability.duration(ctx)
            )
            assert await directory.soonest_days(db, now, service) == expected, (step, service)
        async with UnitOfWork(db, write=False) as uow:
            kept = await uow.catalog.plans("checkup")
        assert plans is None or kept is plans  # the same plans: what they keep is asked
        plans = kept
        dated = [r for r in expected if r.slots]
        if dated and step % 3 != 2:  # else only the clock moves
            slot = rng.choice(rng.choice(dated).slots)
            await booking_uses.book(db, now, slot.specialist, service, slot.start)


async def test_lapsed_holds_and_missing_spans_are_asked_of_the_engine(db: Database) -> None:
    await import_clinic(db, clinic_file.read(DIRECTORY), NOW)
    held = await booking_uses.book(
        db, NOW, "ben", "checkup", at(NOW.date(), 8, "America/New_York"), hold=timedelta(minutes=10)
    )
    assert held.status == BookingStatus.HELD
    await assert_answers_equal(db, NOW + timedelta(minutes=20))  # the hold ran out, unmarked
    async with UnitOfWork(db) as uow:
        await uow.session.execute(delete(DaySpanRow).where(DaySpanRow.specialist_id == "cat"))
        await uow.commit()
    await assert_answers_equal(db, NOW + timedelta(minutes=20))
    await reindex(db, NOW + timedelta(days=3))
    await assert_index_exact(db)
    await assert_answers_equal(db, NOW + timedelta(days=3, hours=2))


def test_search_and_reindex_on_the_command_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "directory.yaml"
    path.write_text(DIRECTORY)
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    now = NOW.isoformat()
    assert main(["import", str(path), "--db", url, "--now", now]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "search",
                "--service",
                "hygiene",
                "--limit",
                "2",
                "--offset",
                "1",
                "--json",
                "--db",
                url,
                "--now",
                now,
            ]
        )
        == 0
    )
    page = json.loads(capsys.readouterr().out)
    # ann is free at 09:00 on Monday (skipped), dan at 11:00 (09:30 is booked), eve on Tuesday.
    assert [(p["specialist"], p["name"], p["date"]) for p in page] == [
        ("dan", "Dan Berg", "2026-11-30"),
        ("eve", "Eve Long", "2026-12-01"),
    ]
    assert page[0]["slots"][0] == {
        "start": "2026-11-30T11:00:00+01:00",
        "end": "2026-11-30T12:30:00+01:00",
    }
    assert main(["reindex", "--json", "--db", url, "--now", now]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {"reindexed": 5}
    assert "5 of 5" in err
    assert main(["search", "--service", "checkup", "--limit", "x", "--db", url]) == 2


async def test_a_month_of_any_available_takes_a_few_statements(db: Database) -> None:
    # The bot asks on every tap of "Any available": not one statement per date.
    await import_clinic(db, clinic_file.read(DIRECTORY), NOW)
    shown = (NOW + timedelta(days=25)).date()
    await directory.calendar(db, NOW, "checkup", None)  # reads the catalog once
    statements: list[str] = []

    def count(*_: object) -> None:
        statements.append("")

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        month = await directory.calendar(db, NOW, "checkup", shown)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    ctx = await engine_context(db, NOW, "checkup")
    assert (month.shown, month.first, month.last, month.days, month.soonest) == engine_month(
        ctx, NOW, shown
    )
    assert len(month.days) > 10
    assert len(statements) <= 8


def crowd(count: int, seed: int = 6) -> clinic_file.Clinic:
    """A directory of many alike specialists, most in Europe, half their slots booked."""
    rng = random.Random(seed)
    business = Business("Europe/Berlin", Rules(timedelta(minutes=30), 14), ())
    zones = (None, "Europe/London", None, "Europe/London", "America/New_York", "Asia/Tokyo")
    specialists, bookings = [], []
    for n in range(count):
        length, start = rng.choice((30, 45, 60)), rng.randrange(7 * 60, 9 * 60, 15)
        end = start + 8 * length
        one = Specialist(
            f"p{n:03d}",
            f"P {n:03d}",
            ("checkup",),
            (
                WeeklyEntry(
                    frozenset(rng.sample(range(7), 5)),
                    Hours(
                        timedelta(minutes=length),
                        time(start // 60, start % 60),
                        time(end // 60, end % 60),
                    ),
                ),
            ),
            timezone=zones[n % len(zones)],
            holidays=(),
        )
        specialists.append(one)
        plan = Plan(one.schedule(business))
        for day in search.dates(plan.today(NOW), plan.today(NOW) + timedelta(days=3)):
            candidates = plan.work_day(day).candidates
            bookings += [
                Booking(one.id, "checkup", plan.local(c.start), plan.local(c.start + c.slot))
                for c in rng.sample(candidates, len(candidates) // 2)
                if c.start > NOW
            ]
    return clinic_file.Clinic(
        business, (Service("checkup", "Check-up"),), tuple(specialists), tuple(bookings)
    )


async def assert_pages_equal(db: Database, now: datetime) -> None:
    """Search pages deep into a crowd equal the engine's order at `now`."""
    page = engine_page(await engine_context(db, now, "checkup"), now)
    for limit, offset in ((20, 0), (1, 0), (20, 40), (20, 70), (20, 100), (150, 130)):
        found = await directory.search_page(db, now, "checkup", limit, offset)
        assert [f.result for f in found] == page[offset : offset + limit], (now, offset)
    assert await directory.soonest_slot(db, now, "checkup") == page[0].slots[0]


async def test_the_search_page_at_midday_reads_passed_days_in_batches(db: Database) -> None:
    # Hundreds of today's rows have a first free slot that notice passed: more than a batch.
    await import_clinic(db, crowd(300), NOW)
    await assert_index_exact(db)
    for hours in (4, 5.25, 9, 14):
        await assert_pages_equal(db, NOW + timedelta(hours=hours))
    async with UnitOfWork(db) as uow:  # rows kept before the masks: unknown, still exact
        await uow.session.execute(
            update(DayRow)
            .where(DayRow.specialist_id < "p150")
            .values(free_base=None, free_mask=None)
        )
        await uow.commit()
    await assert_pages_equal(db, NOW + timedelta(hours=5.25))
    await reindex(db, NOW)
    await assert_index_exact(db)


async def test_reindex_mends_rows_that_differ_are_missing_or_left_over(db: Database) -> None:
    """Reindex writes only the rows that differ: each kind of stale row is found and mended."""
    await import_clinic(db, clinic_file.read(DIRECTORY), NOW)
    async with UnitOfWork(db) as uow:
        spans = await uow.days.spans(IDS)
        rows = await uow.days.rows(IDS)
        changed, missing = sorted(rows)[:2]
        span = spans["ann"]
        free_dates = {day for specialist, day in rows if specialist == "ann"}
        unfree = next(d for d in search.dates(span.first, span.last) if d not in free_dates)
        await uow.session.execute(
            update(DayRow)
            .where(DayRow.specialist_id == changed[0], DayRow.day == changed[1])
            .values(free_minutes=1, holes="0-60")
        )
        await uow.session.execute(
            delete(DayRow).where(DayRow.specialist_id == missing[0], DayRow.day == missing[1])
        )
        left_over = {**rows[changed], "specialist_id": "ann", "day": unfree}
        left_over["weekday"] = unfree.weekday()
        await uow.session.execute(insert(DayRow).values(left_over))
        await uow.commit()
    with pytest.raises(AssertionError):
        await assert_index_exact(db)
    await reindex(db, NOW)
    await assert_index_exact(db)
