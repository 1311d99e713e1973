"""Questions over schedules: free slots, the soonest slot, soonest days, holes."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta

from bookbot.engine.intervals import (
    ONE_DAY,
    absolute,
    contains,
    overlaps,
    subtract,
    subtract_micro,
)
from bookbot.engine.model import DayResult, Hole, Interval, Rules, Schedule, Slot
from bookbot.engine.workday import MICROSECOND, Candidate, Plan, WorkDay, from_microseconds
from bookbot.engine.workday import microseconds as microseconds  # soonest.py asks here


class Refusal(Exception):
    """A start that the rules do not offer; `reason` is one of the class constants."""

    NOT_OFFERED = "not_offered"
    TAKEN = "taken"
    TOO_SOON = "too_soon"
    BEYOND_HORIZON = "beyond_horizon"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def plans(schedules: Iterable[Schedule | Plan]) -> list[Plan]:
    """Indexes schedules for day-by-day questions."""
    return [schedule if isinstance(schedule, Plan) else Plan(schedule) for schedule in schedules]


def last_day(plan: Plan, now: datetime, rules: Rules) -> date:
    """The last local date on which the specialist may be offered."""
    return plan.today(now) + timedelta(days=rules.horizon_days)


def free_slots(
    plan: Plan, work: WorkDay, now: datetime, rules: Rules, duration: timedelta | None = None
) -> list[Slot]:
    """The candidates of one worked day that are free, in order of start."""
    return offered(plan, work, free_time(plan, work.windows), now, rules, duration)


def free_time(plan: Plan, windows: Sequence[Interval]) -> list[Interval]:
    """A day's holes before notice: its merged working windows minus busy time."""
    return subtract(windows, plan.busy_over(windows))


def fitting(
    work: WorkDay, free: Sequence[Interval], duration: timedelta | None = None
) -> Iterator[tuple[Candidate, datetime]]:
    """Candidates whose occupied interval lies in the free time (step 5 without notice).

    Where clocks skip an hour a window can come out reversed; then the windows are asked
    too, so that a slot counts as inside them exactly as slot_at finds it.
    """
    reversed_window = any(end < start for start, end in work.windows)
    for candidate in work.candidates:
        end = candidate.start + (duration or candidate.slot)
        if contains(free, candidate.start, end) and (
            not reversed_window or contains(work.windows, candidate.start, end)
        ):
            yield candidate, end


def offered(
    plan: Plan,
    work: WorkDay,
    free: Sequence[Interval],
    now: datetime,
    rules: Rules,
    duration: timedelta | None = None,
) -> list[Slot]:
    """The slots a worked day offers at `now`, given its free time (from busy time or the index)."""
    if work.day > last_day(plan, now, rules):
        return []
    earliest = absolute(now) + rules.min_notice
    return [
        Slot(plan.specialist, plan.local(candidate.start), plan.local(end), candidate.location)
        for candidate, end in fitting(work, free, duration)
        if candidate.start >= earliest
    ]


Offer = tuple[int, int, Slot]  # a candidate's start and end (UTC epoch microseconds), its slot


def offers(plan: Plan, work: WorkDay, duration: timedelta | None = None) -> tuple[Offer, ...]:
    """Every candidate of a worked day that fits its windows, as the slot it would offer.

    Busy time and notice aside: `offered_in` picks the ones free at `now`, as `offered`
    does. They depend on the schedule only, so a caller may keep them.
    """
    reversed_window = any(end < start for start, end in work.windows)
    found = []
    for candidate in work.candidates:
        end = candidate.start + (duration or candidate.slot)
        if reversed_window and not contains(work.windows, candidate.start, end):
            continue
        slot = Slot(
            plan.specialist, plan.local(candidate.start), plan.local(end), candidate.location
        )
        found.append((microseconds(candidate.start), microseconds(end), slot))
    return tuple(found)


def offered_in(
    found: Sequence[Offer], starts: Sequence[int], ends: Sequence[int], since: int
) -> list[Slot]:
    """The slots of `offers` that lie in the free time and start at `since` or later.

    What `offered` gives at a `now` whose notice ends at `since`: the free time is a day's
    holes as `contains` takes them, their starts and their ends in UTC epoch microseconds,
    and the caller leaves out days past the horizon, as `offered` does.
    """
    count = len(starts)
    slots = []
    for start, end, slot in found:
        if start < since:
            continue
        i = bisect_left(starts, start)  # as in `contains`: the hole at i or i - 1
        if (i < count and starts[i] <= start and end <= ends[i]) or (
            i > 0 and starts[i - 1] <= start and end <= ends[i - 1]
        ):
            slots.append(slot)
    return slots


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
    found = [
        slot
        for plan, day in offerable(schedules, first, last, now, rules)
        for slot in day_slots(plan, day, now, rules, duration)
    ]
    return sorted(found, key=slot_order)


