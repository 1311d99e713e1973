"""The waitlist: who waits for what time, and whom a freed slot is offered to.

A client waits for a service, with one specialist or any, at one location or any, on
dates first..last and optionally in parts of the day (local to the specialist). When
time frees up, the slot goes to the earliest-joined entry it matches whose client holds
no offer yet (`pick`); the store makes the offer a hold of that slot (policy.md "Waitlist").
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime, time, timedelta

from msgspec import Struct

from bookbot.engine import workday
from bookbot.engine.model import Slot

MORNING, AFTERNOON, EVENING = "morning", "afternoon", "evening"
PARTS = (MORNING, AFTERNOON, EVENING)  # of the day, in order
NOON, FIVE_PM = time(12), time(17)


class Entry(Struct, frozen=True):
    """One client's wish for sooner or other time; `parts` empty means any time of day.

    `client` is their Telegram id; `specialist` and `location` None mean any;
    `from_booking` names the booking the entry was made from ("Want it sooner?"), which
    taking an offer moves.
    """

    id: int
    client: int
    service: str
    specialist: str | None
    location: str | None
    first: date
    last: date
    joined_at: datetime
    parts: frozenset[str] = frozenset()
    from_booking: int | None = None


def part_of_day(start: datetime, zone: str) -> str:
    """The part of the day a start falls in, by its wall time in `zone`.

    Morning is before 12:00, afternoon 12:00 to 17:00, evening from 17:00 on.
    """
    wall = start.astimezone(workday.zone(zone)).time()
    if wall < NOON:
        return MORNING
    return AFTERNOON if wall < FIVE_PM else EVENING


def matches(entry: Entry, slot: Slot, zone: str, *, service: str) -> bool:
    """Tells whether a slot of `service` (at its window's place) is what the entry waits for.

    `zone` is the slot's specialist's: the slot's local date must fall in the entry's
    dates, and its start in one of the entry's parts of the day.
    """
    return (
        entry.service == service
        and entry.specialist in (None, slot.specialist)
        and entry.location in (None, slot.location)
        and entry.first <= slot.start.astimezone(workday.zone(zone)).date() <= entry.last
        and (not entry.parts or part_of_day(slot.start, zone) in entry.parts)
    )


def pick(
    entries: Iterable[Entry],
    slot: Slot,
    zone: str,
    now: datetime,
    min_notice: timedelta,
    busy_clients: Collection[int],
    *,
    service: str,
) -> Entry | None:
    """The entry a freed slot is offered to at `now`, or None.

    The earliest-joined entry (then the lowest id) the slot matches whose client holds no
    offer now (`busy_clients`, their Telegram ids; the caller adds clients the no-show
    rules bar). A slot starting sooner than `now + min_notice` goes to nobody; an entry
    whose dates have passed matches no slot that has not begun.
    """
    if slot.start < now + min_notice:
        return None
    waiting = [
        entry
        for entry in entries
        if entry.client not in busy_clients and matches(entry, slot, zone, service=service)
    ]
    return min(waiting, key=lambda entry: (entry.joined_at, entry.id), default=None)


def wanted(
    shown: date,
    first: date,
    last: date,
    free: Collection[date],
    soonest: date | None,
    far: timedelta,
) -> tuple[date, date] | None:
    """The dates a calendar offers to wait for, or None when free time is near enough.

    The calendar shows the month of `shown` within today (`first`) ..the horizon (`last`),
    its `free` dates and the `soonest` free date. Nothing free at all: wait for any date;
    a shown month without a free date: for that month; the soonest free date more than
    `far` away: for the dates before it (policy.md "Waitlist").
    """
    if soonest is None:
        return first, last
    following = (shown.replace(day=28) + timedelta(days=4)).replace(day=1)
    month_first, month_last = max(shown, first), min(following - timedelta(days=1), last)
    if month_first <= month_last and not any(month_first <= d <= month_last for d in free):
        return month_first, month_last
    if soonest - first > far:
        return first, soonest - timedelta(days=1)
    return None


def expired(entry: Entry, today: date) -> bool:
    """Tells whether an entry's dates have all passed by `today` (local), so it may go."""
    return entry.last < today
