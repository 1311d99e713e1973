"""Use cases of a directory of thousands of specialists, answered from the day index.

SQL picks the index rows a question can use by their columns (services/question.py); the
engine's own functions turn those rows' holes into exact slots and holes at `now`, only
for the rows an answer needs. Dates the index does not cover, and specialists with a hold
that ran out but is not marked yet, are asked of the engine with their bookings. So every
answer here is the engine's answer over all the specialists, only sooner.
"""

from __future__ import annotations

import heapq
from bisect import insort
from datetime import date, datetime, time, timedelta
from itertools import count
from operator import attrgetter
from typing import Protocol

from msgspec import Struct

from bookbot.engine import search
from bookbot.engine.intervals import ONE_DAY, absolute
from bookbot.engine.model import DayResult, Hole, Slot
from bookbot.engine.places import Where
from bookbot.engine.summary import bucket, bucket_start
from bookbot.errors import BadInput
from bookbot.services.basics import check_range
from bookbot.services.question import MINUTE, Question, ask
from bookbot.services.soonest import slots, soonest
from bookbot.store.dayindex import IndexedDay, Need
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork

MICROSECOND = timedelta(microseconds=1)
BATCH = 64  # index rows read at a time while paging by first free slot
WEEK = timedelta(days=7)


class Listing(Struct, frozen=True):
    """A line of the directory's search page: a specialist, their soonest date and its slots."""

    result: DayResult
    name: str


class Calendar(Struct, frozen=True):
    """The dates of one month on which any specialist of a service has a free slot."""

    shown: date
    first: date
    last: date
    days: set[date]
    soonest: date | None


# -- each specialist's soonest day -----------------------------------------------------


async def soonest_days(
    db: Database,
    now: datetime,
    service: str,
    first: date | None = None,
    where: Where | None = None,
) -> list[DayResult]:
    """Each specialist of a service with their soonest free date and its slots.

    By date then id (near a point: date, distance, id); those with nothing in the horizon
    come last (spec/cli.md, `--each`). Asked `where`, those who work there, there.
    """
    async with UnitOfWork(db, write=False) as uow:
        return await soonest_in(uow, now, service, first, where)


async def soonest_in(
    uow: UnitOfWork,
    now: datetime,
    service: str,
    first: date | None = None,
    where: Where | None = None,
) -> list[DayResult]:
    """`soonest_days` inside the caller's unit of work."""
    question = await ask(uow, now, service, where=where)
    found = (await soonest(question, list(question.plans), first)).values()
    if where is None:  # by date then id, those with none last
        dated = sorted((r for r in found if r.day is not None), key=attrgetter("day", "specialist"))
        return dated + sorted((r for r in found if r.day is None), key=attrgetter("specialist"))
    return sorted(found, key=lambda r: _day_order(r, where))


def _day_order(result: DayResult, where: Where | None) -> tuple:
    """Sort key of a soonest day: dated first, by date, distance of its first slot, then id."""
    km = where.distance(result.slots[0].location) if where and result.slots else 0.0
    return (result.day is None, result.day or date.min, km, result.specialist)


# -- the search page -------------------------------------------------------------------


async def search_page(
    db: Database,
    now: datetime,
    service: str,
    limit: int = 20,
    offset: int = 0,
    where: Where | None = None,
) -> list[Listing]:
    """Specialists of a service by their soonest free slot (then distance, id), one page.

    Each comes with that slot's date and all its free slots, as `next --each` gives them;
    those with nothing in the horizon come last. Asked `where`, only its places count.
    """
    async with UnitOfWork(db, write=False) as uow:
        question = await ask(uow, now, service, where=where)
        found = await _top(question, offset + limit)
    names = question.specialists
    return [
        Listing(result, names[result.specialist].name) for result in found[offset : offset + limit]
    ]


async def soonest_slot(
    db: Database,
    now: datetime,
    service: str,
    first: date | None = None,
    where: Where | None = None,
) -> Slot | None:
    """The soonest free slot of any specialist of a service; a tie goes to the nearest, then
    the first id."""
    async with UnitOfWork(db, write=False) as uow:
        found = await _top(await ask(uow, now, service, where=where), 1, first)
    return found[0].slots[0] if found and found[0].slots else None


