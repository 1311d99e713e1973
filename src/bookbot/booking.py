"""Use cases: import and export, questions about free time, book and hold.

Each function opens one unit of work, asks the engine, writes through the store, and
returns engine values; the CLI and the bot only parse, call one of these, and render.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from bookbot.clinic_file import Clinic
from bookbot.engine import search
from bookbot.engine.model import (
    Booking,
    BookingStatus,
    Business,
    Client,
    Service,
    Slot,
    Specialist,
)
from bookbot.engine.workday import Plan, zone
from bookbot.errors import BadInput, Invalid, Problem, Refused
from bookbot.notify import messages
from bookbot.notify.messages import Policy
from bookbot.services import directory
from bookbot.services.basics import check_range, require_business
from bookbot.store.db import Database
from bookbot.store.repository import Store
from bookbot.store.uow import UnitOfWork, retried

DEFAULT_POLICY = Policy()
BUSY_LOOKBACK = timedelta(days=1)
NEAR = timedelta(days=2)  # a slot, and any booking that may overlap it, lie within this


@dataclass(frozen=True)
class ImportReport:
    """How many things an import created or changed."""

    services: int
    specialists: int
    bookings: int
    changed: int


@dataclass(frozen=True)
class Context:
    """What a question about free time needs: the business, service, specialists, plans."""

    business: Business
    service: Service | None
    specialists: list[Specialist]
    plans: list[Plan]


# -- the clinic file ---------------------------------------------------------------------


@retried
async def import_clinic(db: Database, clinic: Clinic, now: datetime | None = None) -> ImportReport:
    """Loads a clinic: upserts by id, keeps what the file does not name, writes all or none.

    Specialists not yet in the day index get a span around `now` (default: the clock).
    """
    async with UnitOfWork(db) as uow:
        await uow.lock_business()
        store = uow.store
        changed = int(await store.save_business(clinic.business))
        for position, service in enumerate(clinic.services):
            changed += await store.save_service(service, position)
        known = {s.id for s in await store.services()}
        problems = [
            Problem("error.unknown_service", {"id": service}, f"specialists[{i}].services")
            for i, specialist in enumerate(clinic.specialists)
            for service in specialist.services
            if service not in known
        ]
        problems += await _linked_elsewhere(store, clinic)
        if problems:
            raise Invalid(problems)
        changed += await store.save_specialists(
            [(specialist, position) for position, specialist in enumerate(clinic.specialists)]
        )
        changed += await store.import_bookings(
            clinic.bookings, {s.id: s.services for s in clinic.specialists}
        )
        await store.days.cover(now or datetime.now(UTC))
        await store.settle()
        if changed:
            await store.days.analyze()
        await uow.commit()
    return ImportReport(
        len(clinic.services), len(clinic.specialists), len(clinic.bookings), changed
    )


async def _linked_elsewhere(store: Store, clinic: Clinic) -> list[Problem]:
    """Telegram ids the file gives that link a specialist it does not name (one each)."""
    named = {specialist.id for specialist in clinic.specialists}
    owners = await store.linked(
        [s.telegram_id for s in clinic.specialists if s.telegram_id is not None]
    )
    return [
        Problem(
            "file.linked_elsewhere",
            {"id": specialist.telegram_id, "other": owners[specialist.telegram_id]},
            f"specialists[{i}].telegram_id",
        )
        for i, specialist in enumerate(clinic.specialists)
        if specialist.telegram_id is not None
        and owners.get(specialist.telegram_id, specialist.id) not in named
    ]


async def export_clinic(db: Database) -> Clinic:
    """The whole schedule as a Clinic, ready to be written as a clinic file."""
    async with UnitOfWork(db, write=False) as uow:
        business = await require_business(uow.store)
        bookings = [
            b
            for b in await uow.store.bookings()
            if b.status in (BookingStatus.CONFIRMED, BookingStatus.CANCELLED)
        ]
        return Clinic(
            business,
            tuple(await uow.store.services()),
            tuple(await _in_file_order(uow.store)),
            tuple(bookings),
        )


async def _in_file_order(store: Store) -> list[Specialist]:
    positions = await store.positions()
    return sorted(await store.specialists(), key=lambda s: (positions.get(s.id, 0), s.id))


# -- questions about free time ---------------------------------------------------------


async def context(
    store: Store,
    now: datetime,
    *,
    service: str | None = None,
    specialist: str | None = None,
    near: datetime | None = None,
) -> Context:
    """Loads what a question needs, checking that the ids exist and belong together.

    With `near`, only bookings within a day or two of that instant are read: enough to
    check a slot there.
    """
    business = await require_business(store)
    found_service = None
    if service is not None:
        found_service = await store.service(service)
        if found_service is None:
            raise BadInput("error.unknown_service", id=service)
    if specialist is not None:
        specialists = await store.specialists([specialist])
        if not specialists:
            raise BadInput("error.unknown_specialist", id=specialist)
        if service is not None and service not in specialists[0].services:
            raise BadInput("error.not_offered_by", service=service, specialist=specialist)
    elif service is not None:
        specialists = await store.specialists(offering=service)
    else:
        raise BadInput("error.need_service_or_specialist")
    since, until = now - BUSY_LOOKBACK, None
    if near is not None:
        since, until = max(since, near - NEAR), near + NEAR
    bookings = await store.bookings(
        specialists=[s.id for s in specialists], since=since, until=until, live_at=now
    )
    plans = [Plan(s.schedule(business, bookings)) for s in specialists]
    return Context(business, found_service, specialists, plans)


def duration(ctx: Context) -> timedelta | None:
    """The length a question asks for: the service's duration, or None for the slot's."""
    return ctx.service.duration if ctx.service else None


async def free_slots(
    db: Database,
    now: datetime,
    first: date,
    last: date,
    *,
    service: str | None = None,
    specialist: str | None = None,
) -> list[Slot]:
    """Free slots on local dates first..last for a specialist or every one of a service."""
    check_range(first, last)
    async with UnitOfWork(db, write=False) as uow:
        ctx = await context(uow.store, now, service=service, specialist=specialist)
    return search.slots(ctx.plans, first, last, now, ctx.business.rules, duration(ctx))


async def soonest_slot(
    db: Database,
    now: datetime,
    service: str,
    *,
    specialist: str | None = None,
    first: date | None = None,
) -> Slot | None:
    """The soonest free slot within the horizon; a tie goes to the first specialist id."""
    async with UnitOfWork(db, write=False) as uow:
        ctx = await context(uow.store, now, service=service, specialist=specialist)
    return search.soonest_slot(ctx.plans, now, ctx.business.rules, first, duration(ctx))


# -- bookings --------------------------------------------------------------------------


@retried
async def book(
    db: Database,
    now: datetime,
    specialist: str,
    service: str,
    start: datetime,
    client: Client | None = None,
    hold: timedelta | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Booking:
    """Books (or, with `hold`, holds) an offered slot, re-checked by every rule as it is written.

    A booking (not a hold) owes its messages, written in the same transaction.
    """
    async with UnitOfWork(db) as uow:
        await uow.lock(
            specialists=[specialist],
            clients=[client.telegram_id] if client and client.telegram_id else [],
        )
        booking = await take(uow.store, now, specialist, service, start, client, hold)
        if hold is None:
            await owe_booked(uow, booking, now, policy)
        await uow.commit()
        return (await _localized(uow.store, [booking]))[0]


async def take(
    store: Store,
    now: datetime,
    specialist: str,
    service: str,
    start: datetime,
    client: Client | None,
    hold: timedelta | None,
) -> Booking:
    """Writes a booking or hold at `start` if every rule allows it, inside the caller's unit.

    The caller has locked the specialist (UnitOfWork.lock).
    """
    await store.expire_holds(now, specialists=[specialist])
    ctx = await context(store, now, service=service, specialist=specialist, near=start)
    try:
        slot = search.slot_at(ctx.plans[0], start, now, ctx.business.rules, duration(ctx))
    except search.Refusal as refusal:
        raise Refused(f"refused.{refusal.reason}") from None
    status = BookingStatus.HELD if hold else BookingStatus.CONFIRMED
    booking = Booking(specialist, service, slot.start, slot.end, status, client)
    return await store.add_booking(booking, now, hold_until=now + hold if hold else None)


@retried
async def expire_lapsed(db: Database, now: datetime) -> None:
    """Marks every hold that ran out, so that the day index counts its time free again.

    A writer expires the lapsed holds of the specialists it locked; this sweeps the rest,
    under their locks, in a transaction of its own.
    """
    async with UnitOfWork(db, write=False) as uow:
        lapsed = sorted(await uow.store.days.lapsed_holds(now))
    if not lapsed:
        return
    async with UnitOfWork(db) as uow:
        await uow.lock(specialists=lapsed)
        await uow.store.expire_holds(now, specialists=lapsed)
        await uow.commit()


async def owe_booked(uow: UnitOfWork, booking: Booking, now: datetime, policy: Policy) -> None:
    """Writes the messages a new booking owes, in the caller's transaction."""
    specialist = await uow.store.specialist(booking.specialist)
    assert specialist is not None
    await messages.booked(uow.outbox, booking, specialist, now, policy)


