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
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Protocol

from sqlalchemy import (
    BigInteger,
    Date,
    Select,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from bookbot.engine.intervals import ONE_DAY, absolute, midnight
from bookbot.engine.model import Booking, BookingStatus, Business, Interval, Specialist
from bookbot.engine.summary import (
    BUCKETS,
    EPOCH,
    DaySummary,
    bucket,
    bucket_start,
    reach,
    summarize,
    touched,
)
from bookbot.engine.workday import Plan
from bookbot.store.bulk import add_rows, chunks
from bookbot.store.tables import (
    BookingRow,
    DayRow,
    DaySpanRow,
    OfferRow,
    SpecialistRow,
)

CHUNK = 200  # specialists settled together: one bookings query, one insert
DATES = 366  # dates probed in one statement (SQLite allows 500 parts to a UNION)
MICROSECOND = timedelta(microseconds=1)
DAYS = DayRow.__table__
COLUMNS = (DAYS.c.specialist_id, DAYS.c.day, DAYS.c.first_free, DAYS.c.holes)


@dataclass(frozen=True)
class Span:
    """The local dates first..last the index covers for one specialist."""

    first: date
    last: date

    def covers(self, day: date) -> bool:
        """Tells whether `day` is indexed."""
        return self.first <= day <= self.last


@dataclass(frozen=True)
class IndexedDay:
    """A row of the day index as questions read it: a date with free time, and its holes."""

    specialist: str
    day: date
    first_free: datetime | None
    stored: str  # the holes as kept: read into instants only when asked

    @cached_property
    def holes(self) -> tuple[Interval, ...]:
        """The holes, as UTC intervals."""
        return decode(self.stored)

    def room(self, earliest: datetime, least: timedelta) -> datetime | None:
        """The soonest instant from `earliest` on that has `least` free after it, if any.

        A bound for the first slot, found without reading every hole into instants.
        """
        since = (absolute(earliest) - EPOCH) // MICROSECOND
        needed = least // MICROSECOND
        for hole in self.stored.split(";"):
            start, _, end = hole.partition("-")
            stop = _microseconds(end)
            if stop - since < needed:
                continue
            begin = max(_microseconds(start), since)
            if stop - begin >= needed:
                return EPOCH + timedelta(microseconds=begin)
        return None


@dataclass(frozen=True)
class Need:
    """What a question needs of a day, for SQL to filter on: free slots, a hole this long."""

    slots: bool = False
    least_minutes: int = 0

    def where(self, table: FromClause = DAYS) -> list[ColumnElement[bool]]:
        """The conditions on the day index's columns (of the table, or an alias of it)."""
        found = []
        if self.slots:
            found.append(table.c.free_slots > 0)
        if self.least_minutes:
            found.append(table.c.longest_hole_minutes >= self.least_minutes)
        return found


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


class DayIndex:
    """The repository of the day index; the catalog and bookings note their changes here."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
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
            rows += [_row(specialist.id, summarize(plan, plan.work_day(d))) for d in days]
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

    # -- reading ---------------------------------------------------------------------------

    async def _spans(self, ids: Iterable[str]) -> dict[str, Span]:
        rows = await self.session.execute(
            select(DaySpanRow.specialist_id, DaySpanRow.first, DaySpanRow.last).where(
                DaySpanRow.specialist_id.in_(list(ids))
            )
        )
        return {specialist: Span(first, last) for specialist, first, last in rows}

    async def spans(self, ids: Sequence[str]) -> dict[str, Span]:
        """The spans of these specialists (those with one)."""
        found = {}
        for chunk in chunks(ids):
            found.update(await self._spans(chunk))
        return found

    async def gaps(self, service: str, first: date, last: date) -> dict[str, Span | None]:
        """Specialists of a service whose span does not cover first..last, with their spans."""
        rows = await self.session.execute(
            select(OfferRow.specialist_id, DaySpanRow.first, DaySpanRow.last)
            .outerjoin(DaySpanRow, DaySpanRow.specialist_id == OfferRow.specialist_id)
            .where(
                OfferRow.service_id == service,
                or_(
                    DaySpanRow.specialist_id.is_(None),
                    DaySpanRow.first > first,
                    DaySpanRow.last < last,
                ),
            )
        )
        return {specialist: Span(lo, hi) if lo else None for specialist, lo, hi in rows}

    async def lapsed_holds(self, now: datetime) -> set[str]:
        """Specialists with a hold that ran out but is not marked yet: the index counts it."""
        rows = await self.session.scalars(
            select(BookingRow.specialist_id).where(
                BookingRow.status == BookingStatus.HELD,
                or_(BookingRow.hold_until.is_(None), BookingRow.hold_until <= now),
            )
        )
        return set(rows)

    async def first_days(
        self, service: str, after: date, need: Need, specialists: Sequence[str] | None = None
    ) -> list[IndexedDay]:
        """Each specialist's first indexed date on or after `after` that meets the need."""
        later = DAYS.alias("later")
        soonest = (
            select(later.c.day)
            .where(
                later.c.specialist_id == OfferRow.specialist_id,
                later.c.day >= after,
                *need.where(later),
            )
            .order_by(later.c.day)
            .limit(1)
            .scalar_subquery()
        )
        firsts = select(OfferRow.specialist_id, soonest.label("day")).where(
            OfferRow.service_id == service
        )
        found = []
        for chunk in [None] if specialists is None else chunks(specialists):
            narrowed = firsts if chunk is None else firsts.where(OfferRow.specialist_id.in_(chunk))
            # Materialized: one index probe per specialist, then one row each by key.
            first = narrowed.cte("firsts").prefix_with("MATERIALIZED", dialect="postgresql")
            found += [
                _indexed(*row)
                for row in await self.session.execute(
                    select(*COLUMNS).join(
                        first,
                        (first.c.specialist_id == DAYS.c.specialist_id)
                        & (first.c.day == DAYS.c.day),
                    )
                )
            ]
        return found

    async def by_first_free(
        self,
        service: str,
        need: Need,
        earliest: datetime,
        first: date,
        last: date,
        after: tuple[datetime, str, date] | None,
        limit: int,
    ) -> list[IndexedDay]:
        """Dates first..last whose first free slot is at `earliest` or later, by that slot."""
        query = (
            select(*COLUMNS)
            .join(OfferRow, OfferRow.specialist_id == DAYS.c.specialist_id)
            .where(
                OfferRow.service_id == service,
                DAYS.c.first_free >= earliest,
                DAYS.c.day >= first,
                DAYS.c.day <= last,
                *need.where(),
            )
            .order_by(DAYS.c.first_free, DAYS.c.specialist_id, DAYS.c.day)
            .limit(limit)
        )
        if after is not None:
            query = query.where(
                tuple_(DAYS.c.first_free, DAYS.c.specialist_id, DAYS.c.day) > tuple_(*after)
            )
        return await self._read(query)

    async def on(
        self,
        service: str,
        first: date,
        last: date,
        need: Need,
        *,
        weekdays: Iterable[int] | None = None,
        only: Collection[date] | None = None,
    ) -> list[IndexedDay]:
        """Indexed dates first..last that meet the need, by date and id.

        Narrowed to some weekdays, or to `only` some dates.
        """
        present = {
            (first + timedelta(days=i)).weekday() for i in range(min((last - first).days + 1, 7))
        }
        wanted = sorted(present if weekdays is None else present & set(weekdays))
        query = (
            select(*COLUMNS)
            .join(OfferRow, OfferRow.specialist_id == DAYS.c.specialist_id)
            .where(
                OfferRow.service_id == service,
                DAYS.c.weekday.in_(wanted),
                DAYS.c.day >= first,
                DAYS.c.day <= last,
                *need.where(),
            )
            .order_by(DAYS.c.day, DAYS.c.specialist_id)
        )
        if only is not None:
            query = query.where(DAYS.c.day.in_(sorted(only)))
        return await self._read(query)

    async def early(
        self, service: str, first: date, last: date, need: Need, since: datetime, before: datetime
    ) -> list[IndexedDay]:
        """Indexed dates first..last meeting the need, with a first free slot in [since, before)."""
        return await self._read(
            select(*COLUMNS)
            .join(OfferRow, OfferRow.specialist_id == DAYS.c.specialist_id)
            .where(
                OfferRow.service_id == service,
                DAYS.c.first_free >= since,
                DAYS.c.first_free < before,
                DAYS.c.day >= first,
                DAYS.c.day <= last,
                *need.where(),
            )
        )

    async def passed(
        self,
        service: str,
        first: date,
        last: date,
        need: Need,
        since: datetime,
        earliest: datetime,
        after: tuple[datetime, str, date] | None,
        limit: int,
    ) -> list[tuple[datetime, IndexedDay]]:
        """Dates first..last whose first free slot in [since, earliest) notice has passed.

        Only those with a free start from `earliest`'s bucket on, ordered by the first such
        bucket (each row comes with its beginning, a bound of the row's slots from
        `earliest` on), then by id and date; `after` is where the last batch ended.
        """
        first_bucket = bucket(earliest)
        shift = literal(first_bucket) - func.coalesce(DAYS.c.free_base, first_bucket)
        # Bit k of `ahead` stands for bucket first_bucket + k (a null mask: maybe any).
        ahead = func.coalesce(DAYS.c.free_mask, 1).op(">>", return_type=BigInteger)(
            case((shift > BUCKETS - 1, BUCKETS - 1), else_=shift)
        )
        lowest = ahead.op("&", return_type=BigInteger)(-ahead)  # the first bucket's bit
        query = (
            select(lowest, *COLUMNS)
            .join(OfferRow, OfferRow.specialist_id == DAYS.c.specialist_id)
            .where(
                OfferRow.service_id == service,
                DAYS.c.first_free >= since,
                DAYS.c.first_free < earliest,
                DAYS.c.day >= first,
                DAYS.c.day <= last,
                ahead > 0,
                *need.where(),
            )
            .order_by(lowest, DAYS.c.specialist_id, DAYS.c.day)
            .limit(limit)
        )
        if after is not None:
            last_bit = literal(1 << (bucket(after[0]) - first_bucket), BigInteger)
            query = query.where(
                tuple_(lowest, DAYS.c.specialist_id, DAYS.c.day) > tuple_(last_bit, *after[1:])
            )
        return [
            (bucket_start(first_bucket + bit.bit_length() - 1), _indexed(*row))
            for bit, *row in await self.session.execute(query)
        ]

    async def one_each(
        self, service: str, days: Sequence[date], need: Need, earliest: datetime
    ) -> list[IndexedDay]:
        """For each date, one row whose first free slot is not too soon, if there is one.

        One statement for up to a year of dates: a probe of the index per date, stopping at
        its first row, then that row by key.
        """
        found = []
        for i in range(0, len(days), DATES):
            found += await self._one_each(service, days[i : i + DATES], need, earliest)
        return found

    async def _one_each(
        self, service: str, days: Sequence[date], need: Need, earliest: datetime
    ) -> list[IndexedDay]:
        listed = [
            select(literal(day, Date).label("day"), literal(day.weekday()).label("weekday"))
            for day in days
        ]
        dates = (listed[0] if len(listed) == 1 else union_all(*listed)).cte("dates")
        pick = (
            select(DAYS.c.specialist_id)
            .join(OfferRow, OfferRow.specialist_id == DAYS.c.specialist_id)
            .where(
                OfferRow.service_id == service,
                DAYS.c.weekday == dates.c.weekday,
                DAYS.c.day == dates.c.day,
                DAYS.c.first_free >= earliest,
                *need.where(),
            )
            .limit(1)
            .scalar_subquery()
        )
        picks = (
            select(dates.c.day, pick.label("specialist_id"))
            .cte("picks")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        return await self._read(
            select(*COLUMNS).join(
                picks, (picks.c.specialist_id == DAYS.c.specialist_id) & (picks.c.day == DAYS.c.day)
            )
        )

    async def rows(self, specialists: Sequence[str]) -> dict[tuple[str, date], dict]:
        """Every stored row of these specialists, column by column (to check the index)."""
        found = {}
        for chunk in chunks(specialists):
            for row in await self.session.execute(
                select(DAYS).where(DAYS.c.specialist_id.in_(chunk))
            ):
                values = row._asdict()
                found[values.pop("specialist_id"), values.pop("day")] = values
        return found

    async def _read(
        self, query: Select, specialists: Sequence[str] | None = None
    ) -> list[IndexedDay]:
        """Runs a query of COLUMNS, for some specialists only if named (in chunks)."""
        if specialists is None:
            return [_indexed(*row) for row in await self.session.execute(query)]
        found = []
        for chunk in chunks(specialists):
            found += [
                _indexed(*row)
                for row in await self.session.execute(query.where(DAYS.c.specialist_id.in_(chunk)))
            ]
        return found


def _row(specialist: str, summary: DaySummary) -> dict:
    return {
        "specialist_id": specialist,
        "day": summary.day,
        "weekday": summary.day.weekday(),
        "free_minutes": summary.free_minutes,
        "longest_hole_minutes": summary.longest_hole_minutes,
        "free_slots": summary.free_slots,
        "first_free": summary.first_free,
        "holes": ";".join(f"{_seconds(start)}-{_seconds(end)}" for start, end in summary.holes),
        "free_base": bucket(summary.first_free) if summary.first_free else None,
        "free_mask": summary.start_mask,
    }


def _indexed(specialist: str, day: date, first_free: datetime | None, holes: str) -> IndexedDay:
    return IndexedDay(specialist, day, first_free, holes)


def _seconds(instant: datetime) -> str:
    """An instant as UTC epoch seconds, with microseconds only when it has them."""
    delta = absolute(instant) - EPOCH
    whole = delta.days * 86_400 + delta.seconds
    return f"{whole}.{delta.microseconds:06d}" if delta.microseconds else str(whole)


def _microseconds(text: str) -> int:
    if "." not in text:
        return int(text) * 1_000_000
    whole, _, micro = text.partition(".")
    return int(whole) * 1_000_000 + int(micro)


def _instant(text: str) -> datetime:
    whole, _, micro = text.partition(".")
    if micro:
        return EPOCH + timedelta(seconds=int(whole), microseconds=int(micro))
    return datetime.fromtimestamp(int(whole), UTC)


def decode(text: str) -> tuple[Interval, ...]:
    """The holes of a row, as stored by `settle`."""
    return tuple(
        Interval(_instant(start), _instant(end))
        for start, _, end in (hole.partition("-") for hole in text.split(";") if hole)
    )