async def _top(q: Question, wanted: int, first: date | None = None) -> list[DayResult]:
    """The first `wanted` specialists by soonest slot, found with as little work as it takes.

    Candidate dates wait in a heap keyed by a lower bound of their first slot (then id):
    the first own free slot kept in the index, a bound from the holes for dates that
    notice cuts into, local midnight for dates past the span. Two streams feed the heap
    from the index in order of such bounds: dates by first free slot, and dates whose
    first free slot notice passed, by the bucket of their next free start. A date is
    asked of the engine when it comes up; the search stops once the bound of the next
    exceeds the `wanted`-th slot.
    """
    found: dict[str, DayResult] = {}
    order: list[tuple[datetime, str]] = []

    def keep(result: DayResult) -> None:
        found[result.specialist] = result
        insort(order, (absolute(result.slots[0].start), result.specialist))

    unknown = {s for s in q.lapsed | q.gaps.keys() if s in q.plans and q.unknown_from_today(s)}
    asked = [*q.cast.unordered, *sorted(unknown.difference(q.cast.unordered))]
    for result in (await soonest(q, asked, first)).values():
        if result.day is not None:
            keep(result)
    skip = set(asked)
    heap: list[tuple[datetime, str, date, int, IndexedDay | None]] = []
    tick = count()
    for s, span in q.gaps.items():
        if s not in skip and span is not None and span.last < q.last_day(s):
            after = max(span.last + ONE_DAY, first or date.min)
            midnight = datetime.combine(after, time(0), q.plans[s].tz)
            heap.append((max(q.earliest, absolute(midnight)), s, after, next(tick), None))
    zones = q.cast.zones
    lo = max(
        min((q.now.astimezone(tz).date() for tz in zones), default=q.now.date()), first or date.min
    )
    hi = max((q.earliest.astimezone(tz).date() for tz in zones), default=lo)
    since = min((datetime.combine(lo, time(0), tz) for tz in zones), default=q.earliest)
    heapq.heapify(heap)
    last = max((q.now.astimezone(tz).date() for tz in zones), default=lo) + timedelta(
        days=q.rules.horizon_days
    )
    streams: list[_Stream] = [_ByFirstFree(q, first or date.min, last), _Passed(q, lo, hi, since)]
    while True:
        stream = min(
            (each for each in streams if not each.done), key=lambda each: each.bound, default=None
        )
        if stream is not None and (not heap or stream.bound <= heap[0][:2]):
            upcoming = stream.bound
        elif heap:
            upcoming, stream = heap[0][:2], None
        else:
            break
        if len(order) >= wanted and (
            upcoming[0] > order[wanted - 1][0] if q.where else upcoming > order[wanted - 1]
        ):
            break  # near a point, a later specialist at the same start may be nearer
        if stream is not None:
            for bound, indexed in await stream.read():
                if indexed.specialist not in skip and q.asks(indexed):
                    heapq.heappush(
                        heap, (bound, indexed.specialist, indexed.day, next(tick), indexed)
                    )
            continue
        bound, s, day, _, row = heapq.heappop(heap)
        if s in found:
            continue
        if row is not None:
            offered = slots(q, row)
            if offered:
                keep(DayResult(s, day, tuple(offered)))
            continue
        plan = (await q.booked([s], day, q.last_day(s)))[s]
        result = search.soonest_day(plan, q.now, q.rules, day, q.duration)
        if result.day is not None:
            keep(result)
    results = [found[s] for _, s in order]
    if q.where is not None:
        where = q.where
        results.sort(key=lambda r: where.order(r.slots[0]))
    if len(results) < wanted:
        results += [DayResult(s, None, ()) for s in q.cast.ids if s not in found]
    return results


class _Stream(Protocol):
    """Dates of the index read in the order of a lower bound of their slots, then id."""

    bound: tuple[datetime, str]  # no date read later has a smaller bound and id
    done: bool

    async def read(self) -> list[tuple[datetime, IndexedDay]]:
        """The next batch of dates, each with its bound."""
        ...


