"""A question over the specialists of one service, answered from the day index.

The index (store/dayindex.py) keeps, per specialist and local date, the holes busy time
leaves. A question holds the service's plans and what the index knows of them, and turns
an indexed date's holes into the engine's slots at `now`; dates the index cannot answer
for are asked of the engine with their bookings. The directory's use cases
(services/directory.py) ask their questions through it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cached_property

from msgspec import Struct, field

from bookbot.engine import search
from bookbot.engine.intervals import ONE_DAY, absolute, intersect, midnight
from bookbot.engine.model import Business, Hole, Rules, Service, Slot, Specialist
from bookbot.engine.places import Where
from bookbot.engine.summary import reach
from bookbot.engine.workday import MICROSECOND, Plan
from bookbot.errors import BadInput
from bookbot.services.basics import require_business
from bookbot.services.kept import Cast, Kept, cast_of, kept_of
from bookbot.store.bookings import Bookings
from bookbot.store.bulk import IN_LIST
from bookbot.store.dayindex import DayIndex, IndexedDay, Need, Span
from bookbot.store.dayindex.rows import spans
from bookbot.store.uow import UnitOfWork

MINUTE = timedelta(minutes=1)


class Question(Struct, dict=True):
    """A question over the specialists of one service: their plans and what the index knows.

    The plans carry no bookings: the index's holes already stand for busy time. The index
    is trusted for a specialist-date unless the specialist is in `lapsed` or the date is
    outside its span (`gaps` lists the specialists whose spans fall short of the question).
    Asked `where`, the plans count only the windows at those places, and only the
    specialists who work at one of them are asked; the index's holes, which never run
    across two places, are cut to those windows.
    """

    days: DayIndex
    bookings: Bookings
    now: datetime
    business: Business
    service: Service
    cast: Cast
    plans: dict[str, Plan]
    gaps: dict[str, Span | None]
    lapsed: set[str]
    where: Where | None = None
    kept: Kept | None = None  # what the process keeps of this version (a read-only unit)
    todays: dict[tzinfo, date] = field(default_factory=dict)  # by zone

    @cached_property
    def earliest(self) -> datetime:
        """The instant no slot starts sooner than."""
        return absolute(self.now) + self.rules.min_notice

    @cached_property
    def since(self) -> int:
        """`earliest` in UTC epoch microseconds."""
        return search.microseconds(self.earliest)

    @property
    def rules(self) -> Rules:
        return self.business.rules

    @property
    def specialists(self) -> dict[str, Specialist]:
        """The specialists asked about, by id."""
        return self.cast.specialists

    @property
    def duration(self) -> timedelta | None:
        return self.service.duration

    def known(self, specialist: str, day: date) -> bool:
        """Tells whether the index can answer for this specialist on this date."""
        if specialist in self.lapsed:
            return False
        if specialist not in self.gaps:
            return True
        span = self.gaps[specialist]
        return span is not None and span.covers(day)

    def today(self, specialist: str) -> date:
        tz = self.plans[specialist].tz
        if tz not in self.todays:
            self.todays[tz] = self.now.astimezone(tz).date()
        return self.todays[tz]

    def last_day(self, specialist: str) -> date:
        return self.today(specialist) + timedelta(days=self.rules.horizon_days)

    def unknown_from_today(self, specialist: str) -> bool:
        """Tells whether the index cannot answer for this specialist from its today on."""
        if specialist in self.lapsed:
            return True
        if specialist not in self.gaps:
            return False
        span = self.gaps[specialist]
        return span is None or span.first > self.today(specialist)

    def need(self, slots: bool = False) -> Need:
        """What SQL may ask of a day: free slots, and a hole as long as the service."""
        least = self.duration // MINUTE if self.duration else 0
        return Need(slots=slots or self.duration is None, least_minutes=least)

    def least(self, specialist: str) -> timedelta:
        """The shortest stretch a slot of this service takes at this specialist."""
        return self.duration or search.shortest_slot(self.plans[specialist])

    def ordered(self, specialist: str) -> bool:
        """Tells whether the first own free slot of a day bounds the service's first slot."""
        return search.ordered(self.plans[specialist], self.duration)

    @property
    def only(self) -> list[str] | None:
        """The specialists asked about when a place narrows them, for SQL to read only theirs."""
        return None if self.where is None else self.cast.ids

    @property
    def few(self) -> list[str] | None:
        """`only`, when one ordered statement can name them all."""
        return self.only if self.only is not None and len(self.only) <= IN_LIST else None

    def asks(self, row: IndexedDay) -> bool:
        """Tells whether an index row is of a specialist this question asks about."""
        return row.specialist in self.plans

    def holes(self, row: IndexedDay, least: timedelta) -> list[Hole]:
        """An indexed date's holes at least `least` long from `earliest` on, at the places
        asked (at all of them when asked nowhere), by the engine."""
        plan = self.plans[row.specialist]
        if self.where is None:
            starts, ends = spans(row.stored)
            return search.long_holes_micro(
                plan, row.day, zip(starts, ends, strict=True), self.since, least // MICROSECOND
            )
        free = intersect(row.holes_of(least), plan.windows(row.day))
        return search.long_holes(plan, row.day, free, self.earliest, least)

    def offered(self, row: IndexedDay) -> list[Slot]:
        """The slots an indexed date offers at `now`, by the engine."""
        plan = self.plans[row.specialist]
        return search.offered(
            plan, plan.work_day(row.day), row.holes, self.now, self.rules, self.duration
        )

    async def unknown(self, days: Sequence[date]) -> list[tuple[Plan, list[date]]]:
        """Who the index cannot answer for on some of these dates: their plans with their
        bookings, and those dates. Usually nobody: lapsed holds, dates outside a span.
        """
        wanted = {
            s: [d for d in days if not self.known(s, d)]
            for s in sorted(self.lapsed | set(self.gaps))
        }
        wanted = {s: found for s, found in wanted.items() if found}
        if not wanted:
            return []
        plans = await self.booked(
            list(wanted),
            min(found[0] for found in wanted.values()),
            max(found[-1] for found in wanted.values()),
        )
        return [(plans[s], found) for s, found in wanted.items()]

    async def booked(self, ids: Sequence[str], first: date, last: date) -> dict[str, Plan]:
        """Plans with their live bookings near dates first..last, to ask the engine directly."""
        if not ids:
            return {}
        margin = timedelta(days=2 + max(reach(self.plans[s]) for s in ids))
        # A local date begins at most 14 hours before its UTC midnight (UTC+14): a day
        # before that midnight is before its start in every zone.
        found = await self.bookings.overlapping(
            ids, midnight(first) - ONE_DAY, midnight(last) + margin, live_at=self.now
        )
        mine: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for booking in found:
            starts, ends = mine[booking.specialist]
            starts.append(search.microseconds(booking.start))
            ends.append(search.microseconds(booking.end))
        # The catalog's plan, with their bookings added: the work days it has laid out
        # already (Plan.shape) are used again.
        return {s: self.plans[s].with_booked(mine[s]) if s in mine else self.plans[s] for s in ids}


