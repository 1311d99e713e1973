"""Use cases of a booking's life: one confirm, one cancel, one reschedule, for every actor.

The chat, the staff commands and the command line call these with who is asking
(engine/bookings.py `ACTORS`); the engine answers whether that actor may, and the answer
is raised as `Refused(key)`. Each is one unit of work that locks what it changes, and
writes the change with the messages it owes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bookbot.booking import DEFAULT_POLICY, owe_booked, owe_cancelled
from bookbot.engine import bookings
from bookbot.engine.bookings import CLIENT, OPERATOR
from bookbot.engine.model import Booking, BookingStatus
from bookbot.errors import BadInput, Refused
from bookbot.notify.messages import Policy
from bookbot.services.visits import Visit, named
from bookbot.store.db import Database
from bookbot.store.repository import Draft, Store
from bookbot.store.uow import UnitOfWork, retried


@retried
async def confirm(
    db: Database,
    now: datetime,
    booking_id: int,
    *,
    client: int | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Visit:
    """Turns a live hold into a confirmed booking; a hold that ran out is refused.

    With `client` (their Telegram id), the hold must be theirs, and a booking they are
    moving away from is let go in the same transaction (`reschedule`).
    """
    async with UnitOfWork(db) as uow:
        store = uow.store
        if client is None:
            seen = await _existing(store, booking_id)
            await uow.lock(bookings=[seen])
        else:
            await uow.lock(clients=[client])
            seen = await _own(store, booking_id, client)
            moving = await _moving(store, client)
            await uow.lock(bookings=[seen, *([moving] if moving else [])])
        await store.expire_holds(now, specialists=[seen.specialist])
        current = await _existing(store, booking_id)
        refusal = bookings.may_confirm(current, now, seen)
        if refusal:
            raise Refused(refusal, start=seen.start)
        if client is not None:
            await _let_go_moved(uow, now, client)
        await store.set_status(booking_id, BookingStatus.CONFIRMED, now)
        await owe_booked(uow, current, now, policy)
        await uow.commit()
        return await named(store, await _existing(store, booking_id))


@retried
async def cancel(
    db: Database,
    now: datetime,
    booking_id: int,
    by: str = OPERATOR,
    reason: str | None = None,
    *,
    client: int | None = None,
) -> Visit:
    """Cancels a booking if `by` may, recording who and why; the other side is told.

    With `client` (their Telegram id), the booking must be theirs.
    """
    async with UnitOfWork(db) as uow:
        store = uow.store
        if client is None:
            await uow.lock(bookings=[await _existing(store, booking_id)])
            found = await _existing(store, booking_id)
        else:
            await uow.lock(bookings=[await _own(store, booking_id, client)], clients=[client])
            found = await _own(store, booking_id, client)
        refusal = bookings.may_cancel(found, by, now)
        if refusal:
            raise Refused(refusal, id=booking_id, status=str(found.status))
        await store.set_status(booking_id, BookingStatus.CANCELLED, now, by, reason)
        await owe_cancelled(uow, found, now, by, reason)
        await uow.commit()
        return await named(store, replace(found, status=BookingStatus.CANCELLED))


@retried
async def reschedule(db: Database, now: datetime, client: int, booking_id: int) -> Draft:
    """Begins moving one of a client's bookings to another time; the old one stays.

    The client then chooses and holds a new time; `confirm` lets the old booking go.
    """
    async with UnitOfWork(db) as uow:
        await uow.lock(clients=[client])
        mine = await _own(uow.store, booking_id, client)
        refusal = bookings.may_reschedule(mine, CLIENT, now)
        if refusal:
            raise Refused(refusal, id=booking_id, status=str(mine.status))
        draft = Draft(client, mine.service, mine.specialist, booking_id)
        await uow.store.save_draft(draft, now)
        await uow.commit()
        return draft


async def _moving(store: Store, client: int) -> Booking | None:
    """The booking a client is moving to another time, if any."""
    draft = await store.draft(client)
    return None if draft.rescheduling is None else await store.booking(draft.rescheduling)


async def _let_go_moved(uow: UnitOfWork, now: datetime, client: int) -> None:
    """Cancels the booking a client moved away from, and forgets that they were moving it."""
    draft = await uow.store.draft(client)
    if draft.rescheduling is None:
        return
    old = await uow.store.booking(draft.rescheduling)
    if old is not None and _owned(old, client) and bookings.may_let_go(old) is None:
        await uow.store.set_status(
            draft.rescheduling, BookingStatus.CANCELLED, now, CLIENT, "rescheduled"
        )
        await owe_cancelled(uow, old, now, CLIENT, "rescheduled")
    await uow.store.save_draft(replace(draft, rescheduling=None), now)


def _owned(found: Booking, client: int) -> bool:
    return found.client is not None and found.client.telegram_id == client


async def _own(store: Store, booking_id: int, client: int) -> Booking:
    """A booking of this client; someone else's is reported as unknown."""
    found = await store.booking(booking_id)
    if found is None or not _owned(found, client):
        raise BadInput("error.unknown_booking", id=booking_id)
    return found


async def _existing(store: Store, booking_id: int) -> Booking:
    found = await store.booking(booking_id)
    if found is None:
        raise BadInput("error.unknown_booking", id=booking_id)
    return found
