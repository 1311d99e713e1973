"""Use cases of payments: the invoice's payload, the pre-checkout check, taking a payment,
refunds going back, and the admins' list and /refund.

Every rule is engine/payments.py's. A payment is taken in one unit of work with the
confirmation it brings and that confirmation's outbox rows; the same payment arriving
again (its Telegram charge id) changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime
from enum import StrEnum

from msgspec import Struct

from bookbot.engine import payments as rules
from bookbot.engine.bookings import is_live
from bookbot.engine.model import Booking, BookingStatus
from bookbot.engine.money import STARS
from bookbot.engine.payments import Payment
from bookbot.errors import BadInput, Refused
from bookbot.notify.messages import Policy
from bookbot.services.basics import require_business
from bookbot.services.bookings import confirm_held
from bookbot.services.people import Actor, require_admin
from bookbot.services.visits import Visit, named
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork, retried

PAYLOAD = re.compile(r"b([1-9][0-9]{0,9})\.([1-9][0-9]{0,15})\.([A-Za-z0-9_-]{16})")
MOST_ID = 2**31 - 1  # bookings.id is a 32-bit integer on PostgreSQL


class Outcome(StrEnum):
    """What a successful payment did."""

    CONFIRMED = "confirmed"  # the visit it paid for is booked
    AGAIN = "again"  # the same payment arrived before: nothing changed
    REFUNDED = "refunded"  # too late, its time taken: Stars going back at once
    REFUND_OWED = "refund_owed"  # too late: a provider's payment the admins owe back


class Taken(Struct, frozen=True):
    """A payment taken: the visit it was for, and what it did."""

    visit: Visit
    outcome: Outcome
    payment: Payment


class Owed(Struct, frozen=True):
    """A payment owed back, with the Telegram user it goes back to."""

    payment: Payment
    telegram_id: int | None


def payload(booking_id: int, amount: int, key: str) -> str:
    """The invoice's payload: the booking and amount, signed so nobody can forge one.

    HMAC-SHA256 with the bot's secret, cut to 96 bits: about 40 bytes in all, within
    Telegram's 128 (a JWT would not fit).
    """
    body = f"b{booking_id}.{amount}"
    return f"{body}.{_mac(body, key)}"


def _mac(body: str, key: str) -> str:
    digest = hmac.new(key.encode(), body.encode(), hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode()


def read_payload(text: str, key: str) -> tuple[int, int] | None:
    """The booking and amount an invoice payload names, or None if it is not one of ours."""
    if len(text.encode()) > rules.LONGEST_PAYLOAD:
        return None
    found = PAYLOAD.fullmatch(text)
    if found is None or int(found[1]) > MOST_ID:
        return None
    if not hmac.compare_digest(found[3], _mac(f"b{found[1]}.{found[2]}", key)):
        return None
    return int(found[1]), int(found[2])


async def check(
    db: Database, now: datetime, client: int, text: str, amount: int, currency: str, key: str
) -> str | None:
    """The pre-checkout question: why this payment may not go ahead (a locale key), or None.

    Ok only while the booking's hold awaiting payment is live and the amount and currency
    are the ones asked.
    """
    named_ = read_payload(text, key)
    if named_ is None:
        return "payment.not_ours"
    booking_id, asked = named_
    async with UnitOfWork(db, write=False) as uow:
        found = await uow.bookings.booking(booking_id)
        business = await require_business(uow.catalog)
    if found is None or not _owned(found, client):
        return "payment.not_ours"
    if currency != business.currency:
        return "payment.amount_changed"
    return rules.may_pay(found, amount, asked, now)


@retried
async def take(
    db: Database,
    now: datetime,
    client: int,
    paid: Payment,
    text: str,
    key: str,
    policy: Policy,
) -> Taken:
    """Stores a successful payment and confirms the visit it paid for, in one transaction.

    `paid.booking` is ignored: the payload names it. Paid while the hold is live, or
    late with its time still free, the visit is confirmed (with the messages that owes);
    late with its time taken, or for a visit no longer waiting, the payment is owed back
    (Stars go back at once). The same payment again changes nothing.
    """
    named_ = read_payload(text, key)
    if named_ is None:
        raise BadInput("payment.not_ours")
    async with UnitOfWork(db) as uow:
        await uow.lock(clients=[client])
        found = await uow.bookings.booking(named_[0])
        if found is None or not _owned(found, client):
            raise BadInput("payment.not_ours")
        await uow.lock(bookings=[found])
        before = await uow.payments.charged(paid.telegram_charge_id)
        if before is not None:
            return Taken(await named(uow.catalog, found), Outcome.AGAIN, before)
        assert found.id is not None
        stored = await uow.payments.add(
            Payment(
                found.id,
                paid.amount,
                paid.currency,
                paid.telegram_charge_id,
                paid.provider_charge_id,
                now,
            )
        )
        assert stored is not None and stored.id is not None
        if await _confirmable(uow, found, now):
            await confirm_held(uow, now, found, client, policy)
            outcome = Outcome.CONFIRMED
        else:
            await uow.payments.refund(stored.id, now, done=False)
            stored = await uow.payments.payment(stored.id) or stored
            at_once = rules.refunded_at_once(paid.currency)
            outcome = Outcome.REFUNDED if at_once else Outcome.REFUND_OWED
        await uow.commit()
        return Taken(await named(uow.catalog, await _booking(uow, found.id)), outcome, stored)


async def _confirmable(uow: UnitOfWork, found: Booking, now: datetime) -> bool:
    """Tells whether a paid hold becomes a visit: live, or lapsed with its time still free."""
    if found.status == BookingStatus.HELD and found.due is not None and is_live(found, now):
        return True
    if found.status not in (BookingStatus.HELD, BookingStatus.EXPIRED) or found.start <= now:
        return False
    # A lapsed hold occupies nothing at `now`: whatever overlaps it took its time.
    return not await uow.bookings.overlapping([found.specialist], found.start, found.end, now)


def _owned(found: Booking, client: int) -> bool:
    return found.client is not None and found.client.telegram_id == client


async def _booking(uow: UnitOfWork, booking_id: int) -> Booking:
    found = await uow.bookings.booking(booking_id)
    assert found is not None
    return found


# -- refunds ------------------------------------------------------------------------------


async def owed_back(db: Database, booking_id: int) -> list[Payment]:
    """A booking's payments owed back and not yet returned (after its cancellation)."""
    async with UnitOfWork(db, write=False) as uow:
        return [p for p in await uow.payments.of_booking(booking_id) if p.refund_owed]