async def ask(
    uow: UnitOfWork,
    now: datetime,
    service: str,
    first: date | None = None,
    last: date | None = None,
    where: Where | None = None,
) -> Question:
    """Loads a question over a service's specialists for dates first..last (default: horizon).

    Asked `where`, over those who work at one of its places. Changes this unit of work
    made are brought into the index first.
    """
    await uow.settle()
    business = await require_business(uow.catalog)
    found = await uow.catalog.service(service)
    if found is None:
        raise BadInput("error.unknown_service", id=service)
    if where is None:
        plans = await uow.catalog.plans(service)
    else:
        plans = await uow.catalog.plans_at(service, where.places)
    cast = await cast_of(uow, found, plans, where)
    todays = [now.astimezone(tz).date() for tz in cast.zones] or [now.astimezone(UTC).date()]
    first = first or min(todays)
    last = last or max(todays) + timedelta(days=business.rules.horizon_days)
    kept, held = await kept_of(uow, now)
    if kept is None:
        gaps = await uow.days.gaps(service, first, last)
    else:  # one probe per specialist: kept for this version
        span = (first, last)
        gaps = await kept.get(("gaps", service), span, lambda: uow.days.gaps(service, *span))
    if where is not None:
        gaps = {s: span for s, span in gaps.items() if s in plans}
    lapsed = {s for s in held if s in plans}
    return Question(
        uow.days, uow.bookings, now, business, found, cast, plans, gaps, lapsed, where, kept
    )
