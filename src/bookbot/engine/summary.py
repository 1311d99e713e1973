"""What the day index keeps of one specialist-day: its holes and the slots they hold.

The summary ignores `now`: notice, today and the horizon are applied when a question is
asked, by the same functions of search.py, to the holes kept here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bookbot.engine.days import ONE_DAY, Plan, WorkDay, wall
from bookbot.engine.model import Interval
from bookbot.engine.search import fitting, free_time

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class DaySummary:
    """One local date of a specialist: free time before notice, and the free slots in it.

    `free_slots` counts candidates free for their own slot length; `first_free` is the
    first of them, in UTC.
    """

    day: date
    holes: tuple[Interval, ...]
    free_slots: int
    first_free: datetime | None

    @property
    def free_minutes(self) -> int:
        """Whole minutes of free working time."""
        return sum((end - start for start, end in self.holes), timedelta(0)) // MINUTE

    @property
    def longest_hole_minutes(self) -> int:
        """Whole minutes of the longest hole."""
        return max((end - start for start, end in self.holes), default=timedelta(0)) // MINUTE


def summarize(plan: Plan, work: WorkDay) -> DaySummary:
    """The summary of one worked day against the plan's busy time."""
    free = free_time(plan, work.windows)
    starts = [candidate.start for candidate, _ in fitting(work, free)]
    return DaySummary(work.day, tuple(free), len(starts), starts[0] if starts else None)


def reach(plan: Plan) -> int:
    """How many dates after its own a day's working time can run into (late single slots)."""
    hours = [entry.hours for entry in plan.schedule.weekly] + [
        override.hours for override in plan.schedule.overrides if override.hours]
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
