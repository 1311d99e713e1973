"""Offering freed time to the waitlist, inside the unit of work that freed it.

Every change that frees time (a cancel, the booking a move lets go, a hold or offer that
runs out, a schedule that opens) calls `offer_freed` before it commits, under the lock of
the specialist: each free slot there goes, as a held booking, to the entry the engine
picks (engine/waitlist.py `pick`), and the offer's message is owed in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from bookbot.engine import search
from bookbot.engine.bookings import after_no_shows
from bookbot.engine.model import Booking, Slot
from bookbot.engine.waitlist import Entry, pick
from bookbot.engine.workday import zone
from bookbot.errors import Refused
from bookbot.notify import messages
from bookbot.services.availability import context, duration
from bookbot.services.basics import require_business
from bookbot.store.uow import OutOfOrder, UnitOfWork

Freed = tuple[datetime, datetime]  # the start and end of time a change let go


async def offer_freed(
    uow: UnitOfWork,
    now: datetime,
    specialist: str,
    *,
    times: Iterable[Freed] = (),
    first: date | None = None,
    last: date | None = None,
) -> list[Booking]:
    """Offers a specialist's free slots to the waitlist; the offers made.

    With `times`, the slots overlapping that freed time, on its local dates; otherwise
    every free slot on local dates first..last (default: today..the horizon), as after a
    schedule opened. The caller has locked the specialist (UnitOfWork.lock).
    """
    business = await require_business(uow.catalog)
    found = await uow.catalog.specialists([specialist])
    if not found:
        return []
    tz = found[0].zone(business)
    freed = sorted(times)
    if freed:
        first = min(start.astimezone(zone(tz)).date() for start, _ in freed)
        last = max(end.astimezone(zone(tz)).date() for _, end in freed)
    first = first or now.astimezone(zone(tz)).date()
    last = last or first + timedelta(days=business.rules.horizon_days)
    made: list[Booking] = []
    for service in found[0].services:
        if not await _anyone_waits(uow, service, specialist, first, last):
            continue
        ctx = await context(uow, now, service=service, specialist=specialist)
        for slot in search.slots(ctx.plans, first, last, now, business.rules, duration(ctx)):
            if freed and not _meets(freed, slot):
                continue
            if _meets([(b.start, b.end) for b in made], slot):
                continue
            offer = await _offer(uow, now, slot, service, tz)
            if offer is not None:
                made.append(offer)
    return made


def _meets(times: Iterable[Freed], slot: Slot) -> bool:
    """Tells whether a slot shares any instant with any of these times."""
    return any(start < slot.end and slot.start < end for start, end in times)


async def _anyone_waits(
    uow: UnitOfWork, service: str, specialist: str, first: date, last: date
) -> bool:
    """Tells whether an entry waits for this service with this specialist on these dates."""
    return any(
        entry.first <= last and entry.specialist in (None, specialist)
        for entry in await uow.waitlist.waiting(first, service)
    )


async def _offer(
    uow: UnitOfWork, now: datetime, slot: Slot, service: str, tz: str
) -> Booking | None:
    """Holds one slot for the entry the engine picks, owing its message; None for nobody."""
    business = await require_business(uow.catalog)
    day = slot.start.astimezone(zone(tz)).date()
    let_go = await uow.waitlist.let_go(slot.specialist, slot.start)
    entries = [e for e in await uow.waitlist.candidates(service, slot.specialist, day)]
    entries = [e for e in entries if e.id not in let_go]
    busy = await uow.waitlist.offered_clients(now) | await _barred(uow, now, entries)
    while True:
        entry = pick(entries, slot, tz, now, business.rules.min_notice, busy, service=service)
        if entry is None:
            return None
        if not await _free_to_offer(uow, now, entry.client):
            busy.add(entry.client)
            continue
        try:
            offer = await uow.waitlist.offer(entry, slot, now, now + business.policy.waitlist_hold)
        except Refused:
            return None  # the slot was taken meanwhile
        if offer is not None:
            await messages.offered(uow.outbox, offer, now)
            return offer
        entries = [e for e in entries if e.id != entry.id]  # offered one meanwhile


async def _free_to_offer(uow: UnitOfWork, now: datetime, client: int) -> bool:
    """Locks a client about to be offered time; tells whether they still hold no offer.

    Two units freeing time of two specialists at once (each under its own lock) may both
    pick one client, waiting for both: the client's lock makes the second see the
    first's offer. A client's lock comes after the specialist's, so it is only tried
    (UnitOfWork.lock): one held by another writer passes the client over this time.
    """
    try:
        await uow.lock(clients=[client])
    except OutOfOrder:
        return False
    return client not in await uow.waitlist.offered_clients(now)


async def _barred(uow: UnitOfWork, now: datetime, entries: list[Entry]) -> set[int]:
    """The clients of these entries whom the no-show rules keep from booking online."""
    policy = (await require_business(uow.catalog)).policy
    if policy.no_show_limit is None or policy.after_no_shows is None:
        return set()
    barred = set()
    for client in {e.client for e in entries}:
        count = await uow.bookings.no_shows(client, now, policy.no_show_window)
        if after_no_shows(count, policy.no_show_limit, policy.after_no_shows):
            barred.add(client)
    return barred


async def expire_and_offer(
    uow: UnitOfWork, now: datetime, *, specialists: list[str], client: int | None = None
) -> None:
    """Expires lapsed holds (or a client's) of these locked specialists; offers the time.

    A lapsed offer is so passed on to the next entry (it is not offered to its own again).
    """
    freed = await uow.bookings.expire_holds(now, client=client, specialists=specialists)
    for specialist in sorted({specialist for specialist, _, _ in freed}):
        times = [(start, end) for who, start, end in freed if who == specialist]
        await offer_freed(uow, now, specialist, times=times)
