"""Use cases of the waitlist: join, leave, list, and answer an offer (policy.md "Waitlist").

Offers themselves are made where time frees up (services/offers.py); here a client takes
one (the slot is booked, and the booking the entry was made from is moved in the same
transaction), passes it on ("Not this one": the next entry gets it, theirs keeps
watching), or leaves the waitlist.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from msgspec import Struct
from msgspec.structs import replace

from bookbot.engine.bookings import CLIENT, MOVED, may_confirm, may_let_go, may_reschedule
from bookbot.engine.model import Booking, BookingStatus
from bookbot.engine.waitlist import PARTS, Entry, expired
from bookbot.engine.workday import zone
from bookbot.errors import BadInput, Refused
from bookbot.notify.messages import Policy
from bookbot.services import prepay
from bookbot.services.attendance import refuse_no_shows
from bookbot.services.availability import ANY, context
from bookbot.services.basics import check_range, require_business
from bookbot.services.bookings import DEFAULT_POLICY, terms
from bookbot.services.offers import offer_freed
from bookbot.services.owed import owe_booked, owe_cancelled
from bookbot.services.visits import Visit, named
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork, retried

# Entries one client may wait with at once: /my lists each with its Leave button, and a
# message holds at most 100 buttons (spec/bot.md).
MOST_ENTRIES = 20


@retried
async def join(
    db: Database,
    now: datetime,
    client: int,
    service: str | None = None,
    specialist: str | None = None,
    *,
    first: date | None = None,
    last: date | None = None,
    parts: Iterable[str] = (),
    from_booking: int | None = None,
    location: str | None = None,
) -> Entry:
    """Puts a client on the waitlist for a service, with one specialist or any (None or ANY).

    The dates default to today..the horizon, or ..the booking's date when the entry is
    made from a booking ("Want it sooner?"), whose service, specialist and place it takes;
    they are cut to today..the horizon, and a range wholly past is refused. `location`
    (None or ANY: any place) is a chain's place the client chose.
    """
    parts = frozenset(parts)
    if not parts <= set(PARTS):
        raise BadInput("waiting.bad_parts")
    async with UnitOfWork(db) as uow:
        await uow.lock(clients=[client])
        business = await require_business(uow.catalog)
        today = now.astimezone(zone(business.timezone)).date()
        waiting = await uow.waitlist.entries(client, today)
        horizon = today + timedelta(days=business.rules.horizon_days)
        if from_booking is not None:
            moving = await _own(uow, from_booking, client)
            # waiting for a sooner time is moving the visit: the cut-off binds it too
            refusal = may_reschedule(moving, CLIENT, now, *await terms(uow, moving))
            if refusal:
                raise Refused(refusal, id=from_booking, status=str(moving.status))
            service, specialist, location = moving.service, moving.specialist, moving.location
            last = last or moving.start.astimezone(zone(business.timezone)).date()
        if service is None:
            raise BadInput("error.need_service_or_specialist")
        specialist = None if specialist in (None, ANY) else specialist
        location = None if location in (None, ANY) else location
        if location is not None and business.location(location) is None:
            raise BadInput("error.unknown_location", id=location)
        await context(uow, now, service=service, specialist=specialist)  # checks the ids
        first, last = max(first or today, today), min(last or horizon, horizon)
        check_range(first, last)
        for same in waiting:  # a second tap on Join (or a repeated command) adds nothing
            wish = (same.service, same.specialist, same.location, same.first, same.last)
            if wish == (service, specialist, location, first, last) and same.parts == parts:
                return same
        if len(waiting) >= MOST_ENTRIES:
            raise Refused("waiting.too_many", most=MOST_ENTRIES)
        entry = await uow.waitlist.add(
            client=client,
            service=service,
            specialist=specialist,
            location=location,
            first=first,
            last=last,
            parts=parts,
            now=now,
            from_booking=from_booking,
        )
        await uow.commit()
        return entry


class Waiting(Struct, frozen=True):
    """An entry with the names it shows: its service's and its specialist's (None: any)."""

    entry: Entry
    service: str
    specialist: str | None


async def entries(db: Database, now: datetime, client: int) -> list[Waiting]:
    """A client's entries still waiting, earliest joined first."""
    async with UnitOfWork(db, write=False) as uow:
        return await _named(uow, await uow.waitlist.entries(client, await _today(uow, now)))


async def waiting(db: Database, now: datetime, service: str | None = None) -> list[Waiting]:
    """Every entry still waiting (of one service, or all), oldest first: staff's view."""
    async with UnitOfWork(db, write=False) as uow:
        if service is not None and await uow.catalog.service(service) is None:
            raise BadInput("error.unknown_service", id=service)
        return await _named(uow, await uow.waitlist.waiting(await _today(uow, now), service))


async def _named(uow: UnitOfWork, found: list[Entry]) -> list[Waiting]:
    """The entries with their names, and the instant each joined in the business's zone."""
    services = {s.id: s.name for s in await uow.catalog.services()}
    specialists = {s.id: s.name for s in await uow.catalog.specialists()}
    tz = zone((await require_business(uow.catalog)).timezone)
    return [
        Waiting(
            replace(e, joined_at=e.joined_at.astimezone(tz)),
            services.get(e.service, e.service),
            None if e.specialist is None else specialists.get(e.specialist, e.specialist),
        )
        for e in found
    ]


