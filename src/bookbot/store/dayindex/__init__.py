"""The day index: per specialist and local date, the free time left, kept in step.

The catalog's and the bookings' write methods note what they change (busy time, override
dates, a whole schedule); `settle()` recomputes those days with the engine's `summarize` in
the same transaction, just before the unit of work commits. It reads schedules and bookings
through the two narrow readers it is handed (`Schedules`, `Occupancy`). Each specialist
has a span of indexed dates; a date outside it is unknown and is asked of the engine. On
PostgreSQL, settling locks the specialists' rows, so two transactions never compute one
day from two views. Besides the holes, a row keeps which 30-minute buckets hold a free
start, so that once notice has passed a day's first free slot, SQL still finds the days
free again soon.

`DayIndex`, here, is the one entry: it keeps the rows in step and answers the questions
of `questions.py`; `rows.py` is what a row holds and the values questions read it into.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bookbot.engine.intervals import ONE_DAY, midnight
from bookbot.engine.model import Booking, Business, Specialist
from bookbot.engine.summary import reach, summarize, touched
from bookbot.engine.workday import Plan
from bookbot.store.bulk import add_rows
from bookbot.store.dayindex.questions import DayQuestions
from bookbot.store.dayindex.rows import DAYS, IndexedDay, Need, Span, stored
from bookbot.store.tables import DayRow, DaySpanRow, SpecialistRow

CHUNK = 200  # specialists settled together: one bookings query, one insert

__all__ = ["DayIndex", "IndexedDay", "Need", "Span"]  # what callers read from the index


@dataclass
class _Changes:
    """What one transaction changed of one specialist's days."""

    whole: bool = False
    dates: set[date] = field(default_factory=set)
    busy: list[tuple[datetime, datetime]] = field(default_factory=list)


class Schedules(Protocol):
    """What settling reads of the catalog, as this transaction has it."""

    async def current_business(self) -> Business | None:
        """The business defaults."""

    async def current(self, ids: Sequence[str]) -> list[Specialist]:
        """These specialists, with their schedules."""


class Occupancy(Protocol):
    """What settling reads of the bookings."""

    async def overlapping(
        self, specialists: Sequence[str], since: datetime, until: datetime
    ) -> list[Booking]:
        """Held and confirmed bookings of these specialists that overlap [since, until)."""


