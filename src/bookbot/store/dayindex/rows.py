"""The day index's rows: what they hold, and the values its questions read them into.

A row keeps, per specialist and local date, the holes busy time leaves as text of UTC epoch
seconds ("start-end;start-end"): `stored` writes it from the engine's summary of the day,
`decode` reads it back. `Span` is the dates a specialist has rows for; `Need` is what a
question asks of a day, as SQL conditions on the row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cached_property

from msgspec import Struct
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from bookbot.engine.intervals import absolute
from bookbot.engine.model import Interval
from bookbot.engine.summary import FreeDay
from bookbot.engine.workday import EPOCH, MICROSECOND, from_microseconds, microseconds
from bookbot.store.tables import DayRow

DAYS = DayRow.__table__
MICRO_SECOND = 1_000_000  # a second in microseconds
COLUMNS = (DAYS.c.specialist_id, DAYS.c.day, DAYS.c.first_free, DAYS.c.holes)


class Span(Struct, frozen=True):
    """The local dates first..last the index covers for one specialist."""

    first: date
    last: date

    def covers(self, day: date) -> bool:
        """Tells whether `day` is indexed."""
        return self.first <= day <= self.last


class IndexedDay(Struct, frozen=True, dict=True):
    """A row of the day index as questions read it: a date with free time, and its holes."""

    specialist: str
    day: date
    first_free: datetime | None
    stored: str  # the holes as kept: read into instants only when asked

    @cached_property
    def holes(self) -> tuple[Interval, ...]:
        """The holes, as UTC intervals."""
        return decode(self.stored)

    def holes_of(self, least: timedelta) -> tuple[Interval, ...]:
        """The holes at least `least` long, as UTC intervals; shorter ones are not read."""
        needed = least // MICROSECOND
        starts, ends = spans(self.stored)
        return tuple(
            Interval(from_microseconds(start), from_microseconds(end))
            for start, end in zip(starts, ends, strict=True)
            if end - start >= needed
        )

    def room(self, earliest: datetime, least: timedelta) -> datetime | None:
        """The soonest instant from `earliest` on that has `least` free after it, if any.

        A bound for the first slot, found without reading every hole into instants.
        """
        since = microseconds(absolute(earliest))
        needed = least // MICROSECOND
        for hole in self.stored.split(";"):
            start, _, end = hole.partition("-")
            stop = _microseconds(end)
            if stop - since < needed:
                continue
            begin = max(_microseconds(start), since)
            if stop - begin >= needed:
                return from_microseconds(begin)
        return None


class Need(Struct, frozen=True):
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


def stored(specialist: str, free: FreeDay) -> dict:
    """The row that keeps a specialist's day, from the engine's summary of it."""
    return {
        "specialist_id": specialist,
        "day": free.day,
        "weekday": free.day.weekday(),
        "free_minutes": free.free_minutes,
        "longest_hole_minutes": free.longest_hole_minutes,
        "free_slots": len(free.starts),
        "first_free": free.first_free,
        "holes": ";".join([_hole(start, end) for start, end in free.holes]),
        "free_base": free.free_base,
        "free_mask": free.start_mask,
    }


def indexed(specialist: str, day: date, first_free: datetime | None, holes: str) -> IndexedDay:
    """A row as questions read it, from the COLUMNS a query selects."""
    return IndexedDay(specialist, day, first_free, holes)


def _hole(start: int, end: int) -> str:
    """A hole as kept: its start and end (UTC epoch microseconds) as `_seconds`, "start-end".

    Nearly every instant is a whole second: those are written in one step.
    """
    if start % MICRO_SECOND or end % MICRO_SECOND:
        return f"{_seconds(start)}-{_seconds(end)}"
    return f"{start // MICRO_SECOND}-{end // MICRO_SECOND}"


def _seconds(instant: int) -> str:
    """An instant (UTC epoch microseconds) as UTC epoch seconds, with microseconds only when
    it has them."""
    whole, micro = divmod(instant, MICRO_SECOND)
    return f"{whole}.{micro:06d}" if micro else str(whole)


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
    """The holes of a row, as `stored` wrote them."""
    return tuple(
        Interval(_instant(start), _instant(end))
        for start, _, end in (hole.partition("-") for hole in text.split(";") if hole)
    )


def spans(text: str) -> tuple[list[int], list[int]]:
    """The starts and the ends of a row's holes in UTC epoch microseconds (for `offered_in`)."""
    if "." in text:  # some instant has microseconds
        numbers = [_microseconds(n) for n in text.replace("-", ";").split(";") if n]
    else:
        numbers = [int(n) * 1_000_000 for n in text.replace("-", ";").split(";") if n]
    return numbers[::2], numbers[1::2]
