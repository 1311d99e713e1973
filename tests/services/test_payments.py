"""Paying up front, as use cases on real SQLite and PostgreSQL: asked, checked, taken, refunded.

Ann works Tuesday 1 December 09:00-11:00 in 1-hour slots; a check-up costs EUR 60.00
with a EUR 20.00 deposit, a consultation 100 Stars in full (in the Stars clinic).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from bookbot import clinic_file
from bookbot.bot.views import figure_lines
from bookbot.engine.bookings import CLIENT, SPECIALIST
from bookbot.engine.model import Booking, BookingStatus, Client, Mark
from bookbot.engine.payments import Payment, Takings
from bookbot.errors import BookbotError
from bookbot.notify.messages import Policy
from bookbot.services import bookings, chat, payments, people, stats
from bookbot.services.clinic import export_clinic, import_clinic
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork

NOW = datetime.fromisoformat("2026-11-30T08:00:00+01:00")  # Monday, in Berlin
NINE = datetime.fromisoformat("2026-12-01T09:00:00+01:00")
HOLD = timedelta(minutes=10)
KEY = "test secret"
ADMIN = people.Actor(1, admin=True)
CLINIC = """
timezone: Europe/Berlin
min_notice: 30m
horizon_days: 30
currency: {currency}
policy: {{payment_hold: 15m, cancel_notice: 24h}}
services:
  - {{id: checkup, name: Check-up, {checkup}}}
specialists:
  - id: ann
    name: Dr. Ann Weber
    holidays: none
    services: [checkup]
    weekly:
      - {{days: [tue], start: "09:00", end: "11:00", slot: 1h}}
"""
EUR = CLINIC.format(currency="EUR", checkup='price: "60.00", prepay: deposit, deposit: "20.00"')
STARS = CLINIC.format(currency="XTR", checkup="price: 100, prepay: full, online: true")


@pytest.fixture
async def eur(db: Database) -> Database:
    await import_clinic(db, clinic_file.read(EUR), NOW, provider=True)
    return db


@pytest.fixture
async def stars(db: Database) -> Database:
    await import_clinic(db, clinic_file.read(STARS), NOW)
    return db


async def awaiting(db: Database, client: int = 11, start: datetime = NINE) -> int:
    """A hold of `client`'s confirmed into one awaiting payment; its id."""
    held = await bookings.hold(db, NOW, client, "checkup", "ann", start, HOLD, provider=True)
    assert held.booking.id is not None
    visit = await bookings.confirm(db, NOW, held.booking.id, client=client, provider=True)
    assert visit.booking.status == BookingStatus.HELD
    return held.booking.id


def paid(amount: int, currency: str, charge: str = "tg-1") -> Payment:
    return Payment(0, amount, currency, charge, "prov-1", NOW)


async def test_a_deposit_is_asked_held_for_the_payment_hold_and_confirmed_when_paid(
    eur: Database,
) -> None:
    booking = await awaiting(eur)
    async with UnitOfWork(eur, write=False) as uow:
        found = await uow.bookings.booking(booking)
    assert found is not None and found.due == 2000
    assert found.hold_until == NOW + timedelta(minutes=15)
    text = payments.payload(booking, 2000, KEY)
    assert len(text.encode()) <= 128
    assert await payments.check(eur, NOW, 11, text, 2000, "EUR", KEY) is None
    assert await payments.check(eur, NOW, 11, text, 2001, "EUR", KEY) == "payment.amount_changed"
    assert await payments.check(eur, NOW, 11, text, 2000, "USD", KEY) == "payment.amount_changed"
    assert await payments.check(eur, NOW, 12, text, 2000, "EUR", KEY) == "payment.not_ours"
    forged = payments.payload(booking, 1, "another key")
    assert await payments.check(eur, NOW, 11, forged, 1, "EUR", KEY) == "payment.not_ours"
    taken = await payments.take(eur, NOW, 11, paid(2000, "EUR"), text, KEY, Policy())
    assert taken.outcome == payments.Outcome.CONFIRMED
    assert taken.visit.booking.status == BookingStatus.CONFIRMED
    again = await payments.take(eur, NOW, 11, paid(2000, "EUR"), text, KEY, Policy())
    assert again.outcome == payments.Outcome.AGAIN
    async with UnitOfWork(eur, write=False) as uow:
        assert [p.amount for p in await uow.payments.of_booking(booking)] == [2000]
        assert sum((await uow.outbox.counts()).values()) > 0


async def test_a_confirm_of_a_hold_awaiting_payment_is_refused(eur: Database) -> None:
    booking = await awaiting(eur)
    with pytest.raises(BookbotError) as caught:
        await bookings.confirm(eur, NOW, booking, client=11, provider=True)
    assert caught.value.key == "payment.awaiting"


async def test_without_a_provider_the_visit_cannot_be_confirmed_in_the_chat(eur: Database) -> None:
    held = await bookings.hold(eur, NOW, 11, "checkup", "ann", NINE, HOLD)
    assert held.booking.id is not None
    with pytest.raises(BookbotError) as caught:
        await bookings.confirm(eur, NOW, held.booking.id, client=11, provider=False)
    assert caught.value.key == "payment.unavailable"


