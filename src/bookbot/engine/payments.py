"""Paying up front: what a visit asks to be paid, whether it can be, and refunds.

Telegram Payments takes the money (spec/policy.md): a provider's token for any ISO
currency, or Telegram Stars (`XTR`, no token, online services only). Amounts are whole
numbers of the currency's minor units, as Telegram expects them; no float holds one.

A booking awaiting payment is a hold with the amount `due` (engine/model.py `Booking`):
it occupies its time until its `hold_until` (now + `payment_hold`) exactly as any hold,
so the database's guard against double booking counts it. Paid in time, it is confirmed;
paid after it lapsed, it is confirmed only if its time is still free, else refunded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from msgspec import Struct

from bookbot.engine.bookings import PREPAY, is_live
from bookbot.engine.model import Booking, BookingStatus, Service
from bookbot.engine.money import STARS
from bookbot.engine.policy import Prepay
from bookbot.engine.problems import Problem

LONGEST_PAYLOAD = 128  # bytes of an invoice's payload (Bot API sendInvoice)


class Payment(Struct, frozen=True):
    """A payment Telegram reported for a booking, in minor units of `currency`.

    A refund is owed from `refund_owed_at` until it is done (`refunded_at`).
    """

    booking: int
    amount: int
    currency: str
    telegram_charge_id: str
    provider_charge_id: str | None
    paid_at: datetime
    id: int | None = None
    refund_owed_at: datetime | None = None
    refunded_at: datetime | None = None

    @property
    def refund_owed(self) -> bool:
        """Tells whether the money is owed back and not yet returned."""
        return self.refund_owed_at is not None and self.refunded_at is None


class Takings(Struct, frozen=True):
    """The payments of a stretch of days in one currency: how many, how much, given back."""

    currency: str
    count: int
    paid: int  # minor units
    refunded: int  # minor units owed back or returned


def takings(payments: Iterable[Payment]) -> tuple[Takings, ...]:
    """The payments summed by currency (never across currencies), by currency code."""
    found: dict[str, list[Payment]] = {}
    for payment in payments:
        found.setdefault(payment.currency, []).append(payment)
    return tuple(
        Takings(
            currency,
            len(paid),
            sum(p.amount for p in paid),
            sum(p.amount for p in paid if p.refund_owed_at is not None),
        )
        for currency, paid in sorted(found.items())
    )


def payable(service: Service, currency: str | None, provider: bool) -> bool:
    """Tells whether the chat can take a payment for `service`.

    Stars pay for online services only; any other currency needs a provider's token.
    """
    if currency is None:
        return False
    return service.online if currency == STARS else provider


def due(service: Service, after_no_shows: str | None) -> int | None:
    """The amount confirming a visit of `service` asks now (minor units), or None for nothing.

    A client whose no-shows bring `prepay` pays the full price; otherwise the service's
    `prepay`: its deposit, its price, or nothing.
    """
    if after_no_shows == PREPAY or service.prepay == Prepay.FULL:
        return service.price
    if service.prepay == Prepay.DEPOSIT:
        return service.deposit
    return None


def may_pay(booking: Booking, amount: int, due_now: int | None, now: datetime) -> str | None:
    """Why a payment of `amount` may not go ahead for `booking` now (a locale key), or None.

    What a pre-checkout query asks: the booking still awaits exactly that amount, and its
    hold is live.
    """
    if booking.status != BookingStatus.HELD or booking.due is None:
        return "payment.not_awaiting"
    if not is_live(booking, now):
        return "payment.hold_lapsed"
    if amount != due_now or amount != booking.due:
        return "payment.amount_changed"
    return None


def refunded_at_once(currency: str) -> bool:
    """Tells whether a refund goes back at once: Stars through Telegram; a provider's is owed.

    Every cancellation that goes through refunds in full: staff may always cancel, and a
    client only before the cut-off (engine/bookings.py `may_cancel`). A move keeps the
    payment with the booking.
    """
    return currency == STARS


def problems(
    services: Sequence[Service], currency: str | None, provider: bool | None
) -> list[Problem]:
    """What is wrong with the services' prepayment, each at its path in the clinic file.

    `provider` tells whether a provider's token is set; None when the reader does not know
    (the file alone), so only the rules of the file itself are checked.
    """
    found = []
    for i, service in enumerate(services):
        path = f"services[{i}]"
        if service.deposit is not None and service.prepay != Prepay.DEPOSIT:
            found.append(Problem("file.deposit_without_prepay", {}, f"{path}.deposit"))
        if service.prepay == Prepay.NONE:
            continue
        if currency is None:
            found.append(Problem("file.prepay_without_currency", {}, f"{path}.prepay"))
            continue
        if service.prepay == Prepay.DEPOSIT and service.deposit is None:
            found.append(Problem("file.deposit_missing", {}, f"{path}.deposit"))
        if service.prepay == Prepay.FULL and service.price is None:
            found.append(Problem("file.prepay_without_price", {}, f"{path}.price"))
        if (
            service.prepay == Prepay.DEPOSIT
            and service.deposit is not None
            and service.price is not None
            and service.deposit > service.price
        ):
            found.append(Problem("file.deposit_over_price", {}, f"{path}.deposit"))
        if currency == STARS and not service.online:
            found.append(Problem("file.stars_not_online", {}, f"{path}.online"))
        elif currency != STARS and provider is False:
            found.append(Problem("file.no_payment_provider", {}, f"{path}.prepay"))
    return found
