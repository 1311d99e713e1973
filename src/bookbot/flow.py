"""Use cases of the client's booking flow in the chat, on top of booking.py.

Everything here re-checks its inputs against the store and the engine, because a tap may
come from a stale, forged or foreign button.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from bookbot import booking
from bookbot.engine import bookings, search
from bookbot.engine.model import Booking, BookingStatus, Client, Service, Slot, Specialist
from bookbot.errors import BadInput, Refused
from bookbot.services import directory
from bookbot.services.visits import Visit, named
from bookbot.store.db import Database
from bookbot.store.repository import Draft, Profile, Store
from bookbot.store.uow import UnitOfWork, retried

ANY = "*"
VIEWS = 1024  # views kept per process for one version of the data
Seen = tuple[str, int]  # the schedule stamp and the availability counter (Store.chat)
FAR = timedelta(days=3)
NEIGHBOURS = 3
SOONER = 3  # specialists offered as free sooner: the soonest few, not everyone
T = TypeVar("T")


@dataclass(frozen=True)
class Choice:
    """A specialist offering the chosen service, with their soonest free slot."""

    specialist: Specialist
    soonest: Slot | None


async def services(db: Database, *, seen: Seen | None = None) -> list[Service]:
    """Every service, in the clinic's order."""

    async def compute() -> list[Service]:
        async with UnitOfWork(db, write=False) as uow:
            await booking.require_business(uow.store)
            return await uow.store.services()

    return await _viewed(db, seen, None, ("services",), compute)


@dataclass(frozen=True)
class Month:
    """What the calendar shows: bookable days of one month, the soonest day, sooner others."""

    shown: date
    first: date
    last: date
    days: set[date]
    soonest: date | None
    sooner: list[Choice]


async def choices(
    db: Database, now: datetime, service: str, *, seen: Seen | None = None
) -> list[Choice]:
    """The specialists of a service with their soonest free slots, soonest first."""

    async def compute() -> list[Choice]:
        async with UnitOfWork(db, write=False) as uow:
            return await _choices(uow, now, service)

    return await _viewed(db, seen, now, ("choices", service), compute)


async def _choices(uow: UnitOfWork, now: datetime, service: str) -> list[Choice]:
    days = await directory.soonest_in(uow, now, service)
    by_id = {s.id: s for s in await uow.store.specialists(offering=service)}
    found = [Choice(by_id[d.specialist], d.slots[0] if d.slots else None) for d in days]
    return sorted(found, key=_soonest_first)


def _soonest_first(choice: Choice) -> tuple:
    """Orders choices by their soonest free start, then id; those with none come last."""
    if choice.soonest is None:
        return (1, datetime.max.replace(tzinfo=UTC), choice.specialist.id)
    return (0, choice.soonest.start, choice.specialist.id)


async def month(
    db: Database,
    now: datetime,
    service: str,
    specialist: str,
    shown: date | None,
    *,
    seen: Seen | None = None,
) -> Month:
    """The calendar of a service with one specialist or any: which days can be pressed.

    "Any available" asks the day index (directory.py); one specialist asks the engine.
    """
    return await _viewed(
        db,
        seen,
        now,
        ("month", service, specialist, shown),
        lambda: _month(db, now, service, specialist, shown),
    )


async def _month(
    db: Database, now: datetime, service: str, specialist: str, shown: date | None
) -> Month:
    if specialist == ANY:
        found = await directory.calendar(db, now, service, shown)
        if found is None:
            raise BadInput("error.not_offered_by", service=service, specialist=specialist)
        return Month(found.shown, found.first, found.last, found.days, found.soonest, [])
    async with UnitOfWork(db, write=False) as uow:
        if await uow.store.service(service) is None:
            raise BadInput("error.unknown_service", id=service)
        if not await uow.store.specialists([specialist], offering=service):
            raise BadInput("error.not_offered_by", service=service, specialist=specialist)
        ctx = await booking.context(uow.store, now, service=service, specialist=specialist)
        plans = ctx.plans
        rules, length = ctx.business.rules, booking.duration(ctx)
        first = min(plan.today(now) for plan in plans)
        last = first + timedelta(days=rules.horizon_days)
        mine = search.soonest_slot(plans, now, rules, None, length)
        shown = (shown or (mine.start.astimezone(plans[0].tz).date() if mine else first)).replace(
            day=1
        )
        if not first.replace(day=1) <= shown <= last:
            raise BadInput("error.range_too_long", days=rules.horizon_days)
        following = (shown + timedelta(days=31)).replace(day=1)
        days = set(
            search.free_days(plans, shown, following - timedelta(days=1), now, rules, length)
        )
        others = []
        if mine is None or mine.start - now > FAR:
            others = _sooner(await _choices(uow, now, service), specialist, mine)
    soonest = mine.start.astimezone(plans[0].tz).date() if mine else None
    return Month(shown, first, last, days, soonest, others)