async def test_the_awaiting_hold_keeps_the_slot_from_others_until_it_lapses(eur: Database) -> None:
    await awaiting(eur)
    later = NOW + timedelta(minutes=14)
    with pytest.raises(BookbotError) as caught:
        await bookings.hold(eur, later, 12, "checkup", "ann", NINE, HOLD)
    assert caught.value.key == "refused.taken"
    lapsed = NOW + timedelta(minutes=15)
    held = await bookings.hold(eur, lapsed, 12, "checkup", "ann", NINE, HOLD)
    assert held.booking.start == NINE


async def test_pre_checkout_is_refused_once_the_hold_lapsed(eur: Database) -> None:
    booking = await awaiting(eur)
    text = payments.payload(booking, 2000, KEY)
    lapsed = NOW + timedelta(minutes=15)
    assert await payments.check(eur, lapsed, 11, text, 2000, "EUR", KEY) == "payment.hold_lapsed"


async def test_paid_late_with_the_slot_free_still_books(eur: Database) -> None:
    booking = await awaiting(eur)
    text = payments.payload(booking, 2000, KEY)
    late = NOW + timedelta(minutes=30)
    await bookings.expire_lapsed(eur, late)
    taken = await payments.take(eur, late, 11, paid(2000, "EUR"), text, KEY, Policy())
    assert taken.outcome == payments.Outcome.CONFIRMED


async def test_stars_paid_late_for_a_taken_slot_are_refunded(stars: Database) -> None:
    booking = await awaiting(stars)
    text = payments.payload(booking, 100, KEY)
    late = NOW + timedelta(minutes=20)
    await awaiting_at(stars, 12, late)
    taken = await payments.take(stars, late, 11, paid(100, "XTR"), text, KEY, Policy())
    assert taken.outcome == payments.Outcome.REFUNDED
    owed = await payments.stars_owed(stars)
    assert [(o.payment.amount, o.telegram_id) for o in owed] == [(100, 11)]
    assert owed[0].payment.id is not None
    await payments.refunded(stars, late, owed[0].payment.id)
    assert await payments.stars_owed(stars) == []


async def awaiting_at(db: Database, client: int, now: datetime) -> None:
    held = await bookings.hold(db, now, client, "checkup", "ann", NINE, HOLD)
    assert held.booking.id is not None
    await bookings.confirm(db, now, held.booking.id, client=client, provider=True)


async def test_a_provider_payment_too_late_is_listed_as_owed_and_closed_by_refund(
    eur: Database,
) -> None:
    booking = await awaiting(eur)
    text = payments.payload(booking, 2000, KEY)
    late = NOW + timedelta(minutes=20)
    await awaiting_at(eur, 12, late)
    taken = await payments.take(eur, late, 11, paid(2000, "EUR"), text, KEY, Policy())
    assert taken.outcome == payments.Outcome.REFUND_OWED
    listed = await payments.listing(eur, ADMIN, NOW, NOW + timedelta(days=1))
    assert [(p.amount, p.refund_owed) for p, _ in listed] == [(2000, True)]
    assert listed[0][0].id is not None
    with pytest.raises(BookbotError):
        await payments.refund(eur, late, people.Actor(5), listed[0][0].id)
    await payments.refund(eur, late, ADMIN, listed[0][0].id)
    listed = await payments.listing(eur, ADMIN, NOW, NOW + timedelta(days=1))
    assert [p.refund_owed for p, _ in listed] == [False]


async def test_cancelling_a_paid_visit_owes_the_payment_back(eur: Database) -> None:
    booking = await awaiting(eur)
    text = payments.payload(booking, 2000, KEY)
    await payments.take(eur, NOW, 11, paid(2000, "EUR"), text, KEY, Policy())
    await bookings.cancel(eur, NOW, booking, SPECIALIST, "ill")
    async with UnitOfWork(eur, write=False) as uow:
        assert [p.refund_owed for p in await uow.payments.of_booking(booking)] == [True]


async def test_a_client_cancelling_before_the_cut_off_is_refunded(eur: Database) -> None:
    booking = await awaiting(eur)
    text = payments.payload(booking, 2000, KEY)
    await payments.take(eur, NOW, 11, paid(2000, "EUR"), text, KEY, Policy())
    await bookings.cancel(eur, NOW, booking, CLIENT, client=11)
    async with UnitOfWork(eur, write=False) as uow:
        assert [p.refund_owed for p in await uow.payments.of_booking(booking)] == [True]