class DayIndex(DayQuestions):
    """The repository of the day index; the catalog and bookings note their changes here.

    It answers the questions of `DayQuestions` too: the one object a unit of work holds.
    """

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.changes: dict[str, _Changes] = defaultdict(_Changes)
        self.around: datetime | None = None  # new spans are laid around this instant
        self.known: dict[str, list[Booking]] = {}  # all live bookings, as this transaction has them

    # -- noting changes --------------------------------------------------------------------

    def busy_changed(self, specialist: str, start: datetime, end: datetime) -> None:
        """Notes busy time added or removed (a booking, a hold, a block)."""
        self.changes[specialist].busy.append((start, end))
        self.known.pop(specialist, None)

    def busy_known(self, specialist: str, bookings: list[Booking]) -> None:
        """Hands over every live booking of a specialist, so settling need not read them back.

        Good until the next change to the specialist's bookings (an import knows them all).
        """
        self.known[specialist] = bookings

    def dates_changed(self, specialist: str, first: date, last: date) -> None:
        """Notes changed hours on local dates first..last (an override)."""
        self.changes[specialist].dates.update(
            first + timedelta(days=i) for i in range((last - first).days + 1)
        )

    def schedule_changed(self, specialist: str) -> None:
        """Notes a change to every date (template, zone, holiday calendars, a new specialist)."""
        self.changes[specialist].whole = True

    async def cover(self, now: datetime) -> None:
        """Gives every specialist without a span one around `now` (today − 1 .. the horizon)."""
        self.around = now
        missing = await self.session.scalars(
            select(SpecialistRow.id)
            .outerjoin(DaySpanRow, DaySpanRow.specialist_id == SpecialistRow.id)
            .where(DaySpanRow.specialist_id.is_(None))
        )
        for specialist in missing:
            self.schedule_changed(specialist)

    async def analyze(self) -> None:
        """Refreshes PostgreSQL's planner statistics after a bulk change (import, reindex).

        SQLite plans these queries well without statistics, and worse with them.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(
                text("ANALYZE days, day_spans, bookings, specialist_services, specialists")
            )

    async def specialists(self) -> list[str]:
        """Every specialist's id, in order."""
        return list(await self.session.scalars(select(SpecialistRow.id).order_by(SpecialistRow.id)))

    async def reindex(self, specialists: Sequence[str], now: datetime) -> None:
        """Recomputes these specialists' days over new spans around `now`."""
        self.around = now
        await self.session.execute(
            delete(DaySpanRow).where(DaySpanRow.specialist_id.in_(specialists))
        )
        for specialist in specialists:
            self.schedule_changed(specialist)

    # -- settling --------------------------------------------------------------------------

    async def settle(self, schedules: Schedules, bookings: Occupancy) -> bool:
        """Recomputes every day this transaction changed, before it commits.

        Reads schedules and bookings through the two readers it is handed; tells whether
        any change was noted (so what is free may have changed).
        """
        if not self.changes:
            return False
        changes, self.changes = self.changes, defaultdict(_Changes)
        business = await schedules.current_business()
        if business is None:
            return True
        ids = sorted(changes)
        for i in range(0, len(ids), CHUNK):
            await self._settle(ids[i : i + CHUNK], changes, business, schedules, bookings)
        return True

    async def _settle(
        self,
        ids: list[str],
        changes: dict[str, _Changes],
        business: Business,
        schedules: Schedules,
        occupancy: Occupancy,
    ) -> None:
        # With their spans, the specialists' rows are locked (FOR NO KEY UPDATE, PostgreSQL).
        spanned = await self.session.execute(
            select(SpecialistRow.id, DaySpanRow.first, DaySpanRow.last)
            .outerjoin(DaySpanRow, DaySpanRow.specialist_id == SpecialistRow.id)
            .where(SpecialistRow.id.in_(ids))
            .order_by(SpecialistRow.id)
            .with_for_update(key_share=True, of=SpecialistRow)
        )
        spans = {specialist: Span(first, last) for specialist, first, last in spanned if first}
        jobs: list[tuple[Specialist, Plan, list[date], bool]] = []
        fresh: list[tuple[str, Span]] = []
        for specialist in await schedules.current(ids):
            plan = Plan(specialist.schedule(business))
            change = changes[specialist.id]
            span = spans.get(specialist.id)
            whole = change.whole
            if span is None:
                span = await self._new_span(plan, business)
                if span is None:
                    continue
                fresh.append((specialist.id, span))
                whole = True
            if whole:
                days = [
                    span.first + timedelta(days=i) for i in range((span.last - span.first).days + 1)
                ]
            else:
                wanted = set(change.dates)
                for start, end in change.busy:
                    wanted.update(touched(plan, start, end))
                days = sorted(d for d in wanted if span.covers(d))
            if days:
                jobs.append((specialist, plan, days, whole))
        bookings = await self._live_bookings(
            occupancy,
            [
                (specialist.id, days[0], days[-1] + timedelta(days=reach(plan)))
                for specialist, plan, days, _ in jobs
                if specialist.id not in self.known
            ],
        )
        bookings.update((s.id, self.known[s.id]) for s, _, _, _ in jobs if s.id in self.known)
        rows = []
        for specialist, _, days, _ in jobs:
            plan = Plan(specialist.schedule(business, bookings[specialist.id]))
            rows += [stored(specialist.id, summarize(plan, plan.work_day(d))) for d in days]
        whole_ids = [specialist.id for specialist, _, _, whole in jobs if whole]
        if whole_ids:
            await self.session.execute(delete(DayRow).where(DayRow.specialist_id.in_(whole_ids)))
        for specialist, _, days, whole in jobs:
            if not whole:
                await self.session.execute(
                    delete(DayRow).where(
                        DayRow.specialist_id == specialist.id, DayRow.day.in_(days)
                    )
                )
        await add_rows(self.session, DAYS, [row for row in rows if row["holes"]])
        await add_rows(
            self.session,
            DaySpanRow.__table__,
            [
                {"specialist_id": specialist, "first": span.first, "last": span.last}
                for specialist, span in fresh
            ],
        )

    async def _new_span(self, plan: Plan, business: Business) -> Span | None:
        """A span for a specialist without one: around `around`, else the newest span."""
        if self.around is not None:
            today = plan.today(self.around)
            return Span(today - ONE_DAY, today + timedelta(days=business.rules.horizon_days))
        newest = (
            await self.session.execute(
                select(DaySpanRow.first, DaySpanRow.last)
                .order_by(DaySpanRow.last.desc(), DaySpanRow.first)
                .limit(1)
            )
        ).first()
        return Span(*newest) if newest else None

    async def _live_bookings(
        self, occupancy: Occupancy, wanted: list[tuple[str, date, date]]
    ) -> dict[str, list[Booking]]:
        """Held and confirmed bookings of each specialist near local dates first..last.

        A margin of a day either side covers every zone's offset.
        """
        found: dict[str, list[Booking]] = defaultdict(list)
        if not wanted:
            return found
        ranges = {
            specialist: (midnight(first) - ONE_DAY, midnight(last) + 2 * ONE_DAY)
            for specialist, first, last in wanted
        }
        since = min(lo for lo, _ in ranges.values())
        until = max(hi for _, hi in ranges.values())
        for booking in await occupancy.overlapping(list(ranges), since, until):
            lo, hi = ranges[booking.specialist]
            if booking.start < hi and booking.end > lo:
                found[booking.specialist].append(booking)
        return found