async def stars_owed(db: Database) -> list[Owed]:
    """Refunds in Telegram Stars owed and not yet made: the bot makes them at once."""
    async with UnitOfWork(db, write=False) as uow:
        owed = [p for p in await uow.payments.owed() if p.currency == STARS]
        return [Owed(p, await _payer(uow, p)) for p in owed]


async def _payer(uow: UnitOfWork, payment: Payment) -> int | None:
    found = await uow.bookings.booking(payment.booking)
    return None if found is None or found.client is None else found.client.telegram_id


@retried
async def refunded(db: Database, now: datetime, payment_id: int) -> Visit:
    """Records that an owed refund was made (Stars by the bot); its visit."""
    async with UnitOfWork(db) as uow:
        payment = await uow.payments.payment(payment_id)
        if payment is None:
            raise BadInput("payment.unknown", id=payment_id)
        if not payment.refund_owed:
            raise Refused("payment.not_owed", id=payment_id)
        await uow.payments.refund(payment_id, now, done=True)
        await uow.commit()
        return await named(uow.catalog, await _booking(uow, payment.booking))


async def refund(db: Database, now: datetime, actor: Actor, payment_id: int) -> Visit:
    """/refund ID (admins): marks a provider's refund owed as made."""
    require_admin(actor)
    return await refunded(db, now, payment_id)


async def listing(
    db: Database, actor: Actor, since: datetime, until: datetime
) -> list[tuple[Payment, Visit]]:
    """/payments (admins): payments made in [since, until) and every refund still owed."""
    require_admin(actor)
    async with UnitOfWork(db, write=False) as uow:
        found = await uow.payments.between(since, until)
        return [(p, await named(uow.catalog, await _booking(uow, p.booking))) for p in found]