async def test_a_payment_racing_a_staff_cancellation_is_never_kept_for_a_cancelled_visit(
    eur: Database,
) -> None:
    for round_ in range(4):
        start = NINE + timedelta(days=7 * round_)
        held = await bookings.hold(eur, NOW, 11, "checkup", "ann", start, HOLD, provider=True)
        booking = held.booking.id
        assert booking is not None
        await bookings.confirm(eur, NOW, booking, client=11, provider=True)
        text = payments.payload(booking, 2000, KEY)
        pay = payments.take(eur, NOW, 11, paid(2000, "EUR", f"tg-{round_}"), text, KEY, Policy())
        cancel = bookings.cancel(eur, NOW, booking, SPECIALIST, "ill")
        await asyncio.gather(pay, cancel, return_exceptions=True)
        async with UnitOfWork(eur, write=False) as uow:
            found = await uow.bookings.booking(booking)
            kept = await uow.payments.of_booking(booking)
        assert found is not None and found.status == BookingStatus.CANCELLED
        assert [p.refund_owed for p in kept] in ([], [True])  # paid: owed back, whoever won


async def test_the_database_refuses_a_booking_over_a_hold_awaiting_payment(eur: Database) -> None:
    await awaiting(eur)
    later = NOW + timedelta(minutes=12)  # the guard, not the engine: no rule is asked here
    async with UnitOfWork(eur) as uow:
        over = Booking("ann", "checkup", NINE, NINE + timedelta(hours=1), client=Client("Lea"))
        with pytest.raises(BookbotError) as caught:
            await uow.bookings.add_booking(over, later)
    assert caught.value.key == "refused.taken"


async def test_a_moved_paid_visit_keeps_its_payment_and_asks_nothing_more(eur: Database) -> None:
    booking = await awaiting(eur)
    text = payments.payload(booking, 2000, KEY)
    await payments.take(eur, NOW, 11, paid(2000, "EUR"), text, KEY, Policy())
    await bookings.reschedule(eur, NOW, 11, booking)
    held = await bookings.hold(eur, NOW, 11, "checkup", "ann", NINE + timedelta(hours=1), HOLD)
    assert held.booking.id is not None
    moved = await bookings.confirm(eur, NOW, held.booking.id, client=11, provider=True)
    assert moved.booking.status == BookingStatus.CONFIRMED
    async with UnitOfWork(eur, write=False) as uow:
        assert await uow.payments.of_booking(booking) == []
        carried = await uow.payments.of_booking(held.booking.id)
        old = await uow.bookings.booking(booking)
    assert [(p.amount, p.refund_owed) for p in carried] == [(2000, False)]
    assert old is not None and old.status == BookingStatus.CANCELLED


async def test_a_repeat_no_show_pays_the_full_price(db: Database) -> None:
    text = EUR.replace(
        "payment_hold: 15m", "payment_hold: 15m, no_show_limit: 1, after_no_shows: prepay"
    )
    await import_clinic(db, clinic_file.read(text), NOW, provider=True)
    before = NOW - timedelta(days=6)  # Tuesday 24 November
    missed = await bookings.book(
        db, before, "ann", "checkup", NINE - timedelta(days=7), Client("Mia", None, 11)
    )
    assert missed.id is not None
    async with UnitOfWork(db) as uow:
        await uow.bookings.mark(missed.id, Mark.NO_SHOW, NOW - timedelta(days=5), "admin")
        await uow.commit()
    await bookings.hold(db, NOW, 11, "checkup", "ann", NINE, HOLD, provider=True)
    summary = await chat.held(db, NOW, 11)  # what the summary before Confirm says is due
    assert summary is not None and summary.prepay == (6000, "EUR")
    assert await chat.held(db, NOW, 12) is None
    booking = await awaiting(db)
    async with UnitOfWork(db, write=False) as uow:
        found = await uow.bookings.booking(booking)
    assert found is not None and found.due == 6000
    ten = NINE + timedelta(hours=1)
    with pytest.raises(BookbotError) as caught:  # nothing to pay with: as `block`
        await bookings.hold(db, NOW, 11, "checkup", "ann", ten, HOLD, provider=False)
    assert caught.value.key == "refused.no_shows_no_phone"


async def test_the_export_lists_payments_as_history_the_import_never_charges_again(
    eur: Database,
) -> None:
    booking = await awaiting(eur)
    text = payments.payload(booking, 2000, KEY)
    await payments.take(eur, NOW, 11, paid(2000, "EUR"), text, KEY, Policy())
    written = clinic_file.dump(await export_clinic(eur))
    assert "payments:" in written and "amount: '20.00'" in written
    assert "telegram_charge_id: tg-1" in written
    again = clinic_file.read(written)
    assert again.payments == ()
    await import_clinic(eur, again, NOW, provider=True)
    async with UnitOfWork(eur, write=False) as uow:
        assert [p.amount for p in await uow.payments.every()] == [2000]


async def test_the_figures_sum_payments_by_currency(eur: Database) -> None:
    booking = await awaiting(eur)
    text = payments.payload(booking, 2000, KEY)
    await payments.take(eur, NOW, 11, paid(2000, "EUR"), text, KEY, Policy())
    await bookings.cancel(eur, NOW, booking, SPECIALIST, "ill")
    found = await stats.figures(eur, NOW.date(), NOW.date(), NOW)
    assert found.takings == (Takings("EUR", 1, 2000, 2000),)
    assert ("stats.paid", {"count": 1, "paid": "20.00 EUR", "refunded": "20.00 EUR"}) in (
        figure_lines(found)
    )
