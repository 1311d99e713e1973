"""Use cases that ask what is free: slots, the soonest one, and what a client can pick.

The chat shares what a tap shows between taps (`viewed`) under the version of the data
it read with the tap (`Seen`); the command line asks afresh. Everything re-checks its ids
against the catalog, because a tap may come from a stale, forged or foreign button.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar, cast

from msgspec import Struct

from bookbot.engine import search
from bookbot.engine.model import Booking, Business, Service, Slot, Specialist
from bookbot.engine.workday import Plan
from bookbot.errors import BadInput
from bookbot.services.basics import check_range, require_business
from bookbot.store.booking_rows import occupies

# SQLAlchemy's repositories and the day index's use cases are imported where used: a query
# on the plain reader (store/reader.py) loads neither.
if TYPE_CHECKING:
    from bookbot.engine.places import Where
    from bookbot.store.db import Database
    from bookbot.store.reader import Reader, Reading
    from bookbot.store.uow import UnitOfWork

ANY = "*"  # the chat's "any available" specialist
BUSY_LOOKBACK = timedelta(days=1)
ZERO = timedelta(0)
NEAR = timedelta(days=2)  # a slot, and any booking that may overlap it, lie within this
VIEWS = 1024  # views kept per process for one version of the data
Seen = tuple[str, int]  # the schedule stamp and the availability counter (Chats.chat)
FAR = timedelta(days=3)
NEIGHBOURS = 3
SOONER = 3  # specialists offered as free sooner: the soonest few, not everyone
T = TypeVar("T")


class Context(Struct, frozen=True):
    """What a question about free time needs: the business, service, specialists, plans.

    `lapsed`: asked `near` an instant, a hold of the specialist ran out and is not yet
    marked (Bookings.expire_holds); it is not counted busy.
    """

    business: Business
    service: Service | None
    specialists: list[Specialist]
    plans: list[Plan]
    lapsed: bool = False


class Choice(Struct, frozen=True):
    """A specialist offering the chosen service, with their soonest free slot."""

    specialist: Specialist
    soonest: Slot | None


class Offered(Struct, frozen=True):
    """The services a client picks from, in the clinic's order, and their prices' currency."""

    services: list[Service]
    currency: str | None

    def price(self, service: Service) -> tuple[int, str] | None:
        """The service's price and its currency, when it has one."""
        if service.price is None or self.currency is None:
            return None
        return service.price, self.currency


class Month(Struct, frozen=True):
    """What the calendar shows: bookable days of one month, the soonest day, sooner others."""

    shown: date
    first: date
    last: date
    days: set[date]
    soonest: date | None
    sooner: list[Choice]


