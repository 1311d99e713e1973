"""Waitlist offers of a visit paid up front: a paid visit moves with its payment; else pay.

Ann works Tuesdays 09:00-11:00 in 1-hour slots; a check-up costs EUR 60.00 with a
EUR 20.00 deposit. Client 12 holds Tuesday 1 December 09:00, paid.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bookbot import clinic_file
from bookbot.engine.bookings import CLIENT
from bookbot.engine.model import BookingStatus
from bookbot.engine.payments import Payment
from bookbot.notify.messages import Policy
from bookbot.services import bookings, payments, waitlist
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork
from tests.services.test_waitlist import offers

NOW = datetime.fromisoformat("2026-11-30T08:00:00+01:00")  # Monday, in Berlin
NINE = datetime.fromisoformat("2026-12-01T09:00:00+01:00")
NEXT_NINE = NINE + timedelta(days=7)
HOLD = timedelta(minutes=10)
KEY = "test secret"
CLINIC = """
timezone: Europe/Berlin
min_notice: 30m
horizon_days: 30
currency: EUR
policy: {payment_hold: 15m, cancel_notice: 2h, waitlist_hold: 20m}
services:
  - {id: checkup, name: Check-up, price: "60.00", prepay: deposit, deposit: "20.00"}
specialists:
  - id: ann
    name: Dr. Ann Weber
    holidays: none
    services: [checkup]
    weekly:
      - {days: [tue], start: "09:00", end: "11:00", slot: 1h}
bookings:
  - {specialist: ann, service: checkup, start: 2026-12-08T10:00, client: {name: U, telegram_id: 13}}
"""


async def book_and_pay(db: Database, client: int, start: datetime, charge: str) -> int:
    """A visit held, confirmed into awaiting its deposit, and paid; its id."""
    held = await bookings.hold(db, NOW, client, "checkup", "ann", start, HOLD, provider=True)
    assert held.booking.id is not None
    await bookings.confirm(db, NOW, held.booking.id, client=client, provider=True)
    await pay(db, client, held.booking.id, charge)
    return held.booking.id


async def pay(db: Database, client: int, booking: int, charge: str) -> payments.Taken:
    text = payments.payload(booking, 2000, KEY)
    paid = Payment(0, 2000, "EUR", charge, f"provider-{charge}", NOW)
    return await payments.take(db, NOW, client, paid, text, KEY, Policy())


@pytest.fixture
async def clinic(db: Database) -> Database:
    await import_clinic(db, clinic_file.read(CLINIC), NOW, provider=True)
    await book_and_pay(db, 12, NINE, "tg-12")
    return db


async def state(db: Database, booking: int) -> tuple[BookingStatus, list[int], list[bool]]:
    """A booking's status, its payments' amounts, and which of them are owed back."""
    async with UnitOfWork(db, write=False) as uow:
        found = await uow.bookings.booking(booking)
        paid = await uow.payments.of_booking(booking)
    assert found is not None
    return found.status, [p.amount for p in paid], [p.refund_owed_at is not None for p in paid]


async def test_a_paid_visit_moved_by_an_offer_takes_its_payment_along(clinic: Database) -> None:
    mine = await book_and_pay(clinic, 11, NEXT_NINE, "tg-11")
    await waitlist.join(clinic, NOW, 11, from_booking=mine)  # "Want it sooner?"
    await bookings.cancel(clinic, NOW, 2, CLIENT, client=12)  # 12's paid Tuesday 09:00
    offer = (await offers(clinic))[11]
    assert offer.id is not None and offer.start == NINE
    taken = await waitlist.take(clinic, NOW, 11, offer.id, provider=True)
    assert taken.booking.status == BookingStatus.CONFIRMED and taken.booking.due is None
    assert await state(clinic, offer.id) == (BookingStatus.CONFIRMED, [2000], [False])
    assert await state(clinic, mine) == (BookingStatus.CANCELLED, [], [])  # moved, not refunded
    assert await state(clinic, 2) == (BookingStatus.CANCELLED, [2000], [True])  # 12's refund


async def test_an_offer_of_a_visit_paid_up_front_awaits_its_payment(clinic: Database) -> None:
    await waitlist.join(clinic, NOW, 14, "checkup", "ann", first=date(2026, 12, 1))
    await bookings.cancel(clinic, NOW, 2, CLIENT, client=12)
    offer = (await offers(clinic))[14]
    assert offer.id is not None
    taken = await waitlist.take(clinic, NOW, 14, offer.id, provider=True)
    assert (taken.booking.status, taken.booking.due) == (BookingStatus.HELD, 2000)
    assert await waitlist.entries(clinic, NOW, 14) == []  # taken: the entry ended
    assert (await pay(clinic, 14, offer.id, "tg-14")).outcome == payments.Outcome.CONFIRMED
    assert await state(clinic, offer.id) == (BookingStatus.CONFIRMED, [2000], [False])


async def test_an_unpaid_visit_moved_by_an_offer_is_let_go_once_the_new_one_is_paid(
    clinic: Database,
) -> None:
    await waitlist.join(clinic, NOW, 13, from_booking=1)  # imported, never paid
    await bookings.cancel(clinic, NOW, 2, CLIENT, client=12)
    offer = (await offers(clinic))[13]
    assert offer.id is not None
    taken = await waitlist.take(clinic, NOW, 13, offer.id, provider=True)
    assert taken.booking.due == 2000
    assert (await state(clinic, 1))[0] == BookingStatus.CONFIRMED  # kept until paid
    await pay(clinic, 13, offer.id, "tg-13")
    assert await state(clinic, offer.id) == (BookingStatus.CONFIRMED, [2000], [False])
    assert (await state(clinic, 1))[0] == BookingStatus.CANCELLED
