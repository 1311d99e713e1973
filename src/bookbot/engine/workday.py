"""The layers of one specialist-day: closed days, windows, candidate starts, busy time.

Precedence: day off / vacation > custom hours > holiday > weekly template; extra slots add
to whatever survives, except on a closed day. Wall times are laid on the specialist's
clock and compared as absolute instants. Windows at different places never merge, even
when they touch: a visit happens at one place.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Hashable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import Struct

from bookbot.engine.calendars import holiday_dates
from bookbot.engine.intervals import ONE_DAY, absolute, merge
from bookbot.engine.model import DEFAULT_SLOT, Hours, Interval, OverrideType, Schedule

CLOSING = (OverrideType.DAY_OFF, OverrideType.VACATION)
ZERO_DAY = date(2000, 1, 1)  # where a `Shape` is worked out
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


class Candidate(Struct, frozen=True):
    """A candidate start: its instant and the slot length of the grid that made it."""

    start: datetime
    slot: timedelta
    location: str | None = None


class WorkDay(Struct, frozen=True):
    """One specialist-day after the layers: merged working windows and candidate starts.

    `places` holds the location of each window, in the same order.
    """

    day: date
    windows: tuple[Interval, ...]
    candidates: tuple[Candidate, ...]
    places: tuple[str | None, ...] = ()


def calendar_exists(calendar: str) -> bool:
    """Tells whether the holidays package knows this calendar."""
    try:
        holiday_dates(calendar, 2026)
    except (NotImplementedError, KeyError, ValueError):
        return False
    return True


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The time zone of that IANA name."""
    return ZoneInfo(name)


def wall(t: time) -> timedelta:
    """A wall time as the distance from local midnight."""
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second)


def microseconds(instant: datetime) -> int:
    """An instant as UTC epoch microseconds."""
    return (instant - EPOCH) // MICROSECOND


def from_microseconds(micro: int) -> datetime:
    """The instant, in UTC, of a count of UTC epoch microseconds: `microseconds` undone."""
    return EPOCH + timedelta(0, 0, micro)  # as positional arguments: half the cost


@lru_cache(maxsize=65536)
def local_clock(day: date, tz: ZoneInfo) -> LocalClock:
    """The clock of a local date in a zone: kept, as many specialists share a zone."""
    return LocalClock(day, tz)


class LocalClock:
    """Turns wall times of one local date into absolute instants."""

    def __init__(self, day: date, tz: ZoneInfo) -> None:
        self.day = day
        self.tz = tz
        midnight = datetime.combine(day, time(0), tz).utcoffset()
        next_midnight = datetime.combine(day + ONE_DAY, time(0), tz).utcoffset()
        # Most days keep one offset throughout, and their arithmetic needs no zone lookups.
        self.offset = midnight if midnight == next_midnight else None
        self.base = datetime.combine(day, time(0))
        # Local midnight as an instant, on such a day: a wall time is then one addition.
        self.utc = None if self.offset is None else (self.base - self.offset).replace(tzinfo=UTC)
        self.micro = None if self.utc is None else microseconds(self.utc)  # the same, in integers

    def instant(self, since_midnight: timedelta) -> datetime:
        """The instant of a wall time; a skipped time maps as if clocks had not moved."""
        if self.utc is not None:
            return self.utc + since_midnight
        return (self.base + since_midnight).replace(tzinfo=self.tz).astimezone(UTC)

    def start(self, since_midnight: timedelta) -> datetime | None:
        """The instant a slot starts at that wall time: None if the time does not exist."""
        if self.offset is not None:
            return self.instant(since_midnight)
        naive = self.base + since_midnight
        instant = naive.replace(tzinfo=self.tz).astimezone(UTC)
        if instant.astimezone(self.tz).replace(tzinfo=None) != naive:
            return None
        return instant


