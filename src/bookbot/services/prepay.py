"""What a booking's use cases ask of payments inside their own unit of work.

Confirming a visit that asks a payment turns its hold into one awaiting that payment
(`ask`); moving a paid visit carries the payment to the new time (`carry`); cancelling a
paid visit owes its refund (`refund_all`). The payment use cases themselves (checking,
taking, listing, refunding by hand) are services/payments.py's.
"""

from __future__ import annotations

from datetime import datetime

from bookbot.engine import payments as rules
from bookbot.engine.model import Booking
from bookbot.errors import Refused
from bookbot.services.attendance import no_shows_bring
from bookbot.services.basics import require_business
from bookbot.services.visits import phone_to_call
from bookbot.store.uow import UnitOfWork


async def payable(uow: UnitOfWork, service_id: str, provider: bool) -> bool:
    """Tells whether the chat can take a payment for this service (engine `payable`)."""
    service = await uow.catalog.service(service_id)
    business = await require_business(uow.catalog)
    return service is not None and rules.payable(service, business.currency, provider)


async def ask(
    uow: UnitOfWork, now: datetime, held: Booking, client: int, provider: bool
) -> int | None:
    """Turns a live hold into one awaiting its payment, if the visit asks one; the amount.

    None when nothing is asked (or the client is moving a paid visit: its payment goes
    with it). Refused where the payment asked cannot be taken in the chat. Inside the
    caller's unit, which has locked the client and the booking.
    """
    service = await uow.catalog.service(held.service)
    assert service is not None  # a booking's service is kept while bookings name it
    business = await require_business(uow.catalog)
    amount = rules.due(service, await no_shows_bring(uow, now, client))
    if amount is None or await _moving_paid(uow, client):
        return None
    if business.currency is None or not rules.payable(service, business.currency, provider):
        raise Refused("payment.unavailable", phone=phone_to_call(business, held.location) or "—")
    assert held.id is not None
    await uow.bookings.await_payment(held.id, now + business.policy.payment_hold, amount)
    return amount


async def _moving_paid(uow: UnitOfWork, client: int) -> bool:
    """Tells whether the client is moving a visit they paid for (and not refunded)."""
    draft = await uow.chats.draft(client)
    if draft.rescheduling is None:
        return False
    return any(not p.refund_owed_at for p in await uow.payments.of_booking(draft.rescheduling))


async def carry(uow: UnitOfWork, old: int, new: int) -> None:
    """Carries the payments of a visit moved to another time, not refunded, to the new one."""
    await uow.payments.move(old, new)


async def refund_all(uow: UnitOfWork, now: datetime, booking: int) -> int:
    """Owes back in full every payment of a cancelled booking; tells how many.

    Stars go back through Telegram on the bot's next delivery round (bot/outbox.py); a
    provider's payment stays owed until an admin marks it done (/refund).
    """
    owed = [p for p in await uow.payments.of_booking(booking) if p.refund_owed_at is None]
    for payment in owed:
        assert payment.id is not None
        await uow.payments.refund(payment.id, now, done=False)
    return len(owed)
