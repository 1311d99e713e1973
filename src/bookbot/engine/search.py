"""Questions over schedules: free slots, the soonest slot, soonest days, holes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta

from bookbot.engine.days import ONE_DAY, Candidate, Plan, WorkDay
from bookbot.engine.intervals import absolute, clip_start, contains, overlaps, subtract
from bookbot.engine.model import DayResult, Hole, Rules, Schedule, Slot


class Refusal(Exception):
    """A start that the rules do not offer; `reason` is one of the class constants."""

    NOT_OFFERED = "not_offered"
    TAKEN = "taken"
    TOO_SOON = "too_soon"
    BEYOND_HORIZON = "beyond_horizon"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def plans(schedules: Iterable[Schedule]) -> list[Plan]:
    """Indexes schedules for day-by-day questions."""
    return [schedule if isinstance(schedule, Plan) else Plan(schedule) for schedule in schedules]


def last_day(plan: Plan, now: datetime, rules: Rules) -> date:
    """The last local date on which the specialist may be offered."""
    return plan.today(now) + timedelta(days=rules.horizon_days)


def free_slots(
    plan: Plan, work: WorkDay, now: datetime, rules: Rules, duration: timedelta | None = None
) -> list[Slot]:
    """The candidates of one worked day that are free, in order of start."""
    if work.day > last_day(plan, now, rules):
        return []
    earliest = absolute(now) + rules.min_notice
    found = []
    for candidate in work.candidates:
        end = _free_end(plan, work, candidate, earliest, duration)
        if end is not None:
            found.append(Slot(plan.specialist, plan.local(candidate.start), plan.local(end)))
    return found


def _free_end(plan: Plan, work: WorkDay, candidate: Candidate, earliest: datetime,
              duration: timedelta | None) -> datetime | None:
    """Where a candidate's occupied interval ends if it is free (step 5), else None."""
    start = candidate.start
    end = start + (duration or candidate.slot)
    if start >= earliest and contains(work.windows, start, end) and not overlaps(
            plan.busy, start, end):
        return end
    return None


def day_slots(
    plan: Plan, day: date, now: datetime, rules: Rules, duration: timedelta | None = None
) -> list[Slot]:
    """Free slots of one specialist on one local date."""
    return free_slots(plan, plan.work_day(day), now, rules, duration)


def slots(
    schedules: Iterable[Schedule | Plan],
    first: date,
    last: date,
    now: datetime,
    rules: Rules,
    duration: timedelta | None = None,
) -> list[Slot]:
    """Free slots of every given specialist on local dates first..last, by start then id."""
    found: list[Slot] = []
    for plan in plans(schedules):
        for day in dates(first, min(last, last_day(plan, now, rules))):
            found.extend(day_slots(plan, day, now, rules, duration))
    return sorted(found, key=slot_order)


def slot_order(slot: Slot | Hole) -> tuple[datetime, str]:
    """Sort key: absolute start, then specialist id."""
    return (absolute(slot.start), slot.specialist)


def soonest_day(
    plan: Plan,
    now: datetime,
    rules: Rules,
    first: date | None = None,
    duration: timedelta | None = None,
) -> DayResult:
    """A specialist's soonest local date with a free slot, and that date's free slots."""
    today = plan.today(now)
    start = max(first or today, today)
    for day in dates(start, last_day(plan, now, rules)):
        if plan.is_closed(day):
            continue
        found = day_slots(plan, day, now, rules, duration)
        if found:
            return DayResult(plan.specialist, day, tuple(found))
    return DayResult(plan.specialist, None, ())


def soonest_days(
    schedules: Iterable[Schedule | Plan],
    now: datetime,
    rules: Rules,
    first: date | None = None,
    duration: timedelta | None = None,
) -> list[DayResult]:
    """Every specialist's soonest day, by date then id; those with none come last."""
    results = [soonest_day(plan, now, rules, first, duration) for plan in plans(schedules)]
    return sorted(results, key=lambda r: (r.day is None, r.day or date.min, r.specialist))