class Plan:
    """A specialist's schedule indexed for day-by-day questions.

    With `places`, only the working time at those locations counts (busy time is the
    specialist's everywhere).
    """

    def __init__(
        self,
        schedule: Schedule,
        places: frozenset[str] | None = None,
        booked: tuple[Sequence[int], Sequence[int]] | None = None,
    ) -> None:
        """`booked`: busy time besides the schedule's, its starts and ends in UTC epoch
        microseconds, as a store that read them as numbers has them."""
        self.schedule = schedule
        self.booked = booked
        # The schedule's own busy time in UTC, merged; a time with no UTC offset is refused
        # here. Without `booked` it is all the busy time (one list kept, not two).
        self.own_busy = merge(Interval(absolute(s), absolute(e)) for s, e in schedule.busy)
        self.places = places
        self.calendars = dict(schedule.places)
        self.specialist = schedule.specialist
        self.tz = zone(schedule.timezone)
        self.weekly = [
            [entry for entry in schedule.weekly if weekday in entry.days] for weekday in range(7)
        ]
        self.closed: list[tuple[date, date]] = []
        self.custom: dict[date, list[Hours]] = defaultdict(list)
        self.extra: dict[date, list[Hours]] = defaultdict(list)
        for override in schedule.overrides:
            if override.type in CLOSING:
                self.closed.append((override.first, override.last))
            elif override.hours is not None:
                target = self.custom if override.type == OverrideType.CUSTOM_HOURS else self.extra
                target[override.first].append(override.hours)
        self.shapes: dict[tuple[int, ...], Shape] = {}  # by the ids of their layers
        # What a caller keeps of this plan's dates (services/soonest.py: their candidates),
        # for as long as the plan lives: a plan never changes.
        self.kept: dict[Hashable, Any] = {}
        lengths = [entry.hours.slot for entry in schedule.weekly] + [
            override.hours.slot for override in schedule.overrides if override.hours
        ]
        self.shortest = min(lengths, default=DEFAULT_SLOT)  # slot length anywhere
        self.longest = max(lengths, default=DEFAULT_SLOT)
        self.sites = frozenset(entry.hours.location for entry in schedule.weekly) | {
            override.hours.location for override in schedule.overrides if override.hours
        }  # every place the schedule names (None: no place)

    @cached_property
    def busy(self) -> list[Interval]:
        """The busy time, merged: the schedule's and what was `booked`."""
        if self.booked is None:
            return self.own_busy
        booked = zip(*self.booked, strict=True)
        return merge(
            [
                *self.own_busy,
                *(Interval(from_microseconds(s), from_microseconds(e)) for s, e in booked),
            ]
        )

    def busy_over(self, windows: Sequence[Interval]) -> Sequence[Interval]:
        """The busy time that may meet these windows, merged and sorted.

        All of it, unless the time `booked` was handed over as numbers and has not been
        made instants yet: then only the part within the windows' span is, so a day
        summarized by instants (its clocks move) does not make one of every booking.
        """
        if not windows:
            return ()
        if self.booked is None or "busy" in self.__dict__:
            return self.busy
        starts, ends = self.busy_micro
        first = bisect_right(ends, microseconds(windows[0].start))
        last = bisect_left(starts, microseconds(max(end for _, end in windows)))
        return [
            Interval(from_microseconds(start), from_microseconds(end))
            for start, end in zip(starts[first:last], ends[first:last], strict=True)
        ]

    @cached_property
    def busy_micro(self) -> tuple[list[int], list[int]]:
        """The starts and the ends of the busy time, merged, in UTC epoch microseconds.

        Worked out in numbers where the time `booked` is given so: a day summary of a
        specialist with hundreds of bookings needs no instant made of each.
        """
        if self.booked is None:
            return [microseconds(start) for start, _ in self.busy], [
                microseconds(end) for _, end in self.busy
            ]
        pairs = sorted(
            [(microseconds(start), microseconds(end)) for start, end in self.own_busy]
            + list(zip(*self.booked, strict=True))
        )
        starts: list[int] = []
        ends: list[int] = []
        for start, end in pairs:  # as merge() joins intervals that overlap or touch
            if ends and start <= ends[-1]:
                if end > ends[-1]:
                    ends[-1] = end
            else:
                starts.append(start)
                ends.append(end)
        return starts, ends

    def with_booked(self, booked: tuple[Sequence[int], Sequence[int]]) -> Plan:
        """This plan with busy time besides the schedule's, as `booked` is given to a new one.

        The same schedule and places, and the work days it has laid out already (`shape`):
        a question of many specialists' bookings lays out none again.
        """
        plan = Plan.__new__(Plan)
        plan.__dict__.update(self.__dict__)  # what `copy.copy` does, without loading it
        plan.booked = booked
        plan.kept = {}
        for name in ("busy", "busy_micro"):  # cached from the busy time without `booked`
            plan.__dict__.pop(name, None)
        return plan

    def today(self, now: datetime) -> date:
        """The specialist's local date at `now`."""
        return now.astimezone(self.tz).date()

    def local(self, instant: datetime) -> datetime:
        """An instant on the specialist's wall clock."""
        return instant.astimezone(self.tz)

    def local_micro(self, micro: int) -> datetime:
        """`local` of an instant given as UTC epoch microseconds, made at once."""
        seconds, rest = divmod(micro, 1_000_000)
        found = datetime.fromtimestamp(seconds, self.tz)  # the zone's own rule: as astimezone
        return found.replace(microsecond=rest) if rest else found

    def is_closed(self, day: date) -> bool:
        """Tells whether a day off or vacation covers `day`."""
        for first, last in self.closed:  # a loop: any() over a generator cost twice as much
            if first <= day <= last:
                return True
        return False

    def is_holiday(self, day: date, location: str | None = None) -> bool:
        """Tells whether `day` is a holiday in the calendars that hold at `location`."""
        codes = self.calendars.get(location, self.schedule.holidays) if location else None
        codes = self.schedule.holidays if codes is None else codes
        for code in codes:  # as in is_closed
            if day in holiday_dates(code, day.year):
                return True
        return False

    def hours(self, day: date) -> list[Hours]:
        """The hours that make up `day`, by the precedence of the layers, at the places asked."""
        if self.is_closed(day):
            return []
        if day in self.custom:
            hours = list(self.custom[day])
        elif not self.calendars:  # one calendar for every window: asked once
            hours = [] if self.is_holiday(day) else self._weekly(day)
        else:
            hours = [
                entry.hours
                for entry in self.weekly[day.weekday()]
                if entry.applies(day) and not self.is_holiday(day, entry.hours.location)
            ]
        hours += self.extra.get(day, [])
        if self.places is not None:
            return [h for h in hours if h.location in self.places]
        return hours

    def _weekly(self, day: date) -> list[Hours]:
        """The hours of the weekly entries valid on `day`."""
        return [entry.hours for entry in self.weekly[day.weekday()] if entry.applies(day)]

    def windows(self, day: date) -> tuple[Interval, ...]:
        """The working windows of one local date (what holes need; no slot grid)."""
        layers = self.hours(day)
        if not layers:
            return ()
        clock = local_clock(day, self.tz)
        if clock.utc is None:  # clocks move this day
            return _windows(layers, clock)[0]
        return self.shape(layers).windows_on(clock.utc)

    def micro_windows(self, day: date) -> tuple[tuple[int, int], ...]:
        """`windows` of one local date in UTC epoch microseconds."""
        layers = self.hours(day)
        if not layers:
            return ()
        clock = local_clock(day, self.tz)
        if clock.micro is None:  # clocks move this day
            windows = _windows(layers, clock)[0]
            return tuple((microseconds(start), microseconds(end)) for start, end in windows)
        midnight = clock.micro
        return tuple(
            (midnight + start, midnight + end) for start, end in self.shape(layers).micro_windows
        )

    def place(self, day: date, instant: datetime) -> str | None:
        """The location of the window of local date `day` that holds `instant` (None: none)."""
        windows, places = _windows(self.hours(day), LocalClock(day, self.tz))
        return next(
            (p for (start, end), p in zip(windows, places, strict=True) if start <= instant < end),
            None,
        )

    def work_day(self, day: date) -> WorkDay:
        """Working windows and candidate starts of one local date."""
        layers = self.hours(day)
        if not layers:
            return WorkDay(day, (), ())
        clock = local_clock(day, self.tz)
        if clock.utc is None:  # clocks move this day
            return _work_day(day, layers, clock)
        return self.shape(layers).on(day, clock.utc)

    def shape(self, layers: list[Hours]) -> Shape:
        """The work day these layers make on a date that keeps one offset, from its midnight.

        Kept per plan: a template repeats its few combinations of layers week after week.
        """
        key = tuple(map(id, layers))  # the plan holds every Hours it hands out
        found = self.shapes.get(key)
        if found is None:
            found = self.shapes[key] = Shape.of(layers)
        return found