async def context(
    uow: UnitOfWork | Reading,
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
    catalog = uow.catalog
    business = await require_business(catalog)
    found_service = None
    if service is not None:
        found_service = await catalog.service(service)
        if found_service is None:
            raise BadInput("error.unknown_service", id=service)
    if specialist is not None:
        specialists = await catalog.specialists([specialist])
        if not specialists:
            raise BadInput("error.unknown_specialist", id=specialist)
        if service is not None and service not in specialists[0].services:
            raise BadInput("error.not_offered_by", service=service, specialist=specialist)
    elif service is not None:
        specialists = await catalog.specialists(offering=service)
    else:
        raise BadInput("error.need_service_or_specialist")
    lapsed = False
    if near is None:
        bookings = await uow.bookings.bookings(
            specialists=[s.id for s in specialists], since=now - BUSY_LOOKBACK, live_at=now
        )
    else:
        assert specialist is not None, "a slot is checked near an instant for one specialist"
        unit = cast("UnitOfWork", uow)  # a slot is checked near an instant before a write
        bookings, lapsed = await _near(unit, now, business, found_service, specialists[0], near)
    plans = [Plan(s.schedule(business, bookings)) for s in specialists]
    return Context(business, found_service, specialists, plans, lapsed)


async def _near(
    uow: UnitOfWork,
    now: datetime,
    business: Business,
    service: Service | None,
    specialist: Specialist,
    near: datetime,
) -> tuple[list[Booking], bool]:
    """A specialist's bookings occupying time within NEAR of an instant; whether a hold ran out.

    Read once, widely enough that the day index, settling a booking of the service at
    `near`, need not read them again (Bookings.around).
    """
    since, until = max(now - BUSY_LOOKBACK, near - NEAR), near + NEAR
    plan = Plan(specialist.schedule(business))
    longest = max(plan.longest, service.duration if service and service.duration else ZERO)
    first, last = uow.days.window(plan, near, near + longest)
    first, last = min(first, since), max(last, until)
    found, lapsed = await uow.bookings.around(specialist.id, first, last, now)
    near_by = [b for b in found if b.end > since and b.start < until and occupies(b, now)]
    return near_by, lapsed


def duration(ctx: Context) -> timedelta | None:
    """The length a question asks for: the service's duration, or None for the slot's."""
    return ctx.service.duration if ctx.service else None


async def free_slots(
    db: Database | Reader,
    now: datetime,
    first: date,
    last: date,
    *,
    service: str | None = None,
    specialist: str | None = None,
    seen: Seen | None = None,
    where: Where | None = None,
) -> list[Slot]:
    """Free slots on local dates first..last, by start then id (near a point: distance, id).

    Of one specialist, or (without one) of every specialist of the service, answered
    from the day index; for `ANY`, as the chat offers "any available", one per start,
    the first id's. Asked `where`, only windows at its places count.
    """
    if service is None and specialist in (None, ANY):
        raise BadInput("error.need_service_or_specialist")
    check_range(first, last)
    return await viewed(
        db,
        seen,
        now,
        ("times", service, specialist, first, last, where),
        lambda: _free_slots(db, now, first, last, service, specialist, where),
    )


async def _free_slots(
    db: Database | Reader,
    now: datetime,
    first: date,
    last: date,
    service: str | None,
    specialist: str | None,
    where: Where | None = None,
) -> list[Slot]:
    one = specialist if specialist != ANY else None
    if one is not None or not db.indexed:  # one specialist, or a small clinic read plainly
        async with reading(db) as uow:
            ctx = await context(uow, now, service=service, specialist=one)
        found = search.slots(
            at(ctx.plans, where), first, last, now, ctx.business.rules, duration(ctx)
        )
        found = found if where is None else sorted(found, key=where.order)
    else:
        from bookbot.services import directory

        assert service is not None  # free_slots refused the question without one
        found = await directory.free_slots(cast("Database", db), now, service, first, last, where)
    if specialist != ANY:
        return found
    starts: dict[datetime, Slot] = {}
    for slot in found:
        starts.setdefault(slot.start, slot)
    return list(starts.values())


async def soonest_slot(
    db: Database | Reader,
    now: datetime,
    service: str,
    *,
    specialist: str | None = None,
    first: date | None = None,
    where: Where | None = None,
) -> Slot | None:
    """The soonest free slot within the horizon; a tie goes to the first specialist id.

    Of one specialist, or (without one) of any of the service, from the day index (read
    plainly, a small clinic's are all asked of the engine: the same answer); asked `where`,
    at its places only (a tie between specialists then goes to the nearest).
    """
    if specialist is None and db.indexed:
        from bookbot.services import directory

        return await directory.soonest_slot(cast("Database", db), now, service, first, where)
    # One specialist, or every one of a small clinic read plainly: the engine asks them all.
    async with reading(db) as uow:
        ctx = await context(uow, now, service=service, specialist=specialist)
    plans = at(ctx.plans, where)
    return search.soonest_slot(plans, now, ctx.business.rules, first, duration(ctx))


def reading(db: Database | Reader) -> UnitOfWork | Reading:
    """A unit of work that only reads: the plain reader's, or SQLAlchemy's."""
    return _unit(cast("Database", db)) if db.indexed else cast("Reader", db).reading()


def _unit(db: Database) -> UnitOfWork:
    """A unit of work of SQLAlchemy's that only reads."""
    from bookbot.store.uow import UnitOfWork

    return UnitOfWork(db, write=False)


def at(plans: list[Plan], where: Where | None) -> list[Plan]:
    """The plans counting only the windows at the places asked (all of them when none)."""
    return plans if where is None else [Plan(p.schedule, where.places) for p in plans]


async def services(db: Database, *, seen: Seen | None = None) -> Offered:
    """Every service, in the clinic's order, with the currency of their prices."""

    async def compute() -> Offered:
        async with _unit(db) as uow:
            business = await require_business(uow.catalog)
            return Offered(await uow.catalog.services(), business.currency)

    return await viewed(db, seen, None, ("services",), compute)


async def choices(
    db: Database,
    now: datetime,
    service: str,
    *,
    seen: Seen | None = None,
    where: Where | None = None,
) -> list[Choice]:
    """The specialists of a service with their soonest free slots, soonest first.

    Asked `where`, those who work at one of its places, with their soonest slot there.
    """

    async def compute() -> list[Choice]:
        async with _unit(db) as uow:
            return await _choices(uow, now, service, where)

    return await viewed(db, seen, now, ("choices", service, where), compute)


async def _choices(
    uow: UnitOfWork, now: datetime, service: str, where: Where | None = None
) -> list[Choice]:
    from bookbot.services import directory

    days = await directory.soonest_in(uow, now, service, where=where)
    by_id = {s.id: s for s in await uow.catalog.specialists(offering=service)}
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
    where: Where | None = None,
) -> Month:
    """The calendar of a service with one specialist or any: which days can be pressed.

    "Any available" asks the day index (directory.py); one specialist asks the engine.
    Asked `where`, only windows at its places count.
    """
    return await viewed(
        db,
        seen,
        now,
        ("month", service, specialist, shown, where),
        lambda: _month(db, now, service, specialist, shown, where),
    )


