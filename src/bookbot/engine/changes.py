"""Schedule changes as pure functions: a specialist in, the changed specialist out.

And the one question a change raises before it is written: which live bookings it
displaces, that is, which fit the schedule before the change and no longer fit after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from msgspec.structs import replace

from bookbot.engine.intervals import absolute, contains, overlaps
from bookbot.engine.model import (
    Block,
    Booking,
    Business,
    Hours,
    Override,
    OverrideType,
    Specialist,
    WeeklyEntry,
)
from bookbot.engine.workday import LocalClock, Plan, wall, zone


def day_off(specialist: Specialist, day: date, reason: str | None = None) -> Specialist:
    """Closes one date; a day off already there is replaced, so its reason is the new one."""
    kept = tuple(
        o for o in specialist.overrides if not (o.type == OverrideType.DAY_OFF and o.first == day)
    )
    return replace(
        specialist, overrides=kept + (Override(OverrideType.DAY_OFF, day, day, None, reason),)
    )


def vacation(
    specialist: Specialist, first: date, last: date, reason: str | None = None
) -> Specialist:
    """Closes the dates first..last inclusive; the same vacation twice is kept once."""
    kept = tuple(
        o
        for o in specialist.overrides
        if not (o.type == OverrideType.VACATION and (o.first, o.last) == (first, last))
    )
    return replace(
        specialist, overrides=kept + (Override(OverrideType.VACATION, first, last, None, reason),)
    )


def custom_hours(specialist: Specialist, day: date, hours: Hours) -> Specialist:
    """Sets the working hours of one date, in place of the custom hours it had before."""
    kept = tuple(
        o
        for o in specialist.overrides
        if not (o.type == OverrideType.CUSTOM_HOURS and o.first == day)
    )
    return replace(
        specialist, overrides=kept + (Override(OverrideType.CUSTOM_HOURS, day, day, hours),)
    )


def extra_slots(specialist: Specialist, day: date, hours: Hours) -> Specialist:
    """Adds single slots to one date, on top of whatever else it has."""
    return replace(
        specialist,
        overrides=specialist.overrides + (Override(OverrideType.EXTRA_SLOTS, day, day, hours),),
    )


def block(specialist: Specialist, added: Block) -> Specialist:
    """Adds time nothing may overlap."""
    return replace(specialist, blocks=specialist.blocks + (added,))


def covering(specialist: Specialist, at: datetime) -> Block | None:
    """The first block that covers the instant `at`, if any."""
    moment = absolute(at)
    return next(
        (b for b in specialist.blocks if absolute(b.start) <= moment < absolute(b.end)), None
    )


def unblock(specialist: Specialist, removed: Block) -> Specialist:
    """Takes one block away."""
    return replace(specialist, blocks=tuple(b for b in specialist.blocks if b != removed))


def holidays(specialist: Specialist, calendars: tuple[str, ...]) -> Specialist:
    """Sets the specialist's own holiday calendars; an empty tuple means none at all."""
    return replace(specialist, holidays=calendars)


def weekly(specialist: Specialist, entry: WeeklyEntry) -> Specialist:
    """Adds a line to the weekly template; lines on the same day add up."""
    return replace(specialist, weekly=specialist.weekly + (entry,))


def wall_instant(day: date, at: time, timezone: str) -> datetime:
    """A wall time of a local date in a zone as an aware instant (skipped times as if not)."""
    return LocalClock(day, zone(timezone)).instant(wall(at)).astimezone(zone(timezone))


def fits(plan: Plan, booking: Booking) -> bool:
    """Tells whether a booking lies inside its day's working windows and clear of blocks.

    The plan must hold no bookings as busy time, only blocks.
    """
    start, end = absolute(booking.start), absolute(booking.end)
    day = plan.local(start).date()
    if plan.is_closed(day):
        return False
    return contains(plan.work_day(day).windows, start, end) and not overlaps(plan.busy, start, end)


def displaced(
    business: Business, before: Specialist, after: Specialist, bookings: Iterable[Booking]
) -> list[Booking]:
    """Live bookings of the specialist that fit before the change and do not after it."""
    old, new = Plan(before.schedule(business)), Plan(after.schedule(business))
    return [
        b
        for b in bookings
        if b.live and b.specialist == after.id and fits(old, b) and not fits(new, b)
    ]


def shortest_slot(specialist: Specialist) -> timedelta:
    """The shortest slot in the specialist's template and overrides (60m when there is none)."""
    lengths = [entry.hours.slot for entry in specialist.weekly] + [
        o.hours.slot for o in specialist.overrides if o.hours is not None
    ]
    return min(lengths, default=timedelta(minutes=60))


# -- where the time is worked --------------------------------------------------------------


def based(specialist: Specialist, place: str) -> Specialist:
    """Sets the specialist's own place: where every entry that names none is worked."""
    return replace(specialist, location=place)


def works_on(specialist: Specialist, days: frozenset[int]) -> bool:
    """Tells whether any line of the weekly template gives hours on one of `days`."""
    return any(entry.days & days for entry in specialist.weekly)


def placed_weekly(specialist: Specialist, place: str, days: frozenset[int]) -> Specialist:
    """Puts the weekly lines' hours on `days` at `place`; a line on other days too is split.

    The part of a split line on the other days keeps its place and comes first; a line
    that names `place` already stays whole.
    """
    lines: list[WeeklyEntry] = []
    for entry in specialist.weekly:
        mine, rest = entry.days & days, entry.days - days
        if not mine or entry.hours.location == place:
            lines.append(entry)
            continue
        if rest:
            lines.append(replace(entry, days=rest))
        lines.append(replace(entry, days=mine, hours=replace(entry.hours, location=place)))
    return replace(specialist, weekly=tuple(lines))


def dated_hours(specialist: Specialist, day: date) -> list[Override]:
    """The custom hours and extra slots of one date."""
    return [
        o
        for o in specialist.overrides
        if o.type in (OverrideType.CUSTOM_HOURS, OverrideType.EXTRA_SLOTS)
        and o.first == day
        and o.hours is not None
    ]


def placed_on(specialist: Specialist, place: str, day: date) -> Specialist:
    """Puts one date's custom hours and extra slots at `place`."""
    return replace(
        specialist,
        overrides=tuple(
            replace(o, hours=replace(o.hours, location=place))
            if o.hours is not None and o in dated_hours(specialist, day)
            else o
            for o in specialist.overrides
        ),
    )


def moved(
    business: Business, before: Specialist, after: Specialist, bookings: Iterable[Booking]
) -> list[tuple[Booking, str]]:
    """Live bookings whose window is at another place after the change, with that place.

    A booking whose window is gone (the change `displaced` it) is not listed.
    """
    old, new = Plan(before.schedule(business)), Plan(after.schedule(business))
    found = []
    for b in bookings:
        if not b.live or b.specialist != after.id:
            continue
        was = old.place(old.local(b.start).date(), b.start)
        now = new.place(new.local(b.start).date(), b.start)
        if now is not None and now != was and now != b.location:
            found.append((b, now))
    return found