async def _viewed(
    db: Database,
    seen: Seen | None,
    now: datetime | None,
    key: tuple,
    compute: Callable[[], Awaitable[T]],
) -> T:
    """A view computed once per version of the data and minute, then shared by every tap.

    Every change to what is free raises the counter in its own transaction, and slot starts
    and notices are whole minutes, so a view read at one instant of a minute is the view of
    the whole minute. Only a hold that lapses within the minute shows until its end.
    Without `seen` (outside the bot), the view is computed afresh.
    """
    if seen is None:
        return await compute()
    key = (now.replace(second=0, microsecond=0) if now else None, *key)
    version, views = db.cache.get("views", (None, {}))
    if version != seen:
        views = {}
        db.cache["views"] = (seen, views)
    if key not in views:
        found = await compute()
        if len(views) >= VIEWS:
            views.clear()
        views[key] = found
    return views[key]


def _sooner(options: list[Choice], chosen: str, mine: Slot | None) -> list[Choice]:
    """The SOONER others offering the service who are free soonest, before the chosen one."""
    return [
        c
        for c in options
        if c.specialist.id != chosen
        and c.soonest is not None
        and (mine is None or c.soonest.start < mine.start)
    ][:SOONER]


async def _context(store: Store, now: datetime, service: str, specialist: str) -> booking.Context:
    return await booking.context(
        store, now, service=service, specialist=None if specialist == ANY else specialist
    )


async def free_times(
    db: Database,
    now: datetime,
    service: str,
    specialist: str,
    first: date,
    last: date,
    *,
    seen: Seen | None = None,
) -> list[Slot]:
    """Free slots on dates first..last; for "any available", one per start, first id."""
    return await _viewed(
        db,
        seen,
        now,
        ("times", service, specialist, first, last),
        lambda: _free_times(db, now, service, specialist, first, last),
    )


async def _free_times(
    db: Database, now: datetime, service: str, specialist: str, first: date, last: date
) -> list[Slot]:
    if specialist == ANY:
        found = await directory.free_slots(db, now, service, first, last)
    else:
        async with UnitOfWork(db, write=False) as uow:
            ctx = await _context(uow.store, now, service, specialist)
        found = search.slots(ctx.plans, first, last, now, ctx.business.rules, booking.duration(ctx))
    starts: dict[datetime, Slot] = {}
    for slot in found:
        starts.setdefault(slot.start, slot)
    return list(starts.values())


@retried
async def hold(
    db: Database,
    now: datetime,
    telegram_id: int,
    service: str,
    specialist: str,
    start: datetime,
    length: timedelta,
) -> Visit:
    """Holds a slot for a client; "any available" picks the least busy free specialist."""
    await booking.expire_lapsed(db, now)
    async with UnitOfWork(db) as uow:
        store = uow.store
        held_with = await _lock_client(uow, telegram_id, [] if specialist == ANY else [specialist])
        await store.expire_holds(now, client=telegram_id, specialists=held_with)
        if specialist == ANY:
            free = await directory.free_at(uow, now, service, start)
        else:
            free = _free_at(await _context(store, now, service, specialist), start, now)
        if not free:
            raise Refused("refused.taken")
        who = _fairest(free, await store.bookings(specialists=free, since=now, live_at=now))
        await uow.lock(specialists=[who])  # `take` checks the slot again, under the lock
        profile = await store.profile(telegram_id)
        client = Client(profile.name, profile.phone, telegram_id)
        taken = await booking.take(store, now, who, service, start, client, length)
        await uow.commit()
        return await named(store, taken)


