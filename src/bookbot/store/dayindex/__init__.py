"""The day index: per specialist and local date, the free time left, kept in step.

The catalog's and the bookings' write methods note what they change (busy time, override
dates, a whole schedule); `settle()` recomputes those days with the engine's `free_days` in
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

import asyncio
from collections import defaultdict
from collections.abc import Coroutine, Sequence
from datetime import date, datetime, timedelta
from operator import itemgetter
from typing import Any, Protocol

from msgspec import Struct, field
from sqlalchemy import (
    bindparam,
    delete,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bookbot.engine.intervals import ONE_DAY, midnight
from bookbot.engine.model import Booking, Business, Specialist
from bookbot.engine.summary import free_days, reach, touched
from bookbot.engine.workday import Plan, microseconds
from bookbot.store.bulk import IN_LIST, add_rows, chunks
from bookbot.store.dayindex.questions import DayQuestions
from bookbot.store.dayindex.rows import DAYS, IndexedDay, Need, Span, stored
from bookbot.store.tables import DayRow, DaySpanRow, SpecialistRow

CHUNK = 200  # specialists settled together: one bookings query, one insert
Upsert = postgresql.Insert | sqlite.Insert
# Statements built once: building them cost more than running them.
SPANNED = (  # the specialists with their spans, their rows locked (FOR NO KEY UPDATE)
    select(SpecialistRow.id, DaySpanRow.first, DaySpanRow.last)
    .outerjoin(DaySpanRow, DaySpanRow.specialist_id == SpecialistRow.id)
    .where(SpecialistRow.id.in_(bindparam("ids", expanding=True)))
    .order_by(SpecialistRow.id)
    .with_for_update(key_share=True, of=SpecialistRow)
)


def _upsert(statement: Upsert) -> Upsert:
    """A row of the day index written over the one of its specialist and date, if any."""
    return statement.on_conflict_do_update(
        index_elements=[DAYS.c.specialist_id, DAYS.c.day],
        set_={
            column.name: statement.excluded[column.name]
            for column in DAYS.columns
            if not column.primary_key
        },
    )


_VALUES = itemgetter(*(column.name for column in DAYS.columns))  # a row's, in the table's order
UPSERT = {"postgresql": _upsert(postgresql.insert(DAYS)), "sqlite": _upsert(sqlite.insert(DAYS))}

__all__ = ["DayIndex", "IndexedDay", "Need", "Span"]  # what callers read from the index


class _Seen(Struct):
    """Every live booking of one specialist overlapping [since, until) (None: unbounded).

    As this transaction has them: a booking it adds is added here too.
    """

    bookings: list[Booking]
    since: datetime | None = None
    until: datetime | None = None

    def within(self, since: datetime, until: datetime) -> list[Booking] | None:
        """Those overlapping [since, until), or None when that is not all within what is seen."""
        if self.since is None or self.until is None:
            return self.bookings
        if not (self.since <= since and until <= self.until):
            return None
        return [b for b in self.bookings if b.start < until and b.end > since]


class _Batch(Struct):
    """A chunk of specialists being settled: their days to compute, then the rows to write."""

    business: Business
    jobs: list[tuple[Specialist, Plan, list[date], bool]] = field(default_factory=list)
    bookings: dict[str, list[Booking]] = field(default_factory=lambda: defaultdict(list))
    busy: dict[str, tuple[Sequence[int], Sequence[int]]] = field(default_factory=dict)
    fresh: list[tuple[str, Span]] = field(default_factory=list)  # new spans
    replaced: list[dict] = field(default_factory=list)  # whole specialists' rows
    changed: list[dict] = field(default_factory=list)  # single days with free time
    emptied: list[tuple[str, date]] = field(default_factory=list)  # single days without

    def compute(self) -> None:
        """Computes the rows of the days, with the engine alone (no database).

        A date without free time has no row: a whole specialist's such days are left out,
        a single one is noted to be deleted.
        """
        for specialist, _, days, whole in self.jobs:
            plan = _plan(specialist, self.business, self.bookings[specialist.id], self.busy)
            rows = self.replaced if whole else self.changed
            for free in free_days(plan, days):
                if free.holes:
                    rows.append(stored(specialist.id, free))
                elif not whole:
                    self.emptied.append((specialist.id, free.day))


class _Changes(Struct):
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

    async def busy(
        self, specialists: Sequence[str], since: datetime, until: datetime
    ) -> list[tuple[str, int, int]]:
        """The same bookings' specialist, start and end (UTC epoch microseconds) alone."""