async def owe_cancelled(
    uow: UnitOfWork, booking: Booking, now: datetime, by: str, reason: str | None
) -> None:
    """Drops what a cancelled booking no longer needs and owes the other side its notice."""
    specialist = await uow.store.specialist(booking.specialist)
    assert specialist is not None
    others = [] if by == "client" else await alternatives(uow, now, booking)
    await messages.cancelled(uow.outbox, booking, specialist, now, by, reason, others)


async def alternatives(
    uow: UnitOfWork, now: datetime, booking: Booking, most: int = 3
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


async def _localized(store: Store, bookings: list[Booking]) -> list[Booking]:
    """Bookings with their times on their specialists' wall clocks."""
    business = await require_business(store)
    ids = sorted({b.specialist for b in bookings})
    zones = {s.id: zone(s.zone(business)) for s in await store.specialists(ids)}
    return [
        replace(
            b,
            start=b.start.astimezone(zones[b.specialist]),
            end=b.end.astimezone(zones[b.specialist]),
        )
        for b in bookings
    ]


async def list_bookings(
    db: Database,
    *,
    specialist: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[Booking]:
    """Bookings by start, of one specialist or all, on local dates first..last."""
    async with UnitOfWork(db, write=False) as uow:
        await require_business(uow.store)
        if specialist and await uow.store.specialist(specialist) is None:
            raise BadInput("error.unknown_specialist", id=specialist)
        found = await uow.store.bookings(specialists=[specialist] if specialist else None)
        found = await _localized(uow.store, found)
    return [
        b
        for b in found
        if (first is None or first <= b.start.date()) and (last is None or b.start.date() <= last)
    ]


async def business(db: Database) -> Business:
    """The business defaults, or a clear error when nothing is loaded yet."""
    async with UnitOfWork(db, write=False) as uow:
        return await require_business(uow.store)


async def specialist_zone(db: Database, specialist: str) -> str:
    """The time zone a specialist's wall times are in."""
    async with UnitOfWork(db, write=False) as uow:
        business = await require_business(uow.store)
        found = await uow.store.specialist(specialist)
    if found is None:
        raise BadInput("error.unknown_specialist", id=specialist)
    return found.zone(business)
