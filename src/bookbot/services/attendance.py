"""Use cases of attendance: "I'll come", staff's Arrived / No-show marks, forgiving no-shows.

Every rule is engine/bookings.py's (`may_attend`, `may_mark`, `may_book_online`); each use
case is one unit of work. `refuse_no_shows` is asked inside the units that hold or book
for a client in the chat (services/bookings.py `hold`, `book`).
"""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct

from bookbot.engine import bookings as rules
from bookbot.engine.bookings import ADMIN, CLIENT, SPECIALIST
from bookbot.engine.model import Booking, Mark
from bookbot.errors import BadInput, Refused
from bookbot.services.basics import require_business
from bookbot.services.people import Actor
from bookbot.services.visits import Visit, named
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork, retried


class Attended(Struct, frozen=True):
    """A visit its client said they will come to; `first` is False when they had said so."""

    visit: Visit
    first: bool


async def no_shows_bring(uow: UnitOfWork, now: datetime, telegram_id: int) -> str | None:
    """What a client's no-shows bring on their next bookings now: None, block or prepay."""
    policy = (await require_business(uow.catalog)).policy
    if policy.no_show_limit is None or policy.after_no_shows is None:
        return None
    count = await uow.bookings.no_shows(telegram_id, now, policy.no_show_window)
    return rules.after_no_shows(count, policy.no_show_limit, policy.after_no_shows)


async def refuse_no_shows(
    uow: UnitOfWork, now: datetime, telegram_id: int, payable: bool = False
) -> None:
    """Refuses a client whose no-shows bring `after_no_shows` on online booking.

    `prepay` is no refusal where the service can be paid for in the chat (`payable`): the
    confirmation then asks the full price. The refusal asks them to call the business's
    phone. Inside the caller's unit, which has locked the client.
    """
    business = await require_business(uow.catalog)
    policy = business.policy
    if policy.no_show_limit is None or policy.after_no_shows is None:
        return
    count = await uow.bookings.no_shows(telegram_id, now, policy.no_show_window)
    refusal = rules.may_book_online(count, policy.no_show_limit, policy.after_no_shows, payable)
    if refusal is None:
        return
    if business.phone:
        raise Refused(refusal, phone=business.phone)
    raise Refused(f"{refusal}_no_phone")


@retried
async def attend(db: Database, now: datetime, telegram_id: int, booking_id: int) -> Attended:
    """Records that a client will come to their visit; saying it again changes nothing."""
    async with UnitOfWork(db) as uow:
        await uow.lock(clients=[telegram_id])
        found = await uow.bookings.booking(booking_id)
        if found is None or found.client is None or found.client.telegram_id != telegram_id:
            raise BadInput("error.unknown_booking", id=booking_id)
        refusal = rules.may_attend(found, CLIENT, now)
        if refusal:
            raise Refused(refusal, id=booking_id, status=str(found.status))
        first = await uow.bookings.attend(booking_id, now)
        await uow.commit()
        return Attended(await named(uow.catalog, found), first)


@retried
async def mark(db: Database, now: datetime, actor: Actor, booking_id: int, marked: Mark) -> Visit:
    """Marks a visit arrived or no-show, by its specialist or an admin, while marks are open."""
    async with UnitOfWork(db) as uow:
        found = await _existing(uow, booking_id)
        await uow.lock(bookings=[found])
        found = await _existing(uow, booking_id)
        specialist = await uow.catalog.specialist(found.specialist)
        assert specialist is not None
        zone = specialist.zone(await require_business(uow.catalog))
        refusal = rules.may_mark(found, role(actor, found), now, zone)
        if refusal:
            raise Refused(refusal, id=booking_id, status=str(found.status))
        await uow.bookings.mark(booking_id, marked, now, role(actor, found))
        await uow.commit()
        return await named(uow.catalog, await _existing(uow, booking_id))


def role(actor: Actor, booking: Booking) -> str:
    """Who `actor` is to a booking: its specialist, an admin, or (else) a client."""
    if actor.specialist == booking.specialist:
        return SPECIALIST
    return ADMIN if actor.admin else CLIENT


@retried
async def forgive(db: Database, now: datetime, actor: Actor, telegram_id: int) -> None:
    """Clears a client's no-shows (admins): those marked before now count no more."""
    if not actor.admin:
        raise Refused("admin.not_allowed")
    async with UnitOfWork(db) as uow:
        await uow.lock(clients=[telegram_id])
        if not await uow.bookings.forgive(telegram_id, now):
            raise BadInput("attendance.unknown_client", id=telegram_id)
        await uow.commit()


async def _existing(uow: UnitOfWork, booking_id: int) -> Booking:
    found = await uow.bookings.booking(booking_id)
    if found is None:
        raise BadInput("error.unknown_booking", id=booking_id)
    return found