class Shape(Struct, frozen=True):
    """A work day as distances from a local midnight that keeps one offset all day.

    On such a date a wall time is its midnight's instant plus the distance, so windows and
    candidates keep their order, and merge alike, wherever the day falls.
    """

    windows: tuple[tuple[timedelta, timedelta], ...]
    places: tuple[str | None, ...]
    candidates: tuple[tuple[timedelta, timedelta, str | None], ...]  # start, slot, place
    # The same in microseconds: windows (start, end), candidates (start, slot).
    micro_windows: tuple[tuple[int, int], ...]
    micro_candidates: tuple[tuple[int, int], ...]
    reversed: bool  # a window ends before it starts

    @classmethod
    def of(cls, layers: list[Hours]) -> Shape:
        """The shape of these layers."""
        clock = LocalClock(ZERO_DAY, zone("UTC"))  # any date: only distances are kept
        work = _work_day(ZERO_DAY, layers, clock)
        zero = clock.instant(timedelta(0))
        windows = tuple((start - zero, end - zero) for start, end in work.windows)
        candidates = tuple((c.start - zero, c.slot, c.location) for c in work.candidates)
        return cls(
            windows,
            work.places,
            candidates,
            tuple((start // MICROSECOND, end // MICROSECOND) for start, end in windows),
            tuple((start // MICROSECOND, slot // MICROSECOND) for start, slot, _ in candidates),
            any(end < start for start, end in windows),
        )

    def windows_on(self, midnight: datetime) -> tuple[Interval, ...]:
        """The windows of the date whose local midnight is the instant `midnight`."""
        return tuple(Interval(midnight + start, midnight + end) for start, end in self.windows)

    def on(self, day: date, midnight: datetime) -> WorkDay:
        """The work day of `day`, whose local midnight is the instant `midnight`."""
        return WorkDay(
            day,
            self.windows_on(midnight),
            tuple(
                Candidate(midnight + start, slot, place) for start, slot, place in self.candidates
            ),
            self.places,
        )


def _work_day(day: date, layers: list[Hours], clock: LocalClock) -> WorkDay:
    """Working windows and candidate starts of the layers of one local date, on its clock."""
    candidates = []
    for place, group in _by_place(layers).items():
        grid: dict[timedelta, timedelta] = {}
        for hours in group:
            for start in _starts(hours):
                known = grid.get(start)
                grid[start] = hours.slot if known is None else min(known, hours.slot)
        for since_midnight, slot in grid.items():
            instant = clock.start(since_midnight)
            if instant is not None:
                candidates.append(Candidate(instant, slot, place))
    candidates.sort(key=lambda candidate: candidate.start)
    windows, places = _windows(layers, clock)
    return WorkDay(day, windows, tuple(candidates), places)


def _by_place(layers: list[Hours]) -> dict[str | None, list[Hours]]:
    """The layers grouped by their location, in order of first appearance."""
    groups: dict[str | None, list[Hours]] = defaultdict(list)
    for hours in layers:
        groups[hours.location].append(hours)
    return groups


def _windows(
    layers: list[Hours], clock: LocalClock
) -> tuple[tuple[Interval, ...], tuple[str | None, ...]]:
    """The layers' windows as absolute intervals, merged within each place, with their places.

    Sorted by start; windows of two places stay apart even where they touch.
    """
    placed = [
        (window, place)
        for place, group in _by_place(layers).items()
        for window in merge(
            Interval(clock.instant(start), clock.instant(end))
            for hours in group
            for start, end in _spans(hours)
        )
    ]
    placed.sort(key=lambda placed_window: placed_window[0])
    return tuple(w for w, _ in placed), tuple(p for _, p in placed)


def _spans(hours: Hours) -> list[tuple[timedelta, timedelta]]:
    """Wall-clock windows of one Hours: the window itself, or [T, T + slot) per time."""
    if hours.start is not None and hours.end is not None:
        return [(wall(hours.start), wall(hours.end))]
    return [(wall(t), wall(t) + hours.slot) for t in hours.times]


def _starts(hours: Hours) -> list[timedelta]:
    """Wall-clock candidate starts of one Hours: the grid of a window, or the times."""
    if hours.start is None or hours.end is None:
        return [wall(t) for t in hours.times]
    starts = []
    cursor, end, step = wall(hours.start), wall(hours.end), hours.slot + hours.break_after
    while cursor + hours.slot <= end:
        starts.append(cursor)
        cursor += step
    return starts