def soonest_slot(
    schedules: Iterable[Schedule | Plan],
    now: datetime,
    rules: Rules,
    first: date | None = None,
    duration: timedelta | None = None,
) -> Slot | None:
    """The soonest free slot among the specialists; a tie goes to the first id."""
    best: Slot | None = None
    for result in soonest_days(schedules, now, rules, first, duration):
        if result.slots and (best is None or slot_order(result.slots[0]) < slot_order(best)):
            best = result.slots[0]
    return best


def holes(
    schedules: Iterable[Schedule | Plan],
    first: date,
    last: date,
    now: datetime,
    rules: Rules,
    least: timedelta,
    weekdays: frozenset[int] | None = None,
) -> list[Hole]:
    """Maximal free stretches of at least `least` on the dates asked, by start then id."""
    earliest = absolute(now) + rules.min_notice
    found: list[Hole] = []
    for plan in plans(schedules):
        for day in dates(first, last):
            if weekdays is not None and day.weekday() not in weekdays:
                continue
            if plan.is_closed(day):
                continue
            work = plan.work_day(day)
            free = clip_start(subtract(work.windows, plan.busy), earliest)
            found.extend(
                Hole(plan.specialist, plan.local(start), plan.local(end))
                for start, end in free
                if end - start >= least
            )
    return sorted(found, key=slot_order)


def slot_at(
    plan: Plan,
    start: datetime,
    now: datetime,
    rules: Rules,
    duration: timedelta | None = None,
) -> Slot:
    """The offered slot that starts at `start`, or a Refusal saying why there is none."""
    start = absolute(start)
    day = plan.local(start).date()
    work = plan.work_day(day)
    candidate = next((c for c in work.candidates if c.start == start), None)
    if candidate is None:
        raise Refusal(Refusal.NOT_OFFERED)
    end = start + (duration or candidate.slot)
    if not contains(work.windows, start, end):
        raise Refusal(Refusal.NOT_OFFERED)
    if start < absolute(now) + rules.min_notice:
        raise Refusal(Refusal.TOO_SOON)
    if day > last_day(plan, now, rules):
        raise Refusal(Refusal.BEYOND_HORIZON)
    if overlaps(plan.busy, start, end):
        raise Refusal(Refusal.TAKEN)
    return Slot(plan.specialist, plan.local(start), plan.local(end))


def slot_length_at(plan: Plan, start: datetime) -> timedelta | None:
    """The slot length of the candidate starting at `start`, if any (ignores busy time)."""
    start = absolute(start)
    work = plan.work_day(plan.local(start).date())
    return next((c.slot for c in work.candidates if c.start == start), None)


def shortest_slot(plan: Plan) -> timedelta:
    """The shortest slot length anywhere in a specialist's template and overrides."""
    lengths = [entry.hours.slot for entry in plan.schedule.weekly] + [
        override.hours.slot for override in plan.schedule.overrides if override.hours
    ]
    return min(lengths, default=timedelta(minutes=60))


def dates(first: date, last: date) -> Iterator[date]:
    """Local dates first..last inclusive."""
    day = first
    while day <= last:
        yield day
        day += ONE_DAY



def free_days(
    schedules: Iterable[Schedule | Plan],
    first: date,
    last: date,
    now: datetime,
    rules: Rules,
    duration: timedelta | None = None,
) -> list[date]:
    """Local dates first..last on which any of the specialists has a free slot."""
    found: set[date] = set()
    for plan in plans(schedules):
        for day in dates(first, min(last, last_day(plan, now, rules))):
            if day not in found and not plan.is_closed(day) and _has_free(
                    plan, plan.work_day(day), now, rules, duration):
                found.add(day)
    return sorted(found)



def _has_free(plan: Plan, work: WorkDay, now: datetime, rules: Rules,
              duration: timedelta | None) -> bool:
    """Tells whether a worked day has at least one free slot, stopping at the first."""
    earliest = absolute(now) + rules.min_notice
    return any(_free_end(plan, work, c, earliest, duration) is not None for c in work.candidates)
