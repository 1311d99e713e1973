"""The day index of a chain: exact after changes by place, and its answers by place the engine's.

Each question asked at one location, or near a point, from the index equals the engine's
answer over the plans that count only those places' windows, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from msgspec.structs import replace

from bookbot import clinic_file
from bookbot.engine import places, search
from bookbot.engine.model import Business
from bookbot.engine.places import Where
from bookbot.engine.workday import Plan
from bookbot.services import availability, directory
from bookbot.services import bookings as booking_uses
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork
from tests.clinics import CHAIN
from tests.store.test_day_index import (
    NOW,
    assert_index_exact,
    at,
    engine_context,
    engine_month,
    live_bookings,
)

ALEXANDERPLATZ = (52.5219, 13.4132)
SALZBURG = (47.8, 13.04)
# Spandau works on 15 December at Mitte too, touching its own Spandau morning.
DATED = CHAIN.replace(
    '      - {days: [thu], start: "11:00", end: "12:00", slot: 30m}\n',
    '      - {days: [thu], start: "11:00", end: "12:00", slot: 30m}\n'
    "    overrides:\n"
    "      - {date: 2026-12-15, type: custom_hours, start: '08:00', end: '10:00', slot: 30m,"
    " location: spandau}\n"
    "      - {date: 2026-12-15, type: custom_hours, start: '10:00', end: '12:00', slot: 1h}\n",
)


def wheres(business: Business) -> list[Where]:
    """Every location alone, and points near some, all or none of them."""
    return [places.at(place) for place in business.locations] + [
        places.near(business.locations, *ALEXANDERPLATZ, 10),
        places.near(business.locations, *ALEXANDERPLATZ, 25),
        places.near(business.locations, *SALZBURG, 5),
        places.near(business.locations, *ALEXANDERPLATZ, 2000),
        places.near(business.locations, 0.0, 0.0, 10),
    ]


async def assert_answers_by_place(db: Database, now: datetime) -> None:
    """Every question by place from the index equals the engine's over the places' windows."""
    for service in ("checkup", "hygiene"):
        ctx = await engine_context(db, now, service)
        rules, length = ctx.business.rules, availability.duration(ctx)
        for where in wheres(ctx.business):
            plans = [
                Plan(p.schedule, where.places)
                for p in ctx.plans
                if not where.places.isdisjoint(p.sites)
            ]
            days = search.soonest_days(plans, now, rules, None, length)
            assert await directory.soonest_days(db, now, service, None, where) == sorted(
                days,
                key=lambda r: (
                    r.day is None,
                    r.day or date.min,
                    where.distance(r.slots[0].location) if r.slots else 0.0,
                    r.specialist,
                ),
            )
            page = sorted((r for r in days if r.slots), key=lambda r: where.order(r.slots[0]))
            page += sorted((r for r in days if not r.slots), key=lambda r: r.specialist)
            for limit, offset in ((1, 0), (2, 0), (2, 1), (20, 0)):
                found = await directory.search_page(db, now, service, limit, offset, where)
                assert [f.result for f in found] == page[offset : offset + limit], where
            soonest = page[0].slots[0] if page and page[0].slots else None
            assert await directory.soonest_slot(db, now, service, None, where) == soonest
            first, last = now.date() - timedelta(days=1), now.date() + timedelta(days=20)
            holes = []
            for plan in plans:
                least = length or search.shortest_slot(plan)
                holes += search.holes([plan], first, last, now, rules, least)
            assert await directory.holes(db, now, service, first, last, where=where) == sorted(
                holes, key=where.order
            )
            free = search.slots(plans, first, last, now, rules, length)
            assert await directory.free_slots(db, now, service, first, last, where) == sorted(
                free, key=where.order
            )
            for start in sorted({slot.start for slot in free})[:12]:
                async with UnitOfWork(db, write=False) as uow:
                    found = await directory.free_at(uow, now, service, start, where)
                assert found == sorted({s.specialist for s in free if s.start == start})
            if not plans:
                continue
            for shown in (None, (now + timedelta(days=25)).date()):
                month = await availability.month(
                    db, now, service, availability.ANY, shown, where=where
                )
                assert (month.shown, month.first, month.last, month.days, month.soonest) == (
                    engine_month(replace(ctx, plans=plans), now, shown)
                )


@pytest.mark.parametrize("hours", [0, 5, 24 * 3])
async def test_answers_by_place_from_the_index_equal_the_engine(db: Database, hours: int) -> None:
    await import_clinic(db, clinic_file.read(DATED), NOW)
    thursday = NOW.date() + timedelta(days=3)
    await booking_uses.book(db, NOW, "ann", "checkup", at(thursday, 10))  # at Spandau
    await booking_uses.book(db, NOW, "eva", "checkup", at(NOW.date() + timedelta(days=1), 14))
    await assert_index_exact(db)
    await assert_answers_by_place(db, NOW + timedelta(hours=hours))


async def test_changes_by_place_keep_the_index_exact(db: Database) -> None:
    await import_clinic(db, clinic_file.read(DATED), NOW)
    await assert_index_exact(db)
    # Salzburg drops its Austrian calendar: 8 December opens there, for Eva, not only Max.
    await import_clinic(db, clinic_file.read(DATED.replace("holidays: AT", "holidays: none")), NOW)
    await assert_index_exact(db)
    ctx = await engine_context(db, NOW, "checkup")
    eva = next(p for p in ctx.plans if p.specialist == "eva")
    opened = search.day_slots(eva, date(2026, 12, 8), NOW, ctx.business.rules)
    assert [(s.start.strftime("%H:%M"), s.location) for s in opened][:1] == [("09:00", "salzburg")]
    # Ann's Thursday at Spandau moves to Mitte: her specialist row keeps its place.
    moved = DATED.replace("slot: 30m, location: spandau}", "slot: 30m, location: mitte}", 1)
    await import_clinic(db, clinic_file.read(moved), NOW)
    await assert_index_exact(db)
    booked = await booking_uses.book(
        db, NOW, "ann", "hygiene", at(NOW.date() + timedelta(days=3), 9)
    )
    assert booked.id in {b.id for b in await live_bookings(db)}
    await assert_index_exact(db)
    await assert_answers_by_place(db, NOW)
