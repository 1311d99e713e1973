"""Use cases of a booking's life: book, hold, one confirm, one cancel, one reschedule.

The chat, the staff commands and the command line call these with who is asking
(engine/bookings.py `ACTORS`); the engine answers whether that actor may, and the answer
is raised as `Refused(key)`. Each is one unit of work that locks what it changes, and
writes the change with the messages it owes (services/owed.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from msgspec.structs import replace

from bookbot.engine import bookings, search
from bookbot.engine import policy as engine_policy
from bookbot.engine.bookings import CLIENT, OPERATOR
from bookbot.engine.model import Booking, BookingStatus, Client, Service
from bookbot.engine.places import Where
from bookbot.errors import BadInput, Refused
from bookbot.notify.messages import Policy
from bookbot.services import directory, prepay
from bookbot.services.attendance import refuse_no_shows
from bookbot.services.availability import ANY, Context, at, chosen, context, duration
from bookbot.services.basics import require_business
from bookbot.services.booked import localized
from bookbot.services.offers import expire_and_offer, offer_freed
from bookbot.services.owed import owe_booked, owe_cancelled
from bookbot.services.visits import Visit, named
from bookbot.store.chats import Draft
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork, retried

DEFAULT_POLICY = Policy()


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
        if hold is not None and client is not None and client.telegram_id is not None:
            await refuse_no_shows(uow, now, client.telegram_id)
        booking = await take(uow, now, specialist, service, start, client, hold)
        if hold is None:
            await owe_booked(uow, booking, now, policy)
        await uow.commit()
        return (await localized(uow.catalog, [booking]))[0]


async def take(
    uow: UnitOfWork,
    now: datetime,
    specialist: str,
    service: str,
    start: datetime,
    client: Client | None,
    hold: timedelta | None,
) -> Booking:
    """Writes a booking or hold at `start` if every rule allows it, inside the caller's unit.

    The caller has locked the specialist (UnitOfWork.lock). Holds of theirs that ran out
    are marked first and their time offered, when there are any.
    """
    ctx = await context(uow, now, service=service, specialist=specialist, near=start)
    if ctx.lapsed:
        await expire_and_offer(uow, now, specialists=[specialist])
        ctx = await context(uow, now, service=service, specialist=specialist, near=start)
    try:
        slot = search.slot_at(ctx.plans[0], start, now, ctx.business.rules, duration(ctx))
    except search.Refusal as refusal:
        raise Refused(f"refused.{refusal.reason}") from None
    status = BookingStatus.HELD if hold else BookingStatus.CONFIRMED
    booking = Booking(
        specialist, service, slot.start, slot.end, status, client, location=slot.location
    )
    return await uow.bookings.add_booking(booking, now, hold_until=now + hold if hold else None)


@retried
async def hold(
    db: Database,
    now: datetime,
    telegram_id: int,
    service: str,
    specialist: str,
    start: datetime,
    length: timedelta,
    *,
    provider: bool = False,
    where: Where | None = None,
) -> Visit:
    """Holds a slot for a client; "any available" picks the least busy free specialist.

    `provider`: a payment provider's token is set (a client whose no-shows bring
    `prepay` may then hold, and pays in full on confirming). Asked `where`, only a slot
    at one of its places is held.
    """
    async with UnitOfWork(db) as uow:
        # Holds that ran out anywhere are let go first (under their specialists' locks), so
        # "any available" sees their time free; their time is offered to the waitlist.
        lapsed = sorted(await uow.days.lapsed_holds(now))
        await let_go_holds(
            uow, now, telegram_id, [*lapsed, *([] if specialist == ANY else [specialist])]
        )
        await expire_and_offer(uow, now, specialists=lapsed)
        await refuse_no_shows(uow, now, telegram_id, await prepay.payable(uow, service, provider))
        if specialist == ANY:
            free = await directory.free_at(uow, now, service, start, where)
        else:
            free = _free_at(await chosen(uow, now, service, specialist), start, now, where)
        if not free:
            raise Refused("refused.taken")
        upcoming = await uow.bookings.bookings(specialists=free, since=now, live_at=now)
        who = _fairest(free, upcoming)
        await uow.lock(specialists=[who])  # `take` checks the slot again, under the lock
        profile = await uow.chats.profile(telegram_id)
        client = Client(profile.name, profile.phone, telegram_id)
        taken = await take(uow, now, who, service, start, client, length)
        await uow.commit()
        return await named(uow.catalog, taken)


async def let_go_holds(
    uow: UnitOfWork, now: datetime, telegram_id: int, specialists: list[str]
) -> None:
    """Locks a client, these specialists and those of the client's holds; lets the holds go.

    What a new hold or a restart of the chat does first.
    """
    await uow.lock(clients=[telegram_id])
    held_with = sorted(
        {
            b.specialist
            for b in await uow.bookings.bookings(client=telegram_id)
            if b.status == BookingStatus.HELD
        }
    )
    await uow.lock(specialists=[*held_with, *specialists])
    await expire_and_offer(uow, now, client=telegram_id, specialists=held_with)


def _free_at(ctx: Context, start: datetime, now: datetime, where: Where | None = None) -> list[str]:
    """The specialists of the context offering a slot at `start` (asked `where`: there)."""
    free = []
    for plan in at(ctx.plans, where):
        try:
            search.slot_at(plan, start, now, ctx.business.rules, duration(ctx))
        except search.Refusal:
            continue
        free.append(plan.specialist)
    return free


def _fairest(free: list[str], upcoming: list[Booking]) -> str:
    """Of the specialists offering a slot, the one with the fewest coming bookings."""
    load = {s: sum(1 for b in upcoming if b.specialist == s) for s in free}
    return min(free, key=lambda s: (load[s], s))


@retried
async def expire_lapsed(db: Database, now: datetime) -> None:
    """Marks every hold that ran out, so that the day index counts its time free again.

    A writer expires the lapsed holds of the specialists it locked; this sweeps the rest,
    under their locks, in a transaction of its own. The time freed is offered to the
    waitlist (a lapsed offer passes to the next entry).
    """
    async with UnitOfWork(db, write=False) as uow:
        lapsed = sorted(await uow.days.lapsed_holds(now))
    if not lapsed:
        return
    async with UnitOfWork(db) as uow:
        await uow.lock(specialists=lapsed)
        await expire_and_offer(uow, now, specialists=lapsed)
        await uow.commit()


@retried
async def confirm(
    db: Database,
    now: datetime,
    booking_id: int,
    *,
    client: int | None = None,
    policy: Policy = DEFAULT_POLICY,
    provider: bool = False,
) -> Visit:
    """Turns a live hold into a confirmed booking; a hold that ran out is refused.

    With `client` (their Telegram id), the hold must be theirs, the no-show rules must
    still let them book online (a mark may have come since they held it), and a booking
    they are moving away from is let go in the same transaction (`reschedule`). A visit
    that asks a payment is not confirmed yet: its hold awaits the payment
    (services/prepay.py `ask`; `provider`: a payment provider's token is set), and the
    Visit returned says what is due.
    """
    async with UnitOfWork(db) as uow:
        if client is None:
            seen = await _existing(uow, booking_id)
            await uow.lock(bookings=[seen])
        else:
            await uow.lock(clients=[client])
            seen = await _own(uow, booking_id, client)
            moving = await _moving(uow, client)
            await uow.lock(bookings=[seen, *([moving] if moving else [])])
        await expire_and_offer(uow, now, specialists=[seen.specialist])
        current = await _existing(uow, booking_id)
        refusal = bookings.may_confirm(current, now, seen)
        if refusal:
            raise Refused(refusal, start=seen.start)
        if client is not None:
            # marked meanwhile: held, not booked (prepay asks the full price where payable)
            payable = await prepay.payable(uow, current.service, provider)
            await refuse_no_shows(uow, now, client, payable)
            if await prepay.ask(uow, now, current, client, provider):
                await uow.commit()
                return await named(uow.catalog, await _existing(uow, booking_id))
        await confirm_held(uow, now, current, client, policy)
        await uow.commit()
        return await named(uow.catalog, await _existing(uow, booking_id))


async def confirm_held(
    uow: UnitOfWork, now: datetime, held: Booking, client: int | None, policy: Policy
) -> None:
    """Confirms a hold the caller found confirmable, letting go what its client moves from.

    Inside the caller's unit (`confirm`, and a payment's: services/payments.py `take`),
    which has locked the client and the bookings; writes the messages it owes.
    """
    assert held.id is not None
    if client is not None:
        await _let_go_moved(uow, now, client, held.id)
    await uow.bookings.set_status(held.id, BookingStatus.CONFIRMED, now)
    await owe_booked(uow, held, now, policy)


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
        if client is None:
            await uow.lock(bookings=[await _existing(uow, booking_id)])
            found = await _existing(uow, booking_id)
        else:
            await uow.lock(bookings=[await _own(uow, booking_id, client)], clients=[client])
            found = await _own(uow, booking_id, client)
        refusal = bookings.may_cancel(found, by, now, *await terms(uow, found))
        if refusal:
            raise Refused(refusal, id=booking_id, status=str(found.status))
        await uow.bookings.set_status(booking_id, BookingStatus.CANCELLED, now, by, reason)
        await owe_cancelled(uow, found, now, by, reason)
        await offer_freed(uow, now, found.specialist, times=[(found.start, found.end)])
        await uow.commit()
        return await named(uow.catalog, replace(found, status=BookingStatus.CANCELLED))


@retried
async def reschedule(db: Database, now: datetime, client: int, booking_id: int) -> Draft:
    """Begins moving one of a client's bookings to another time; the old one stays.

    The client then chooses and holds a new time; `confirm` lets the old booking go. In a
    chain the move stays at the visit's place (Back leads to Where? to change it).
    """
    async with UnitOfWork(db) as uow:
        await uow.lock(clients=[client])
        mine = await _own(uow, booking_id, client)
        refusal = bookings.may_reschedule(mine, CLIENT, now, *await terms(uow, mine))
        if refusal:
            raise Refused(refusal, id=booking_id, status=str(mine.status))
        draft = Draft(client, mine.service, mine.specialist, booking_id, mine.location)
        await uow.chats.save_draft(draft, now)
        await uow.commit()
        return draft


async def terms(uow: UnitOfWork, found: Booking) -> tuple[Service, engine_policy.Policy]:
    """The booking's service and the business's policy: what its cut-off is made of."""
    service = await uow.catalog.service(found.service)
    assert service is not None  # a booking's service is kept while bookings name it
    return service, (await require_business(uow.catalog)).policy


async def _moving(uow: UnitOfWork, client: int) -> Booking | None:
    """The booking a client is moving to another time, if any."""
    draft = await uow.chats.draft(client)
    return None if draft.rescheduling is None else await uow.bookings.booking(draft.rescheduling)


async def _let_go_moved(uow: UnitOfWork, now: datetime, client: int, new: int) -> None:
    """Cancels the booking a client moved away from, and forgets that they were moving it.

    Its payments go with the visit to its `new` booking.
    """
    draft = await uow.chats.draft(client)
    if draft.rescheduling is None:
        return
    old = await uow.bookings.booking(draft.rescheduling)
    if old is not None and _owned(old, client) and bookings.may_let_go(old) is None:
        await prepay.carry(uow, draft.rescheduling, new)
        await uow.bookings.set_status(
            draft.rescheduling, BookingStatus.CANCELLED, now, CLIENT, bookings.MOVED
        )
        await owe_cancelled(uow, old, now, CLIENT, bookings.MOVED)
        await offer_freed(uow, now, old.specialist, times=[(old.start, old.end)])
    await uow.chats.save_draft(replace(draft, rescheduling=None), now)


def _owned(found: Booking, client: int) -> bool:
    return found.client is not None and found.client.telegram_id == client


async def _own(uow: UnitOfWork, booking_id: int, client: int) -> Booking:
    """A booking of this client; someone else's is reported as unknown."""
    found = await uow.bookings.booking(booking_id)
    if found is None or not _owned(found, client):
        raise BadInput("error.unknown_booking", id=booking_id)
    return found


async def _existing(uow: UnitOfWork, booking_id: int) -> Booking:
    found = await uow.bookings.booking(booking_id)
    if found is None:
        raise BadInput("error.unknown_booking", id=booking_id)
    return found