async def _lock_client(uow: UnitOfWork, telegram_id: int, specialists: list[str]) -> list[str]:
    """Locks a client, these specialists and those of the client's holds; returns the latter.

    Their holds are what a new hold or a restart lets go of.
    """
    await uow.lock(clients=[telegram_id])
    held_with = sorted(
        {
            b.specialist
            for b in await uow.store.bookings(client=telegram_id)
            if b.status == BookingStatus.HELD
        }
    )
    await uow.lock(specialists=[*held_with, *specialists])
    return held_with


def _free_at(ctx: booking.Context, start: datetime, now: datetime) -> list[str]:
    """The specialists of the context offering a slot at `start`."""
    free = []
    for plan in ctx.plans:
        try:
            search.slot_at(plan, start, now, ctx.business.rules, booking.duration(ctx))
        except search.Refusal:
            continue
        free.append(plan.specialist)
    return free


def _fairest(free: list[str], upcoming: list[Booking]) -> str:
    """Of the specialists offering a slot, the one with the fewest coming bookings."""
    load = {s: sum(1 for b in upcoming if b.specialist == s) for s in free}
    return min(free, key=lambda s: (load[s], s))


async def held(db: Database, now: datetime, telegram_id: int) -> Visit | None:
    """The client's live hold, if one is waiting for confirmation."""
    async with UnitOfWork(db, write=False) as uow:
        mine = [
            b
            for b in await uow.store.bookings(client=telegram_id, since=now)
            if b.status == BookingStatus.HELD and bookings.is_live(b, now)
        ]
        return await named(uow.store, mine[-1]) if mine else None


async def coming(db: Database, now: datetime, telegram_id: int) -> list[Visit]:
    """The client's confirmed bookings that have not begun, soonest first."""
    async with UnitOfWork(db, write=False) as uow:
        found = [
            b
            for b in await uow.store.bookings(client=telegram_id, since=now)
            if bookings.is_coming(b, now)
        ]
        return [await named(uow.store, b) for b in found]


async def neighbours(
    db: Database, now: datetime, service: str, specialist: str, start: datetime
) -> list[Slot]:
    """A few free slots nearest to a time that was just taken, any day in the horizon."""
    async with UnitOfWork(db, write=False) as uow:
        ctx = await _context(uow.store, now, service, specialist)
    rules, length = ctx.business.rules, booking.duration(ctx)
    day = start.astimezone(ctx.plans[0].tz).date() if ctx.plans else start.date()
    nearby: list[Slot] = []
    for reach in (0, 3, rules.horizon_days):  # the same day first, then wider
        nearby = search.slots(
            ctx.plans, day - timedelta(days=reach), day + timedelta(days=reach), now, rules, length
        )
        if len(nearby) >= NEIGHBOURS:
            break
    return sorted(nearby, key=lambda s: abs(s.start - start))[:NEIGHBOURS]


@retried
async def restart(db: Database, now: datetime, telegram_id: int) -> None:
    """Starts the flow afresh: forgets where it stood and lets go of any held slot."""
    async with UnitOfWork(db) as uow:
        held_with = await _lock_client(uow, telegram_id, [])
        await uow.store.expire_holds(now, client=telegram_id, specialists=held_with)
        await uow.store.save_draft(Draft(telegram_id), now)
        await uow.commit()


@dataclass(frozen=True)
class Chat:
    """What a tap needs to know: the person's profile and draft, and the data's version."""

    profile: Profile
    draft: Draft
    seen: Seen | None


async def chat(db: Database, telegram_id: int) -> Chat:
    """The profile and the draft of one user, and the version of the data, read together."""
    async with UnitOfWork(db, write=False) as uow:
        return Chat(*await uow.store.chat(telegram_id))


@retried
async def save_draft(db: Database, now: datetime, value: Draft) -> None:
    """Records where this user's booking flow stands."""
    async with UnitOfWork(db) as uow:
        await uow.store.save_draft(value, now)
        await uow.commit()


async def profile(db: Database, telegram_id: int) -> Profile:
    """What is remembered of this user."""
    async with UnitOfWork(db, write=False) as uow:
        return await uow.store.profile(telegram_id)


@retried
async def remember(db: Database, value: Profile) -> None:
    """Remembers a user's name, phone and language, and puts them on their live hold."""
    async with UnitOfWork(db) as uow:
        await uow.lock(clients=[value.telegram_id])
        await uow.store.save_profile(value)
        await uow.commit()
