"""Admins' place changes (services/places.py) on SQLite and PostgreSQL.

The day index answers by place as a rebuilt one does, visits move with their windows and
owe their clients a notice, the first place becomes everyone's, and a booking racing a
change ends at the place its window is at.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from sqlalchemy import select

from bookbot import clinic_file
from bookbot.engine.model import Client, Location
from bookbot.engine.places import Where
from bookbot.errors import BookbotError
from bookbot.notify import messages
from bookbot.services import availability, booked, bookings, directory, places
from bookbot.services.clinic import export_clinic, import_clinic
from bookbot.services.people import Actor
from bookbot.services.places import Placing
from bookbot.services.reindex import reindex
from bookbot.store.db import Database
from bookbot.store.tables import OutboxRow
from bookbot.store.uow import UnitOfWork
from tests.clinics import BASIC, CHAIN, NOW

T0 = datetime.fromisoformat(NOW)
BOSS = Actor(500, admin=True)
THURSDAY = date(2026, 12, 3)
AT_MITTE = datetime.fromisoformat("2026-12-03T11:00:00+01:00")


async def answers(db: Database) -> dict[str, object]:
    """Free check-up times of two weeks and the soonest, at each place, from the day index."""
    found: dict[str, object] = {}
    for place in ("mitte", "spandau", "salzburg", "kreuzberg"):
        where = Where(frozenset({place}))
        slots = await availability.free_slots(
            db, T0, T0.date(), T0.date() + timedelta(days=13), service="checkup", where=where
        )
        found[place] = [(s.specialist, s.start.isoformat(), s.location) for s in slots]
        soonest = await directory.soonest_slot(db, T0, "checkup", where=where)
        found[f"{place} soonest"] = soonest and (soonest.specialist, soonest.start.isoformat())
    return found


async def owed(db: Database) -> list[tuple[str, int, int | None]]:
    """The outbox's rows: kind, chat, booking."""
    async with UnitOfWork(db, write=False) as uow:
        rows = await uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id))
        return [(r.kind, r.chat_id, r.booking_id) for r in rows]


async def test_places_change_and_the_day_index_answers_as_a_rebuilt_one(db: Database) -> None:
    await import_clinic(db, clinic_file.read(CHAIN), T0)
    visit = await bookings.book(db, T0, "ann", "checkup", AT_MITTE, Client("Bob", None, 42))
    await places.add_location(db, BOSS, Location("kreuzberg", "Kreuzberg", "Oranienstr. 10"))
    await places.put(db, T0, BOSS, Placing("max", "kreuzberg"))
    done = await places.put(db, T0, BOSS, Placing("ann", "spandau", days=frozenset({3})))
    assert [v.booking.id for v in done.moved] == [visit.id]
    await places.put(db, T0, BOSS, Placing("eva", "mitte", days=frozenset({1})))
    live = await answers(db)
    assert live["kreuzberg"] == [
        ("max", "2026-12-01T09:00:00+01:00", "kreuzberg"),
        ("max", "2026-12-01T09:30:00+01:00", "kreuzberg"),
        ("max", "2026-12-08T09:00:00+01:00", "kreuzberg"),
        ("max", "2026-12-08T09:30:00+01:00", "kreuzberg"),
    ]
    assert live["salzburg"] == [] and live["salzburg soonest"] is None
    assert ("ann", "2026-12-03T11:30:00+01:00", "spandau") in live["spandau"]  # type: ignore[operator]
    await reindex(db, T0)
    assert await answers(db) == live
    moved = await booked.list_bookings(db)
    assert [(b.id, b.location) for b in moved] == [(visit.id, "spandau")]
    assert (messages.PLACE_CHANGED, 42, visit.id) in await owed(db)


async def test_the_first_place_becomes_everyones_and_keeps_their_times(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC), T0)
    before = await availability.free_slots(
        db, T0, T0.date(), T0.date() + timedelta(days=6), service="checkup"
    )
    _, based = await places.add_location(db, BOSS, Location("main", "Main", "Street 1"))
    assert based == 2
    clinic = await export_clinic(db)
    assert [s.location for s in clinic.specialists] == ["main", "main"]
    assert [p.id for p in clinic.business.locations] == ["main"]
    after = await availability.free_slots(
        db, T0, T0.date(), T0.date() + timedelta(days=6), service="checkup"
    )
    assert [(s.specialist, s.start) for s in after] == [(s.specialist, s.start) for s in before]
    assert {s.location for s in after} == {"main"}
    _, based = await places.add_location(db, BOSS, Location("west", "West", "Street 2"))
    assert based == 0
    listed = await places.locations(db, BOSS)
    assert [(p.location.id, [s.id for s in p.based]) for p in listed] == [
        ("main", ["ann", "ben"]),
        ("west", []),
    ]


async def test_refused_changes_write_nothing(db: Database) -> None:
    await import_clinic(db, clinic_file.read(CHAIN), T0)
    before = await export_clinic(db)
    refusals = [
        places.put(db, T0, BOSS, Placing("ann", "nowhere")),
        places.put(db, T0, BOSS, Placing("ann", "spandau", day=date(2026, 12, 8))),
        places.put(db, T0, Actor(7), Placing("ann", "spandau")),
        places.add_location(db, BOSS, Location("far", "Far", "Road 1", 91.0, 13.0)),
        places.add_location(db, BOSS, Location("mitte", "Again", "Road 2")),
        places.change_location(db, BOSS, "nowhere", name="Nowhere"),
    ]
    for refused in refusals:
        try:
            await refused
        except BookbotError:
            continue
        raise AssertionError("a refusal went through")
    assert await export_clinic(db) == before


async def test_a_booking_racing_a_move_ends_at_its_windows_place(db: Database) -> None:
    await import_clinic(db, clinic_file.read(CHAIN), T0)
    await asyncio.gather(
        places.put(db, T0, BOSS, Placing("ann", "spandau", days=frozenset({3}))),
        bookings.book(db, T0, "ann", "checkup", AT_MITTE, Client("Bob", None, 42)),
    )
    found = await booked.list_bookings(db)
    assert [b.location for b in found] == ["spandau"]
