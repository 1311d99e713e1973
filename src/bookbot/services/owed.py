"""The messages a booking's change owes, written into the outbox in the change's transaction.

Use cases that book, confirm or cancel call these inside their own unit of work, so a
change and its messages are kept or undone together.
"""

from __future__ import annotations

from datetime import datetime

from bookbot.engine.model import Booking, Slot
from bookbot.notify import messages
from bookbot.notify.messages import Policy
from bookbot.services import directory
from bookbot.services.prepay import refund_all
from bookbot.store.uow import UnitOfWork

ALTERNATIVES = 3  # free slots offered to a client whose booking the other side cancelled


async def owe_booked(uow: UnitOfWork, booking: Booking, now: datetime, policy: Policy) -> None:
    """Writes the messages a new booking owes, in the caller's transaction."""
    specialist = await uow.catalog.specialist(booking.specialist)
    assert specialist is not None
    await messages.booked(uow.outbox, booking, specialist, now, policy)
    business = await uow.catalog.business()
    if business is not None and business.policy.confirm_by is not None:
        zone = specialist.zone(business)
        await messages.unconfirmed(
            uow.outbox, booking, specialist, zone, now, business.policy.confirm_by
        )


async def owe_cancelled(
    uow: UnitOfWork, booking: Booking, now: datetime, by: str, reason: str | None
) -> None:
    """Drops what a cancelled booking no longer needs and owes the other side its notice.

    Its payments are owed back in full (services/prepay.py `refund_all`): every
    cancellation that goes through refunds; a moved visit's payment was carried first.
    """
    assert booking.id is not None
    await refund_all(uow, now, booking.id)
    specialist = await uow.catalog.specialist(booking.specialist)
    assert specialist is not None
    others = [] if by == "client" else await _alternatives(uow, now, booking)
    await messages.cancelled(uow.outbox, booking, specialist, now, by, reason, others)


async def _alternatives(
    uow: UnitOfWork, now: datetime, booking: Booking, most: int = ALTERNATIVES
) -> list[Slot]:
    """The soonest free slots of the same specialist and of the others of that service."""
    found = []
    for result in await directory.soonest_in(uow, now, booking.service):
        offered = [
            s
            for s in result.slots
            if not (s.specialist == booking.specialist and s.start == booking.start)
        ]
        if offered:
            found.append(offered[0])
    found.sort(key=lambda s: (s.specialist != booking.specialist, s.start, s.specialist))
    return found[:most]