class _ByFirstFree:
    """The index's dates from `earliest` on in the order of their first own free slot.

    A batch at a time, each date with that slot as the bound of its slots. Every date not
    read yet has a first free slot and id (in that order) of `bound` or later.
    """

    def __init__(self, q: Question, first: date, last: date) -> None:
        self.q = q
        self.first = first
        self.last = last
        self.after: tuple[datetime, str, date] | None = None
        self.bound = (q.earliest, "")
        self.done = False

    async def read(self) -> list[tuple[datetime, IndexedDay]]:
        """The next batch of dates, with their bounds."""
        q = self.q
        batch = await q.days.by_first_free(
            q.service.id,
            q.need(slots=True),
            q.earliest,
            self.first,
            self.last,
            self.after,
            BATCH,
            q.few,
        )
        self.done = len(batch) < BATCH
        found = []
        for row in batch:
            assert row.first_free is not None
            found.append((row.first_free, row))
            self.after = (row.first_free, row.specialist, row.day)
            self.bound = (row.first_free, row.specialist)
        return found


class _Passed:
    """The index's dates first..last whose first free slot notice has passed.

    Read in the order of the 30-minute bucket of their next free start, then id, in
    batches that double (each scans all those dates in SQL, unless a unit that only reads
    finds them read for this version of the data), each date with a bound of its slots
    from the holes (those with none left are dropped). Every date not read yet has its
    next free slot and id of `bound` or later.
    """

    def __init__(self, q: Question, first: date, last: date, since: datetime) -> None:
        self.q = q
        self.first = first
        self.last = last
        self.since = since
        self.after: tuple[datetime, str, date] | None = None
        self.bound = (bucket_start(bucket(q.earliest)), "")
        self.done = False
        self.size = BATCH

    async def read(self) -> list[tuple[datetime, IndexedDay]]:
        """The next batch of dates that still have room for a slot, with their bounds."""
        q = self.q
        if q.kept is not None and q.few is None:  # these dates, read once for this version
            need, span = q.need(), (self.first, self.last)
            passing = await q.kept.get(
                ("passing", q.service.id),
                (*span, need, self.since),
                lambda: q.days.passing(q.service.id, *span, need, self.since),
            )
            batch = passing.passed(self.since, q.earliest, self.after, self.size)
        else:
            batch = await q.days.passed(
                q.service.id,
                self.first,
                self.last,
                q.need(),
                self.since,
                q.earliest,
                self.after,
                self.size,
                q.few,
            )
        self.done = len(batch) < self.size
        self.size *= 2
        found = []
        for start, row in batch:
            self.after = (start, row.specialist, row.day)
            self.bound = (start, row.specialist)
            room = row.room(q.earliest, q.least(row.specialist)) if q.asks(row) else None
            if room is not None:
                found.append((max(room, start), row))
        return found


# -- holes, slots and the calendar of "any available" ----------------------------------


