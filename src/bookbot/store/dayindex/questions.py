"""The day index's questions: which days of a service's specialists have the time asked for.

Every question reads rows (COLUMNS) into `IndexedDay`s and leaves the last word to the
engine: a row says a day may have room, the engine's slots say where. `DayIndex` answers
these besides keeping the rows in step.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Select,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bookbot.engine.summary import BUCKETS, bucket, bucket_start
from bookbot.store.bulk import IN_LIST, chunks
from bookbot.store.dayindex.rows import COLUMNS, DAYS, IndexedDay, Need, Span, indexed
from bookbot.store.tables import HELD_ONLY, BookingRow, BusinessRow, DaySpanRow, OfferRow

DATES = 366  # dates probed in one statement (SQLite allows 500 parts to a UNION)
# Statements built once (by their shape, below): building one costs more than running it.
# The availability counter, raised by every transaction that changes the index (its spans
# too: only settling writes them).
BUSINESS = select(BusinessRow.version).order_by(BusinessRow.id).limit(1)
# The specialists with a hold that ran out (or has no end) but is not marked yet.
LAPSED = HELD_ONLY & or_(BookingRow.hold_until.is_(None), BookingRow.hold_until <= bindparam("now"))
HELD = select(BookingRow.specialist_id).where(LAPSED)
_COUNTER = BUSINESS.subquery()
VERSIONED = (  # the counter with each of them (None: nobody)
    select(_COUNTER.c.version, BookingRow.specialist_id)
    .select_from(_COUNTER)
    .outerjoin(BookingRow, LAPSED)
)


class DayQuestions:
    """Questions to the day index, in the session's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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

    async def version(self) -> int | None:
        """The availability counter as this transaction sees it (None: nothing imported)."""
        return await self.session.scalar(BUSINESS)

    async def gaps(self, service: str, first: date, last: date) -> dict[str, Span | None]:
        """Specialists of a service whose span does not cover first..last, with their spans.

        One probe per specialist of the service: cache it by the counter (`version`).
        """
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
        return set(await self.session.scalars(HELD, {"now": now}))

    async def versioned_lapsed(self, now: datetime) -> tuple[int | None, set[str]]:
        """The counter (`version`) and `lapsed_holds`, in one statement."""
        rows = (await self.session.execute(VERSIONED, {"now": now})).all()
        version = rows[0][0] if rows else None
        return version, {specialist for _, specialist in rows if specialist is not None}

    async def first_days(
        self, service: str, after: date, need: Need, specialists: Sequence[str] | None = None
    ) -> list[tuple[str, date, str]]:
        """Each specialist's first indexed date on or after `after` that meets the need.

        As (specialist, date, holes as kept), read as plain tuples: one index probe per
        specialist. On PostgreSQL the probe, a LATERAL subquery, gives the row's columns
        itself; SQLite has no LATERAL, so there the probe gives the row's rowid and the
        row is then read by it (no second probe).
        """
        connection = await self.session.connection()
        by_rowid = self.session.get_bind().dialect.name == "sqlite"
        firsts = (_first_by_rowid if by_rowid else _first)(service, after, need)
        found: list[tuple[str, date, str]] = []
        for chunk in [None] if specialists is None else chunks(specialists):
            query = firsts if chunk is None else firsts.where(OfferRow.specialist_id.in_(chunk))
            if by_rowid:
                first = query.cte("firsts")
                query = select(DAYS.c.specialist_id, DAYS.c.day, DAYS.c.holes).join(
                    first, literal_column("days.rowid") == first.c.first
                )
            found += (await connection.execute(query)).all()
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
        specialists: Sequence[str] | None = None,
    ) -> list[IndexedDay]:
        """Dates first..last whose first free slot is at `earliest` or later, by that slot.

        Of some specialists only, if named (at most IN_LIST of them: one ordered statement).
        """
        values: dict[str, Any] = {
            "service": service,
            "first": first,
            "last": last,
            "earliest": earliest,
            "limit": limit,
        }
        if after is not None:
            values.update(after_free=after[0], after_id=after[1], after_day=after[2])
        if specialists is not None:
            assert len(specialists) <= IN_LIST  # one statement keeps the order and the limit
            values["specialists"] = list(specialists)
        query = _by_first_free(need, after is not None, specialists is not None)
        return [indexed(*row) for row in await self.session.execute(query, values)]

    async def on(
        self,
        service: str,
        first: date,
        last: date,
        need: Need,
        *,
        weekdays: Iterable[int] | None = None,
        only: Collection[date] | None = None,
        specialists: Sequence[str] | None = None,
    ) -> list[IndexedDay]:
        """Indexed dates first..last that meet the need, by date and id (within each chunk).

        Narrowed to some weekdays, or to `only` some dates, or to some specialists.
        """
        present = {
            (first + timedelta(days=i)).weekday() for i in range(min((last - first).days + 1, 7))
        }
        wanted = sorted(present if weekdays is None else present & set(weekdays))
        weekday: ColumnElement[int] = DAYS.c.weekday
        if self.session.get_bind().dialect.name == "sqlite":
            # Not by the index of weekdays: its rows lie all over the table, where each
            # specialist's dates, by the primary key, lie together (hygienists' holes
            # over half a year of size b: 130 ms -> 16 ms to read; no slower for most).
            weekday = weekday + 0
        query = (
            _offered(service, first, last, need)
            .where(weekday.in_(wanted))
            .order_by(DAYS.c.day, DAYS.c.specialist_id)
        )
        if only is not None:
            query = query.where(DAYS.c.day.in_(sorted(only)))
        return await self._read(query, specialists)

    async def early(
        self, service: str, first: date, last: date, need: Need, since: datetime, before: datetime
    ) -> list[IndexedDay]:
        """Indexed dates first..last meeting the need, with a first free slot in [since, before)."""
        return await self._read(
            _offered(service, first, last, need).where(
                DAYS.c.first_free >= since, DAYS.c.first_free < before
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
        specialists: Sequence[str] | None = None,
    ) -> list[tuple[datetime, IndexedDay]]:
        """Dates first..last whose first free slot in [since, earliest) notice has passed.

        Only those with a free start from `earliest`'s bucket on, ordered by the first such
        bucket (each row comes with its beginning, a bound of the row's slots from
        `earliest` on), then by id and date; `after` is where the last batch ended. Of
        some specialists only, if named (at most IN_LIST of them).
        """
        first_bucket = bucket(earliest)
        shift = literal(first_bucket) - func.coalesce(DAYS.c.free_base, first_bucket)
        # Bit k of `ahead` stands for bucket first_bucket + k (a null mask: maybe any).
        ahead = func.coalesce(DAYS.c.free_mask, 1).op(">>", return_type=BigInteger)(
            case((shift > BUCKETS - 1, BUCKETS - 1), else_=shift)
        )
        lowest = ahead.op("&", return_type=BigInteger)(-ahead)  # the first bucket's bit
        query = (
            _offered(service, first, last, need, lowest, specialists=specialists)
            .where(DAYS.c.first_free >= since, DAYS.c.first_free < earliest, ahead > 0)
            .order_by(lowest, DAYS.c.specialist_id, DAYS.c.day)
            .limit(limit)
        )
        if after is not None:
            last_bit = literal(1 << (bucket(after[0]) - first_bucket), BigInteger)
            query = query.where(
                tuple_(lowest, DAYS.c.specialist_id, DAYS.c.day) > tuple_(last_bit, *after[1:])
            )
        return [
            (bucket_start(first_bucket + bit.bit_length() - 1), indexed(*row))
            for bit, *row in await self.session.execute(query)
        ]

    async def passing(
        self, service: str, first: date, last: date, need: Need, since: datetime
    ) -> Passing:
        """The dates `passed` may read while `since` stays the same, to ask it in memory.

        Dates first..last meeting the need whose first free slot is at `since` or later.
        """
        query = _offered(service, first, last, need, DAYS.c.free_base, DAYS.c.free_mask).where(
            DAYS.c.first_free >= since
        )
        return Passing(
            [(base, mask, indexed(*row)) for base, mask, *row in await self.session.execute(query)]
        )

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
            return [indexed(*row) for row in await self.session.execute(query)]
        found = []
        for chunk in chunks(specialists):
            found += [
                indexed(*row)
                for row in await self.session.execute(query.where(DAYS.c.specialist_id.in_(chunk)))
            ]
        return found


class Passing:
    """Some dates of the index with their free buckets, read once and asked like `passed`.

    For `passed`'s service, dates and need, and a `since` no later than any it is asked
    with; per bucket of `earliest`, its dates are put in `passed`'s order once.
    """

    KEPT = 4  # buckets of `earliest` whose order is kept

    def __init__(self, rows: list[tuple[int | None, int | None, IndexedDay]]) -> None:
        self.rows = rows  # free_base, free_mask and the date
        self.orders: dict[int, tuple[list[tuple[int, str, date]], list[IndexedDay]]] = {}

    def passed(
        self,
        since: datetime,
        earliest: datetime,
        after: tuple[datetime, str, date] | None,
        limit: int,
    ) -> list[tuple[datetime, IndexedDay]]:
        """What `DayQuestions.passed` answers for these dates (of every specialist)."""
        first_bucket = bucket(earliest)
        keys, rows = self._order(first_bucket)
        i = 0
        if after is not None:
            i = bisect_right(keys, (bucket(after[0]) - first_bucket, *after[1:]))
        found: list[tuple[datetime, IndexedDay]] = []
        while i < len(rows) and len(found) < limit:
            row = rows[i]
            first_free = row.first_free
            if first_free is not None and since <= first_free < earliest:
                found.append((bucket_start(first_bucket + keys[i][0]), row))
            i += 1
        return found

    def _order(self, first_bucket: int) -> tuple[list[tuple[int, str, date]], list[IndexedDay]]:
        """The dates that may have a free start from this bucket on, in `passed`'s order.

        By the first such bucket (counted from this one), then id and date, with those keys.
        """
        known = self.orders.get(first_bucket)
        if known is not None:
            return known
        ordered = []
        for base, mask, row in self.rows:
            shift = min(first_bucket - (first_bucket if base is None else base), BUCKETS - 1)
            if shift < 0:
                continue  # its first free slot (in bucket `base`) is after `earliest`
            ahead = (1 if mask is None else mask) >> shift
            if ahead > 0:
                ordered.append(((ahead & -ahead).bit_length() - 1, row.specialist, row.day, row))
        ordered.sort(key=lambda entry: entry[:3])
        if len(self.orders) >= self.KEPT:
            self.orders.clear()
        known = self.orders[first_bucket] = (
            [entry[:3] for entry in ordered],
            [entry[3] for entry in ordered],
        )
        return known


def _first(service: str, after: date, need: Need) -> Select:
    """Each specialist of a service with their first date from `after` that meets the need,
    and its holes (PostgreSQL: a LATERAL probe of the index per specialist)."""
    soonest = _soonest(after, need, "day", "holes").lateral("soonest")
    return (
        select(OfferRow.specialist_id, soonest.c.day, soonest.c.holes)
        .join(soonest, true())
        .where(OfferRow.service_id == service)
    )


def _first_by_rowid(service: str, after: date, need: Need) -> Select:
    """Each specialist of a service with the rowid of their first date from `after` that
    meets the need (SQLite), as `first`."""
    soonest = _soonest(after, need, "rowid").scalar_subquery()
    return select(OfferRow.specialist_id, soonest.label("first")).where(
        OfferRow.service_id == service
    )


def _soonest(after: date, need: Need, *columns: str) -> Select:
    """These columns of a specialist's first date from `after` that meets the need: the
    index probe, correlated to the service's offers (`later` is the day index)."""
    later = DAYS.alias("later")
    picked = [literal_column("later.rowid") if c == "rowid" else later.c[c] for c in columns]
    return (
        select(*picked)
        .where(later.c.specialist_id == OfferRow.specialist_id, later.c.day >= after)
        .where(*need.where(later))
        .order_by(later.c.day)
        .limit(1)
    )


@lru_cache(maxsize=64)
def _by_first_free(need: Need, after: bool, some: bool) -> Select:
    """`by_first_free`'s statement for a need, with or without `after` and `specialists`."""
    query = (
        select(*COLUMNS)
        .join(OfferRow, OfferRow.specialist_id == DAYS.c.specialist_id)
        .where(
            OfferRow.service_id == bindparam("service"),
            DAYS.c.day >= bindparam("first"),
            DAYS.c.day <= bindparam("last"),
            *need.where(),
            DAYS.c.first_free >= bindparam("earliest"),
        )
        .order_by(DAYS.c.first_free, DAYS.c.specialist_id, DAYS.c.day)
        .limit(bindparam("limit", type_=Integer))
    )
    if some:
        query = query.where(DAYS.c.specialist_id.in_(bindparam("specialists", expanding=True)))
    if after:
        query = query.where(
            tuple_(DAYS.c.first_free, DAYS.c.specialist_id, DAYS.c.day)
            > tuple_(
                bindparam("after_free", type_=DAYS.c.first_free.type),
                bindparam("after_id", type_=DAYS.c.specialist_id.type),
                bindparam("after_day", type_=DAYS.c.day.type),
            )
        )
    return query


def _offered(
    service: str,
    first: date,
    last: date,
    need: Need,
    *before: ColumnElement[Any],
    specialists: Sequence[str] | None = None,
) -> Select:
    """The rows of a service's specialists on dates first..last that meet the need.

    Each row is COLUMNS, after any columns named first; a question adds its conditions.
    """
    query = (
        select(*before, *COLUMNS)
        .join(OfferRow, OfferRow.specialist_id == DAYS.c.specialist_id)
        .where(
            OfferRow.service_id == service, DAYS.c.day >= first, DAYS.c.day <= last, *need.where()
        )
    )
    if specialists is not None:
        assert len(specialists) <= IN_LIST  # one statement keeps the order and the limit
        query = query.where(DAYS.c.specialist_id.in_(specialists))
    return query