async def _month(
    db: Database,
    now: datetime,
    service: str,
    specialist: str,
    shown: date | None,
    where: Where | None = None,
) -> Month:
    if specialist == ANY:
        from bookbot.services import directory

        found = await directory.calendar(db, now, service, shown, where)
        if found is None:
            raise BadInput("error.not_offered_by", service=service, specialist=specialist)
        return Month(found.shown, found.first, found.last, found.days, found.soonest, [])
    async with _unit(db) as uow:
        if await uow.catalog.service(service) is None:
            raise BadInput("error.unknown_service", id=service)
        if not await uow.catalog.specialists([specialist], offering=service):
            raise BadInput("error.not_offered_by", service=service, specialist=specialist)
        ctx = await context(uow, now, service=service, specialist=specialist)
        plans = at(ctx.plans, where)
        rules, length = ctx.business.rules, duration(ctx)
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
            others = _sooner(await _choices(uow, now, service, where), specialist, mine)
    soonest = mine.start.astimezone(plans[0].tz).date() if mine else None
    return Month(shown, first, last, days, soonest, others)


def _sooner(options: list[Choice], chosen: str, mine: Slot | None) -> list[Choice]:
    """The SOONER others offering the service who are free soonest, before the chosen one."""
    return [
        c
        for c in options
        if c.specialist.id != chosen
        and c.soonest is not None
        and (mine is None or c.soonest.start < mine.start)
    ][:SOONER]


async def neighbours(
    db: Database,
    now: datetime,
    service: str,
    specialist: str,
    start: datetime,
    where: Where | None = None,
) -> list[Slot]:
    """A few free slots nearest to a time that was just taken, any day in the horizon.

    Asked `where`, at its places only.
    """
    async with _unit(db) as uow:
        ctx = await chosen(uow, now, service, specialist)
    rules, length, plans = ctx.business.rules, duration(ctx), at(ctx.plans, where)
    day = start.astimezone(plans[0].tz).date() if plans else start.date()
    nearby: list[Slot] = []
    for reach in (0, 3, rules.horizon_days):  # the same day first, then wider
        nearby = search.slots(
            plans, day - timedelta(days=reach), day + timedelta(days=reach), now, rules, length
        )
        if len(nearby) >= NEIGHBOURS:
            break
    return sorted(nearby, key=lambda s: abs(s.start - start))[:NEIGHBOURS]


async def chosen(uow: UnitOfWork, now: datetime, service: str, specialist: str) -> Context:
    """The context of what a client chose: a service with one specialist or `ANY`."""
    return await context(
        uow, now, service=service, specialist=None if specialist == ANY else specialist
    )


async def viewed(
    db: Database | Reader,
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