async def holes(
    db: Database,
    now: datetime,
    service: str,
    first: date,
    last: date,
    *,
    weekdays: frozenset[int] | None = None,
    least: timedelta | None = None,
    where: Where | None = None,
) -> list[Hole]:
    """Free holes of at least `least` (default: the service's length, else each slot).

    On dates first..last (on those weekdays), of every specialist of the service; asked
    `where`, at its places only, by start, distance, then id.
    """
    check_range(first, last)
    async with UnitOfWork(db, write=False) as uow:
        q = await ask(uow, now, service, first, last, where)
        lengths = {s: least or q.least(s) for s in q.plans}
        found: list[Hole] = []
        if lengths:
            need = Need(least_minutes=min(lengths.values()) // MINUTE)
            for row in await q.days.on(
                service, first, last, need, weekdays=weekdays, specialists=q.only
            ):
                s = row.specialist
                if q.asks(row) and q.known(s, row.day):
                    found += q.holes(row, lengths[s])
        asked = [
            d
            for d in search.dates(max(first, search.first_open(q.earliest)), last)
            if weekdays is None or d.weekday() in weekdays
        ]
        for plan, days in await q.unknown(asked):
            found += search.holes_on(plan, days, q.earliest, lengths[plan.specialist])
    return sorted(found, key=search.slot_order if where is None else where.order)


async def free_slots(
    db: Database,
    now: datetime,
    service: str,
    first: date,
    last: date,
    where: Where | None = None,
) -> list[Slot]:
    """Free slots of every specialist of a service on dates first..last, by start then id.

    Asked `where`, at its places only, by start, distance, then id.
    """
    check_range(first, last)
    async with UnitOfWork(db, write=False) as uow:
        q = await ask(uow, now, service, first, last, where)
        found: list[Slot] = []
        for row in await q.days.on(service, first, last, q.need(), specialists=q.only):
            if q.asks(row) and q.known(row.specialist, row.day):
                found += q.offered(row)
        for plan, days in await q.unknown(list(search.dates(first, last))):
            for day in days:
                found += search.day_slots(plan, day, now, q.rules, q.duration)
    return sorted(found, key=search.slot_order if where is None else where.order)


async def free_at(
    uow: UnitOfWork, now: datetime, service: str, start: datetime, where: Where | None = None
) -> list[str]:
    """The specialists of a service offering a slot that starts at `start`, by id.

    Inside the caller's unit of work, as holding a slot for "any available" needs it;
    asked `where`, a slot at one of its places.
    """
    q = await ask(uow, now, service, where=where)
    start = absolute(start)
    local = {tz: start.astimezone(tz).date() for tz in {plan.tz for plan in q.plans.values()}}
    if not local:
        return []
    found = set()
    rows = await q.days.early(
        q.service.id,
        min(local.values()),
        max(local.values()),
        q.need(),
        start - 2 * ONE_DAY,
        start + MICROSECOND,
    )
    for row in rows:
        s = row.specialist
        if (
            q.asks(row)
            and row.day == local[q.plans[s].tz]
            and q.known(s, row.day)
            and q.ordered(s)
            and row.room(start, q.least(s)) == start
            and any(slot.start == start for slot in q.offered(row))
        ):
            found.add(s)
    asked = [s for s in q.plans if not q.ordered(s) or not q.known(s, local[q.plans[s].tz])]
    plans = await q.booked(asked, min(local.values()), max(local.values()))
    for s in asked:
        try:
            search.slot_at(plans[s], start, now, q.rules, q.duration)
        except search.Refusal:
            continue
        found.add(s)
    return sorted(found)


async def calendar(
    db: Database, now: datetime, service: str, shown: date | None, where: Where | None = None
) -> Calendar | None:
    """The month of `shown` (default: the soonest free date's) with any specialist's free dates.

    None when no specialist offers the service (asked `where`: works at one of its places).
    """
    async with UnitOfWork(db, write=False) as uow:
        q = await ask(uow, now, service, where=where)
        if not q.plans:
            return None
        first = min(q.today(s) for s in q.plans)
        last = first + timedelta(days=q.rules.horizon_days)
        reach_last = max(q.last_day(s) for s in q.plans)
        soonest = None
        week_last = min(first + WEEK - ONE_DAY, reach_last)  # usually enough; else the rest
        for lo, hi in ((first, week_last), (week_last + ONE_DAY, reach_last)):
            if soonest is None and lo <= hi:
                soonest = min(await _free_days(q, lo, hi), default=None)
        shown = (shown or soonest or first).replace(day=1)
        if not first.replace(day=1) <= shown <= last:
            raise BadInput("error.range_too_long", days=q.rules.horizon_days)
        following = (shown + timedelta(days=31)).replace(day=1)
        month_first, month_last = max(shown, first), min(following - ONE_DAY, reach_last)
        days = await _free_days(q, month_first, month_last) if month_first <= month_last else set()
    return Calendar(shown, first, last, days, soonest)


async def _free_days(q: Question, first: date, last: date) -> set[date]:
    """The dates first..last on which some specialist of the question has a free slot.

    A few statements however many dates: one row tried for each date, then every row of
    the dates that row did not settle, then the engine for what the index does not know.
    """
    free: set[date] = set()
    need = q.need()
    days = list(search.dates(first, last))
    for row in await q.days.one_each(q.service.id, days, need, q.earliest):
        if q.asks(row) and q.known(row.specialist, row.day) and q.offered(row):
            free.add(row.day)
    rest = [d for d in days if d not in free]
    if rest:
        for row in await q.days.on(
            q.service.id, rest[0], rest[-1], need, only=rest, specialists=q.only
        ):
            if (
                row.day not in free
                and q.asks(row)
                and q.known(row.specialist, row.day)
                and q.offered(row)
            ):
                free.add(row.day)
    rest = [d for d in rest if d not in free]
    for plan, days in await q.unknown(rest):
        free.update(
            d
            for d in days
            if d not in free and search.day_slots(plan, d, q.now, q.rules, q.duration)
        )
    return free