def offerable(
    schedules: Iterable[Schedule | Plan], first: date, last: date, now: datetime, rules: Rules
) -> Iterator[tuple[Plan, date]]:
    """Each specialist with each local date first..last it may be offered on (the horizon)."""
    for plan in plans(schedules):
        for day in dates(first, min(last, last_day(plan, now, rules))):
            yield plan, day


def slot_order(slot: Slot | Hole) -> tuple[datetime, str]:
    """Sort key: absolute start, then specialist id."""
    return (absolute(slot.start), slot.specialist)


def soonest_day(
    plan: Plan,
    now: datetime,
    rules: Rules,
    first: date | None = None,
    duration: timedelta | None = None,
    last: date | None = None,
) -> DayResult:
    """A specialist's soonest local date with a free slot (up to `last`), and its free slots."""
    today = plan.today(now)
    start = max(first or today, today)
    end = last_day(plan, now, rules)
    for day in dates(start, end if last is None else min(last, end)):
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
    asked = [
        day
        for day in dates(max(first, first_open(earliest)), last)
        if weekdays is None or day.weekday() in weekdays
    ]
    found: list[Hole] = []
    for plan in plans(schedules):
        found += holes_on(plan, asked, earliest, least)
    return sorted(found, key=slot_order)


def holes_on(plan: Plan, days: Iterable[date], earliest: datetime, least: timedelta) -> list[Hole]:
    """One specialist's maximal free stretches of at least `least` from `earliest` on, on
    these dates, date by date (worked out in UTC epoch microseconds)."""
    starts, ends = plan.busy_micro
    since, needed = microseconds(absolute(earliest)), least // MICROSECOND
    found: list[Hole] = []
    for day in days:
        free = subtract_micro(plan.micro_windows(day), starts, ends)
        found += long_holes_micro(plan, day, free, since, needed)
    return found


def first_open(earliest: datetime) -> date:
    """The first date that may hold free time from `earliest` on, in any zone.

    A date's working time ends by the end of the next date (a single slot runs 24 hours
    at most: validate.LONGEST_SLOT), and no zone is a day behind UTC: three dates before
    earliest's date in UTC, and any date before, had ended everywhere before it.
    """
    return absolute(earliest).date() - 2 * ONE_DAY


def long_holes(
    plan: Plan, day: date, free: Sequence[Interval], earliest: datetime, least: timedelta
) -> list[Hole]:
    """The holes of a day's free time that remain at least `least` long from `earliest` on."""
    return long_holes_micro(
        plan,
        day,
        [(microseconds(start), microseconds(end)) for start, end in free],
        microseconds(absolute(earliest)),
        least // MICROSECOND,
    )


def long_holes_micro(
    plan: Plan, day: date, free: Iterable[tuple[int, int]], earliest: int, least: int
) -> list[Hole]:
    """`long_holes` of free time, `earliest` and `least` in UTC epoch microseconds."""
    # A hole lies in a window: a specialist of one place (or none) needs no search for it.
    many = len(plan.sites) > 1
    only = None if many else next(iter(plan.sites), None)
    found = []
    for start, end in free:
        start = max(start, earliest)
        if end > start and end - start >= least:
            place = plan.place(day, from_microseconds(start)) if many else only
            found.append(
                Hole(plan.specialist, plan.local_micro(start), plan.local_micro(end), place)
            )
    return found


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
    return Slot(plan.specialist, plan.local(start), plan.local(end), candidate.location)


def slot_length_at(plan: Plan, start: datetime) -> timedelta | None:
    """The slot length of the candidate starting at `start`, if any (ignores busy time)."""
    start = absolute(start)
    work = plan.work_day(plan.local(start).date())
    return next((c.slot for c in work.candidates if c.start == start), None)


def shortest_slot(plan: Plan) -> timedelta:
    """The shortest slot length anywhere in a specialist's template and overrides."""
    return plan.shortest


def longest_slot(plan: Plan) -> timedelta:
    """The longest slot length anywhere in a specialist's template and overrides."""
    return plan.longest


def ordered(plan: Plan, duration: timedelta | None) -> bool:
    """Tells whether a day's first free slot of its own bounds a service's first slot there.

    It does unless some slot of the specialist is longer than the service.
    """
    return duration is None or longest_slot(plan) <= duration


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
    for plan, day in offerable(schedules, first, last, now, rules):
        if (
            day not in found
            and not plan.is_closed(day)
            and _has_free(plan, plan.work_day(day), now, rules, duration)
        ):
            found.add(day)
    return sorted(found)


def _has_free(
    plan: Plan, work: WorkDay, now: datetime, rules: Rules, duration: timedelta | None
) -> bool:
    """Tells whether a worked day has at least one free slot, stopping at the first."""
    earliest = absolute(now) + rules.min_notice
    return any(
        candidate.start >= earliest
        for candidate, _ in fitting(work, free_time(plan, work.windows), duration)
    )
