"""Use cases of staff cancelling a booking with a reason: asked for, then given as a text.

A specialist (or an admin) taps cancel on a coming booking of the agenda; the bot asks
why, and the next text they send is the reason the client is told.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bookbot.engine.bookings import SPECIALIST, may_ask_reason
from bookbot.errors import BadInput, Refused
from bookbot.services.bookings import cancel
from bookbot.services.people import Actor
from bookbot.services.visits import Visit, named
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork, retried

REASON_TTL = timedelta(hours=1)


@retried
async def ask_reason(db: Database, now: datetime, actor: Actor, booking_id: int) -> Visit:
    """Starts cancelling one's own coming booking: the next text will be the reason."""
    async with UnitOfWork(db) as uow:
        found = await uow.bookings.booking(booking_id)
        if found is None or not (actor.admin or actor.specialist == found.specialist):
            raise BadInput("error.unknown_booking", id=booking_id)
        refusal = may_ask_reason(found, now)
        if refusal:
            raise Refused(refusal, id=booking_id, status=str(found.status))
        await uow.people.await_reason(actor.telegram_id, booking_id, now)
        await uow.commit()
        return await named(uow.catalog, found)


async def awaited_reason(db: Database, now: datetime, telegram_id: int) -> int | None:
    """The booking this person is asked a cancel reason for, while the question is fresh."""
    async with UnitOfWork(db, write=False) as uow:
        wait = await uow.people.reason_wait(telegram_id)
    return wait.booking_id if wait and now - wait.created_at <= REASON_TTL else None


@retried
async def drop_reason(db: Database, telegram_id: int) -> None:
    """Forgets an awaited reason: the booking stays as it is."""
    async with UnitOfWork(db) as uow:
        await uow.people.drop_reason_wait(telegram_id)
        await uow.commit()


async def give_reason(db: Database, now: datetime, actor: Actor, reason: str) -> Visit:
    """Cancels the booking a reason was awaited for; the client is told, with alternatives."""
    async with UnitOfWork(db) as uow:
        wait = await uow.people.drop_reason_wait(actor.telegram_id)
        found = await uow.bookings.booking(wait.booking_id) if wait else None
        await uow.commit()
    if wait is None or found is None or now - wait.created_at > REASON_TTL:
        raise Refused("specialist.reason_stale")
    if not (actor.admin or actor.specialist == found.specialist):
        raise BadInput("error.unknown_booking", id=wait.booking_id)
    return await cancel(db, now, wait.booking_id, SPECIALIST, reason)