@retried
async def leave(db: Database, now: datetime, client: int, entry_id: int) -> None:
    """Takes a client's entry off the waitlist; an offer it holds passes to the next entry."""
    async with UnitOfWork(db) as uow:
        await uow.lock(clients=[client])
        offer = await uow.waitlist.offer_of(entry_id)
        if offer is not None:
            await uow.lock(specialists=[offer.specialist])
        if not await uow.waitlist.leave(entry_id, now, client=client):
            raise BadInput("waiting.unknown_entry")
        if offer is not None:
            await _pass(uow, now, offer)
        await uow.commit()


@retried
async def leave_offered(db: Database, now: datetime, client: int, booking_id: int) -> None:
    """ "Leave the waitlist" on an offer: the entry ends and the slot goes to the next."""
    async with UnitOfWork(db, write=False) as uow:
        entry = await _entry_of(uow, booking_id, client)
    await leave(db, now, client, entry.id)


@retried
async def pass_on(db: Database, now: datetime, client: int, booking_id: int) -> None:
    """ "Not this one": the offer lapses and goes to the next entry; the client's keeps watching."""
    async with UnitOfWork(db) as uow:
        await uow.lock(clients=[client])
        offer = await _own(uow, booking_id, client)
        await _entry_of(uow, booking_id, client)
        await uow.lock(bookings=[offer])
        current = await _own(uow, booking_id, client)
        if may_confirm(current, now, offer) is None:
            await _pass(uow, now, current)
        await uow.commit()


@retried
async def take(
    db: Database,
    now: datetime,
    client: int,
    booking_id: int,
    policy: Policy = DEFAULT_POLICY,
    provider: bool = False,
) -> Visit:
    """ "Take it": books the offered slot and ends the entry, if the no-show rules allow.

    When the entry was made from a booking, that booking is let go in the same
    transaction (and its time offered on), so the client never holds both or neither;
    its payment goes with the visit. A visit that asks a payment (and moves no paid one)
    awaits it instead, as a confirmation would (services/prepay.py `ask`; `provider`: a
    payment provider's token is set): the booking moved is let go once it is paid.
    """
    async with UnitOfWork(db) as uow:
        await uow.lock(clients=[client])
        seen = await _own(uow, booking_id, client)
        entry = await _entry_of(uow, booking_id, client)
        moving = await uow.bookings.booking(entry.from_booking) if entry.from_booking else None
        await uow.lock(bookings=[seen, *([moving] if moving else [])])
        current = await _own(uow, booking_id, client)
        refusal = may_confirm(current, now, seen)
        if refusal:
            raise Refused(refusal, start=seen.start)
        payable = await prepay.payable(uow, current.service, provider)
        await refuse_no_shows(uow, now, client, payable)  # marked since the offer was made
        old = await uow.bookings.booking(entry.from_booking) if entry.from_booking else None
        await uow.waitlist.leave(entry.id, now)
        # the chat's "moving" is what a payment's confirmation lets go (bookings.confirm_held)
        draft = await uow.chats.draft(client)
        moved = old.id if old is not None and may_let_go(old) is None else None
        await uow.chats.save_draft(replace(draft, rescheduling=moved), now)
        if await prepay.ask(uow, now, current, client, provider) is not None:
            await uow.commit()
            return await named(uow.catalog, await _own(uow, booking_id, client))
        await uow.chats.save_draft(replace(draft, rescheduling=None), now)
        await uow.bookings.set_status(booking_id, BookingStatus.CONFIRMED, now)
        await owe_booked(uow, current, now, policy)
        if old is not None and old.id is not None and moved is not None:
            await prepay.carry(uow, old.id, booking_id)
            await uow.bookings.set_status(old.id, BookingStatus.CANCELLED, now, CLIENT, MOVED)
            await owe_cancelled(uow, old, now, CLIENT, MOVED)
            await offer_freed(uow, now, old.specialist, times=[(old.start, old.end)])
        await uow.commit()
        return await named(uow.catalog, await _own(uow, booking_id, client))


async def end_passed(db: Database, now: datetime) -> int:
    """Ends every entry whose dates have all passed (engine `expired`); how many it ended.

    The outbox's round runs it, as it runs the sweep of lapsed holds. A read finds them
    first, so a round with nothing to end writes nothing.
    """
    async with UnitOfWork(db, write=False) as uow:
        today = await _today(uow, now)
        if not [e for e in await uow.waitlist.passed(today) if expired(e, today)]:
            return 0
    async with UnitOfWork(db) as uow:
        today = await _today(uow, now)
        ended = 0
        for entry in await uow.waitlist.passed(today):
            if expired(entry, today):
                ended += await uow.waitlist.leave(entry.id, now)
        await uow.commit()
        return ended


async def _pass(uow: UnitOfWork, now: datetime, offer: Booking) -> None:
    """Lets an offer lapse and offers its time to the next entry (the specialist is locked)."""
    assert offer.id is not None
    await uow.bookings.set_status(offer.id, BookingStatus.EXPIRED, now)
    await offer_freed(uow, now, offer.specialist, times=[(offer.start, offer.end)])


async def _entry_of(uow: UnitOfWork, booking_id: int, client: int) -> Entry:
    """The entry a client's offer was made for; anything else is an unknown booking."""
    entry = await uow.waitlist.offered(booking_id)
    if entry is None or entry.client != client:
        raise BadInput("error.unknown_booking", id=booking_id)
    return entry


async def _own(uow: UnitOfWork, booking_id: int, client: int) -> Booking:
    """A booking of this client; someone else's is reported as unknown."""
    found = await uow.bookings.booking(booking_id)
    if found is None or found.client is None or found.client.telegram_id != client:
        raise BadInput("error.unknown_booking", id=booking_id)
    return found


async def _today(uow: UnitOfWork, now: datetime) -> date:
    business = await require_business(uow.catalog)
    return now.astimezone(zone(business.timezone)).date()
