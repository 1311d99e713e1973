"""The figures of a range over a seeded database, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction

import pytest

from bookbot.clinic_file import read
from bookbot.engine.bookings import ADMIN, CLIENT
from bookbot.engine.model import Booking, BookingStatus, Client, Mark, Slot
from bookbot.errors import BadInput
from bookbot.services import bookings, clinic, stats
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork

# UTC, so the instants below read as the wall clock. ann works 4 hours a weekday (240
# minutes); ben has no hours. `quick` has its own 48h cut-off, the policy 24h.
CLINIC = """
timezone: UTC
policy: {cancel_notice: 24h}
services:
  - {id: checkup, name: Check-up, duration: 60m}
  - {id: quick, name: Quick look, duration: 60m, cancel_notice: 48h}
specialists:
  - id: ann
    name: Dr. Ann Weber
    services: [checkup, quick]
    weekly:
      - {days: [mon, tue, wed, thu, fri], start: "09:00", end: "13:00", slot: 1h}
  - id: ben
    name: Ben Keller
    services: [checkup]
"""
NOW = datetime.fromisoformat("2026-11-01T08:00:00+00:00")
MONDAY, FRIDAY = date(2026, 11, 2), date(2026, 11, 6)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


async def seed(db: Database) -> None:
    """Nine bookings of ann, each counting (or not) in one way the figures tell apart."""
    await clinic.import_clinic(db, read(CLINIC), NOW)
    who = Client("Bob Stone", "+4915112345678", 42)

    async def add(uow: UnitOfWork, start: str, service: str = "checkup") -> int:
        begins = at(start)
        made = await uow.bookings.add_booking(
            Booking(
                "ann",
                service,
                begins,
                begins + timedelta(hours=1),
                BookingStatus.CONFIRMED,
                client=who,
            ),
            NOW,
        )
        assert made.id is not None
        return made.id

    async with UnitOfWork(db) as uow:
        await add(uow, "2026-11-02T09:00")  # booked
        no_show = await add(uow, "2026-11-02T10:00")  # booked, a no-show
        await uow.bookings.mark(no_show, Mark.NO_SHOW, at("2026-11-02T11:00"), ADMIN)
        entry = await uow.waitlist.add(
            client=42,
            service="checkup",
            specialist="ann",
            location=None,
            first=MONDAY,
            last=FRIDAY,
            now=NOW,
        )
        slot = Slot("ann", at("2026-11-03T09:00"), at("2026-11-03T10:00"))
        offer = await uow.waitlist.offer(entry, slot, NOW, NOW + timedelta(minutes=15))
        assert offer is not None and offer.id is not None
        await uow.bookings.set_status(offer.id, BookingStatus.CONFIRMED, NOW)  # refilled
        cancels = [
            ("2026-11-03T10:00", "checkup", "2026-11-02T09:00", CLIENT),  # 25h ahead: before
            ("2026-11-03T11:00", "checkup", "2026-11-02T12:00", CLIENT),  # 23h ahead: after
            ("2026-11-04T09:00", "quick", "2026-11-02T10:00", CLIENT),  # 47h of 48h: after
            ("2026-11-04T10:00", "checkup", "2026-11-04T09:59", ADMIN),  # by staff
        ]
        for start, service, when, by in cancels:
            made = await add(uow, start, service)
            await uow.bookings.set_status(made, BookingStatus.CANCELLED, at(when), by)
        await uow.bookings.add_booking(  # a hold is no visit
            Booking(
                "ann",
                "checkup",
                at("2026-11-05T09:00"),
                at("2026-11-05T10:00"),
                BookingStatus.HELD,
                client=who,
            ),
            NOW,
            hold_until=at("2026-11-05T09:00"),
        )
        await add(uow, "2026-11-09T09:00")  # after the range
        await uow.commit()


async def test_the_figures_of_a_week(db: Database) -> None:
    await seed(db)
    found = await stats.figures(db, MONDAY, FRIDAY, NOW)
    assert (found.first, found.last) == (MONDAY, FRIDAY)
    assert (found.booked, found.no_shows, found.refilled) == (3, 1, 1)
    assert (found.cancelled_before, found.cancelled_after, found.cancelled_by_staff) == (1, 2, 1)
    assert found.shares == (
        stats.Share("ann", "Dr. Ann Weber", 180, 1200, Fraction(3, 20)),
        stats.Share("ben", "Ben Keller", 0, 0, None),
    )


async def test_one_day_and_the_default_range(db: Database) -> None:
    await seed(db)
    monday = await stats.figures(db, MONDAY, MONDAY, NOW)
    assert (monday.booked, monday.no_shows, monday.cancelled_before) == (2, 1, 0)
    assert monday.shares[0] == stats.Share("ann", "Dr. Ann Weber", 120, 240, Fraction(1, 2))
    later = await stats.figures(db, None, None, at("2026-11-10T12:00"))
    assert (later.first, later.last) == (date(2026, 10, 12), date(2026, 11, 10))
    assert later.booked == 4  # the week's three and the next Monday's


async def test_a_move_is_no_cancellation(db: Database) -> None:
    await clinic.import_clinic(db, read(CLINIC), NOW)
    who = Client("Bob Stone", "+4915112345678", 42)
    first = await bookings.book(db, NOW, "ann", "checkup", at("2026-11-02T09:00"), who)
    gone = await bookings.book(db, NOW, "ann", "checkup", at("2026-11-03T09:00"), who)
    assert first.id is not None and gone.id is not None
    await bookings.reschedule(db, NOW, 42, first.id)  # moved in the chat to Wednesday
    held = await bookings.hold(
        db, NOW, 42, "checkup", "ann", at("2026-11-04T09:00"), timedelta(minutes=10)
    )
    await bookings.confirm(db, NOW, held.booking.id or 0, client=42)
    await bookings.cancel(db, NOW, gone.id, CLIENT, client=42)  # cancelled: counts
    found = await stats.figures(db, MONDAY, FRIDAY, NOW)
    assert found.booked == 1  # Wednesday's, the visit moved there
    assert (found.cancelled_before, found.cancelled_after, found.cancelled_by_staff) == (1, 0, 0)


@pytest.mark.parametrize(
    ("first", "last", "key"),
    [
        (FRIDAY, MONDAY, "error.range_backwards"),
        (MONDAY, MONDAY + timedelta(days=401), "error.range_too_long"),
    ],
)
async def test_a_bad_range_is_refused(db: Database, first: date, last: date, key: str) -> None:
    await clinic.import_clinic(db, read(CLINIC), NOW)
    with pytest.raises(BadInput) as refused:
        await stats.figures(db, first, last, NOW)
    assert refused.value.key == key