class DayIndex(DayQuestions):
    """The repository of the day index; the catalog and bookings note their changes here.

    It answers the questions of `DayQuestions` too: the one object a unit of work holds.
    """

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.changes: dict[str, _Changes] = defaultdict(_Changes)
        self.around: datetime | None = None  # new spans are laid around this instant
        self.known: dict[str, _Seen] = {}  # live bookings, as this transaction has them
        self.booked: dict[str, tuple[Sequence[int], Sequence[int]]] = {}  # the same, in integers
        self.spans_read: dict[str, Span | None] = {}  # before settling, under lock

    # -- noting changes --------------------------------------------------------------------

    def busy_changed(
        self, specialist: str, start: datetime, end: datetime, added: Booking | None = None
    ) -> None:
        """Notes busy time added or removed (a booking, a hold, a block).

        `added`: the booking just written, which the bookings handed over (`busy_known`)
        then include; any other change to a specialist's bookings forgets them.
        """
        self.changes[specialist].busy.append((start, end))
        self.booked.pop(specialist, None)
        seen = self.known.get(specialist)
        if seen is not None and added is not None and added.live:
            seen.bookings.append(added)
        else:
            self.known.pop(specialist, None)

    def busy_known(
        self,
        specialist: str,
        bookings: list[Booking],
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> None:
        """Hands over a specialist's live bookings overlapping [since, until) (None: all of
        them), so that settling need not read them back.

        An import knows them all; a booking, those around it (`window`).
        """
        self.known[specialist] = _Seen(list(bookings), since, until)

    def busy_spans_known(self, specialist: str, starts: Sequence[int], ends: Sequence[int]) -> None:
        """Hands over the starts and the ends (UTC epoch microseconds) of every live booking
        of a specialist, so that settling need not read them back.

        An import that wrote all of a specialist's bookings knows them, and keeps every
        other writer out until it commits (SQLite's write lock, taken at BEGIN; on
        PostgreSQL the business lock, as for the bookings it hands over with `busy_known`).
        A later change to that specialist's busy time forgets them.
        """
        self.known.pop(specialist, None)
        self.booked[specialist] = (starts, ends)

    def span_known(self, specialist: str, span: Span | None) -> None:
        """Hands over a specialist's span as this transaction read it (None: it has none).

        Only under the specialist's lock (SQLite's write lock, taken at BEGIN; on
        PostgreSQL `UnitOfWork.lock`): a span is written only by a writer holding it (a
        reindex, a settle giving a specialist its first), so it stays true until the commit.
        """
        self.spans_read[specialist] = span

    @staticmethod
    def window(plan: Plan, start: datetime, end: datetime) -> tuple[datetime, datetime]:
        """The instants whose bookings settling reads after a change of busy time [start, end)."""
        days = touched(plan, start, end)
        return _around(days[0], days[-1] + timedelta(days=reach(plan)))

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
        self.spans_read.clear()
        for specialist in specialists:
            self.schedule_changed(specialist)

    # -- settling --------------------------------------------------------------------------

    async def settle(self, schedules: Schedules, bookings: Occupancy) -> bool:
        """Recomputes every day this transaction changed, before it commits.

        Reads schedules and bookings through the two readers it is handed; tells whether
        any change was noted (so what is free may have changed). Specialists are settled
        CHUNK at a time: read, computed, written; on PostgreSQL a chunk is computed in a
        worker thread while the server writes the one before (`_computed`).
        """
        if not self.changes:
            return False
        changes, self.changes = self.changes, defaultdict(_Changes)
        spans, self.spans_read = self.spans_read, {}  # settling may add spans: read afresh
        business = await schedules.current_business()
        if business is None:
            return True
        ids = sorted(changes)
        last: _Batch | None = None  # computed, not yet written
        for i in range(0, len(ids), CHUNK):
            batch = await self._batch(
                ids[i : i + CHUNK], changes, business, schedules, bookings, spans
            )
            await self._computed(batch, None if last is None else self._write(last))
            last = batch
        if last is not None:
            await self._write(last)
        return True

    async def _batch(
        self,
        ids: list[str],
        changes: dict[str, _Changes],
        business: Business,
        schedules: Schedules,
        occupancy: Occupancy,
        known: dict[str, Span | None],
    ) -> _Batch:
        """What settling these specialists needs: the days to compute and the busy time."""
        spans = await self._spans_of(ids, known)
        batch = _Batch(business)
        for specialist in await schedules.current(ids):
            plan = Plan(specialist.schedule(business))
            change = changes[specialist.id]
            span = spans.get(specialist.id)
            whole = change.whole
            if span is None:
                span = await self._new_span(plan, business)
                if span is None:
                    continue
                batch.fresh.append((specialist.id, span))
                whole = True
            if whole:
                days = [
                    span.first + timedelta(days=i) for i in range((span.last - span.first).days + 1)
                ]
            else:
                wanted = set(change.dates)
                for start, end in change.busy:
                    met = (d for d in touched(plan, start, end) if _meets(plan, d, start, end))
                    wanted.update(met)
                days = sorted(d for d in wanted if span.covers(d))
            if days:
                batch.jobs.append((specialist, plan, days, whole))
        batch.busy = dict(self.booked)
        unknown, unspanned = [], []
        for specialist, plan, days, whole in batch.jobs:
            since, until = _around(days[0], days[-1] + timedelta(days=reach(plan)))
            if specialist.id in batch.busy:
                continue
            seen = self.known.get(specialist.id)
            found = None if seen is None else seen.within(since, until)
            if found is not None:
                batch.bookings[specialist.id] = found
            elif whole:  # many bookings: only their times are read
                unspanned.append((specialist.id, since, until))
            else:
                unknown.append((specialist.id, since, until))
        batch.bookings.update(await self._live_bookings(occupancy, unknown))
        batch.busy.update(await self._live_spans(occupancy, unspanned))
        return batch

    async def _computed(self, batch: _Batch, writing: Coroutine[Any, Any, None] | None) -> None:
        """Computes a batch's rows, and meanwhile runs `writing`, the write of the one before.

        On PostgreSQL computing is this process's work and writing the server's: the rows
        are computed in a worker thread, so the two take about the longer of them instead
        of their sum. SQLite writes in this process, so there the two run in turn, as an
        import's reading and writing do (services/clinic.py).
        """
        if writing is None or self.session.get_bind().dialect.name != "postgresql":
            if writing is not None:
                await writing
            batch.compute()
            return
        written = asyncio.ensure_future(writing)
        try:
            await asyncio.to_thread(batch.compute)
        finally:  # nothing is undone while a write is on its way
            await asyncio.gather(written, return_exceptions=True)
        await written  # raises what the write raised

    async def _write(self, batch: _Batch) -> None:
        """Writes a computed batch's rows and new spans.

        Whole specialists' rows are replaced: only those that differ from the stored
        ones are written, and stored ones no longer computed deleted (`bookbot reindex`
        recomputes every row, and most come out as they were: writing them all again was
        ~40% of its time on SQLite). Single days are upserted, or deleted where no free
        time is left (a date without a row has none).
        """
        replaced = [specialist.id for specialist, _, _, whole in batch.jobs if whole]
        stored = await self._stored(replaced)
        if stored:
            differ = [row for row in batch.replaced if stored.pop(_key(row), None) != _VALUES(row)]
            await self._delete(list(stored))  # those left: days no longer free
            await self._upsert(differ)
        else:
            await add_rows(self.session, DAYS, batch.replaced)
        await self._delete(batch.emptied)
        await self._upsert(batch.changed)
        await add_rows(
            self.session,
            DaySpanRow.__table__,
            [
                {"specialist_id": specialist, "first": span.first, "last": span.last}
                for specialist, span in batch.fresh
            ],
        )

    async def _spans_of(self, ids: list[str], known: dict[str, Span | None]) -> dict[str, Span]:
        """These specialists' spans, as handed over (`span_known`) when all of them were.

        Otherwise they are read, on PostgreSQL with their rows locked (FOR NO KEY UPDATE).
        """
        if all(i in known for i in ids):
            return {i: span for i in ids if (span := known[i]) is not None}
        spanned = await self.session.execute(SPANNED, {"ids": ids})
        return {specialist: Span(first, last) for specialist, first, last in spanned if first}

    async def _stored(self, specialists: list[str]) -> dict[tuple[str, date], tuple]:
        """The stored rows of these specialists, by specialist and date: their values in
        the table's order."""
        found: dict[tuple[str, date], tuple] = {}
        for part in chunks(specialists):
            for row in await self.session.execute(
                select(DAYS).where(DAYS.c.specialist_id.in_(part))
            ):
                found[row.specialist_id, row.day] = tuple(row)
        return found

    async def _delete(self, keys: list[tuple[str, date]]) -> None:
        """Deletes the rows of these specialists and dates."""
        for part in chunks(keys, IN_LIST // 2):  # two parameters a key
            await self.session.execute(
                delete(DayRow).where(tuple_(DayRow.specialist_id, DayRow.day).in_(part))
            )

    async def _upsert(self, rows: list[dict]) -> None:
        """Writes these rows over those of the same specialist and date, or adds them."""
        if not rows:
            return
        await self.session.execute(UPSERT[self.session.get_bind().dialect.name], rows)

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

    async def _live_spans(
        self, occupancy: Occupancy, wanted: list[tuple[str, datetime, datetime]]
    ) -> dict[str, tuple[list[int], list[int]]]:
        """What `_live_bookings` finds, only the starts and the ends (UTC epoch microseconds):
        a whole specialist's days need hundreds of bookings."""
        found: dict[str, tuple[list[int], list[int]]] = {}
        if not wanted:
            return found
        ranges = {s: (microseconds(lo), microseconds(hi)) for s, lo, hi in wanted}
        since = min(lo for _, lo, _ in wanted)
        until = max(hi for _, _, hi in wanted)
        for specialist, start, end in await occupancy.busy(list(ranges), since, until):
            lo, hi = ranges[specialist]
            if start < hi and end > lo:
                starts, ends = found.setdefault(specialist, ([], []))
                starts.append(start)
                ends.append(end)
        return found

    async def _live_bookings(
        self, occupancy: Occupancy, wanted: list[tuple[str, datetime, datetime]]
    ) -> dict[str, list[Booking]]:
        """Held and confirmed bookings of each specialist overlapping its [since, until)."""
        found: dict[str, list[Booking]] = defaultdict(list)
        if not wanted:
            return found
        ranges = {specialist: (lo, hi) for specialist, lo, hi in wanted}
        since = min(lo for lo, _ in ranges.values())
        until = max(hi for _, hi in ranges.values())
        for booking in await occupancy.overlapping(list(ranges), since, until):
            lo, hi = ranges[booking.specialist]
            if booking.start < hi and booking.end > lo:
                found[booking.specialist].append(booking)
        return found


def _plan(
    specialist: Specialist,
    business: Business,
    bookings: list[Booking],
    busy: dict[str, tuple[Sequence[int], Sequence[int]]],
) -> Plan:
    """A specialist's plan with their bookings, or with their `busy` time (its starts and
    ends in UTC epoch microseconds)."""
    found = busy.get(specialist.id)
    if found is None:
        return Plan(specialist.schedule(business, bookings))
    return Plan(specialist.schedule(business), booked=found)


def _key(row: dict) -> tuple[str, date]:
    """A row's specialist and date: what tells it apart."""
    return row["specialist_id"], row["day"]


def _around(first: date, last: date) -> tuple[datetime, datetime]:
    """Instants covering local dates first..last in every zone: a margin of a day either side."""
    return midnight(first) - ONE_DAY, midnight(last) + 2 * ONE_DAY


def _meets(plan: Plan, day: date, start: datetime, end: datetime) -> bool:
    """Tells whether busy time over [start, end) can change a day's summary.

    Only if it meets one of the day's working windows: the holes are the windows less busy
    time, and the free starts are the candidates that fit in the holes (and the windows). A
    window that came out reversed (clocks skipped an hour) counts as met.
    """
    return any(
        (begin < end and start < finish) or finish < begin for begin, finish in plan.windows(day)
    )
