"""What the day index keeps of one specialist-day: its holes and the slots they hold.

The summary ignores `now`: notice, today and the horizon are applied when a question is
asked, by the same functions of search.py, to the holes kept here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from msgspec import Struct

from bookbot.engine.intervals import ONE_DAY, absolute, subtract_micro
from bookbot.engine.model import Interval
from bookbot.engine.search import fitting, free_time
from bookbot.engine.workday import (
    EPOCH,
    MICROSECOND,
    Plan,
    WorkDay,
    from_microseconds,
    local_clock,
    microseconds,
    wall,
)

MINUTE = timedelta(minutes=1)
BUCKET = timedelta(minutes=30)  # what a bit of `DaySummary.start_mask` stands for
BUCKETS = 63  # bits SQL can shift in a signed 64-bit integer without reaching the sign
MICRO_BUCKET = BUCKET // MICROSECOND
MICRO_MINUTE = MINUTE // MICROSECOND


class DaySummary(Struct, frozen=True):
    """One local date of a specialist: free time before notice, and the free slots in it.

    `starts` are the starts of the candidates free for their own slot length, in UTC;
    `free_slots` counts them and `first_free` is the first.
    """

    day: date
    holes: tuple[Interval, ...]
    starts: tuple[datetime, ...]

    @property
    def free_slots(self) -> int:
        """How many candidates are free for their own slot length."""
        return len(self.starts)

    @property
    def first_free(self) -> datetime | None:
        """The first free candidate's start, if any."""
        return self.starts[0] if self.starts else None

    @property
    def start_mask(self) -> int:
        """Which 30-minute buckets hold a free start (FreeDay.start_mask)."""
        return FreeDay.of(self).start_mask

    @property
    def free_minutes(self) -> int:
        """Whole minutes of free working time."""
        return FreeDay.of(self).free_minutes

    @property
    def longest_hole_minutes(self) -> int:
        """Whole minutes of the longest hole."""
        return FreeDay.of(self).longest_hole_minutes


def summarize(plan: Plan, work: WorkDay) -> DaySummary:
    """The summary of one worked day against the plan's busy time."""
    free = free_time(plan, work.windows)
    starts = tuple(candidate.start for candidate, _ in fitting(work, free))
    return DaySummary(work.day, tuple(free), starts)


class FreeDay(Struct, frozen=True):
    """What `summarize` tells of a day, in UTC epoch microseconds: what the index stores.

    `holes` are (start, end) pairs; `starts` the free candidates' starts, in order.
    """

    day: date
    holes: tuple[tuple[int, int], ...]
    starts: tuple[int, ...]

    @classmethod
    def of(cls, summary: DaySummary) -> FreeDay:
        """A summary's figures in integers."""
        return cls(
            summary.day,
            tuple((microseconds(absolute(s)), microseconds(absolute(e))) for s, e in summary.holes),
            tuple(microseconds(absolute(start)) for start in summary.starts),
        )

    @property
    def first_free(self) -> datetime | None:
        """The first free candidate's start, if any."""
        return from_microseconds(self.starts[0]) if self.starts else None

    @property
    def free_base(self) -> int | None:
        """The bucket of the first free start, which bit 0 of `start_mask` stands for."""
        return self.starts[0] // MICRO_BUCKET if self.starts else None

    @property
    def start_mask(self) -> int:
        """Which 30-minute buckets hold a free start, from the first free start's bucket on.

        Bit k stands for bucket `free_base + k`; the last bit also for every later bucket,
        so the mask never claims a bucket empty that is not.
        """
        base = self.free_base
        if base is None:
            return 0
        mask = 0
        for start in self.starts:
            mask |= 1 << (start // MICRO_BUCKET - base)
        last = 1 << (BUCKETS - 1)
        return mask if mask < last else (mask & (last - 1)) | last  # later ones: the last bit

    @property
    def free_minutes(self) -> int:
        """Whole minutes of free working time."""
        return sum([end - start for start, end in self.holes]) // MICRO_MINUTE

    @property
    def longest_hole_minutes(self) -> int:
        """Whole minutes of the longest hole."""
        if not self.holes:
            return 0
        return max([end - start for start, end in self.holes]) // MICRO_MINUTE


def free_days(plan: Plan, days: Iterable[date]) -> list[FreeDay]:
    """`summarize` of each of these days, worked out in integers where it can be.

    A day whose clock keeps one offset is its layers' shape (Plan.shape) moved to its
    midnight: its windows less busy time, and the candidates that fit in what is left,
    as `free_time` and `fitting` find them. Any other day is summarized as it always was.
    """
    starts, ends = plan.busy_micro
    found = []
    for day in days:
        layers = plan.hours(day)
        if not layers:
            found.append(FreeDay(day, (), ()))
            continue
        midnight = local_clock(day, plan.tz).micro
        shape = None if midnight is None else plan.shape(layers)
        if midnight is None or shape is None or shape.reversed:  # clocks move, or odd hours
            found.append(FreeDay.of(summarize(plan, plan.work_day(day))))
            continue
        holes = subtract_micro(shape.micro_windows, starts, ends, midnight)
        size = len(holes)
        free = []
        k = 0  # the first hole not over before the candidate: the only one that can hold it
        for offset, slot in shape.micro_candidates:  # contains(), on integers, in start order
            start = midnight + offset
            while k < size and holes[k][1] <= start:
                k += 1
            if k == size:
                break
            if holes[k][0] <= start and start + slot <= holes[k][1]:
                free.append(start)
        found.append(FreeDay(day, tuple(holes), tuple(free)))
    return found


def bucket(instant: datetime) -> int:
    """The number of the 30-minute bucket of time (counted from 1970, UTC) holding an instant."""
    return (absolute(instant) - EPOCH) // BUCKET


def bucket_start(number: int) -> datetime:
    """The instant a bucket begins, in UTC."""
    return EPOCH + number * BUCKET


def reach(plan: Plan) -> int:
    """How many dates after its own a day's working time can run into (late single slots)."""
    hours = [entry.hours for entry in plan.schedule.weekly] + [
        override.hours for override in plan.schedule.overrides if override.hours
    ]
    ends = [wall(h.end) for h in hours if h.start is not None and h.end is not None]
    ends += [wall(t) + h.slot for h in hours for t in h.times]
    return max((end - MINUTE) // ONE_DAY for end in ends) if ends else 0


def touched(plan: Plan, start: datetime, end: datetime) -> list[date]:
    """The local dates whose summaries busy time over [start, end) can change.

    A day either side more, for zones whose clocks move at midnight.
    """
    first = plan.local(start).date() - timedelta(days=reach(plan) + 1)
    last = plan.local(end).date() + ONE_DAY
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
