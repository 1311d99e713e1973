"""Schedule invariants as problems named by path, for the clinic file and the chat alike.

Values in, problems out: nothing here reads text, YAML or the database. Each check returns
the problems it finds (an empty list when the value holds), each with a locale key, the
parameters its message repeats, and a path like `specialists[1].weekly[0].end`. The
clinic-file reader calls the checks of single values while it reads, so a message repeats
what the file wrote; a chat command checks the specialist it changed as a whole.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from bookbot.engine.model import (
    Block,
    Booking,
    Business,
    Hours,
    Override,
    OverrideType,
    Service,
    Specialist,
    WeeklyEntry,
)
from bookbot.engine.policy import LONGEST_PAYMENT_HOLD, Policy
from bookbot.engine.problems import Problem
from bookbot.engine.workday import Plan, calendar_exists, wall, zone

# Bounds on what a schedule may hold (README, "The clinic file in brief"): each keeps every
# later question fast and every value inside its column and Python's date range.
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2099, 12, 31)
LONGEST_DURATION = timedelta(days=90)  # spec/policy.md: durations up to 90d
SHORTEST_SERVICE = timedelta(minutes=1)
SHORTEST_SLOT, LONGEST_SLOT = timedelta(minutes=5), timedelta(hours=24)
LONGEST_BREAK = timedelta(hours=24)
SHORTEST_HOLD = timedelta(minutes=1)  # a hold shorter than this would lapse as it is offered
MOST_NO_SHOWS = 100  # spec/policy.md: no_show_limit 1-100
LONGEST_ZONE = 64  # the column's width; IANA's names are under 40
MOST_TIMES = 80  # single slot times in one entry (the column holds 500 characters)
MOST_CALENDARS = 10  # holiday calendars in one list (the column holds 200 characters)
LATITUDE, LONGITUDE = 90.0, 180.0  # degrees either side
CALENDAR = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,10})?")
Moment = TypeVar("Moment", time, datetime)  # a wall time of a window, or an instant


def duration_text(value: timedelta) -> str:
    """Writes a duration the way the clinic file and the chat read it: 1h30m, 45m, 2h."""
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours}h{minutes}m"
    return f"{hours}h" if hours else f"{minutes}m"


def _at(path: str, name: str) -> str:
    """The path of a field of the value at `path` (a top-level field has no prefix)."""
    return f"{path}.{name}" if path else name


# -- single values: a problem with no path yet, or None ------------------------------------


def length(value: timedelta, least: timedelta, most: timedelta) -> Problem | None:
    """A duration outside least..most."""
    if least <= value <= most:
        return None
    return Problem(
        "file.duration_out_of_range",
        {"value": duration_text(value), "least": duration_text(least), "most": duration_text(most)},
    )


def slot_length(value: timedelta) -> Problem | None:
    """A slot shorter than SHORTEST_SLOT or longer than LONGEST_SLOT."""
    return length(value, SHORTEST_SLOT, LONGEST_SLOT)


def break_length(value: timedelta) -> Problem | None:
    """A break after each slot longer than LONGEST_BREAK."""
    return length(value, timedelta(0), LONGEST_BREAK)


def service_length(value: timedelta) -> Problem | None:
    """A service's duration outside SHORTEST_SERVICE..LONGEST_DURATION."""
    return length(value, SHORTEST_SERVICE, LONGEST_DURATION)


def notice_length(value: timedelta) -> Problem | None:
    """A minimum notice longer than LONGEST_DURATION."""
    return length(value, timedelta(0), LONGEST_DURATION)


def hold_length(value: timedelta) -> Problem | None:
    """A hold, or the window no-shows are counted in, outside SHORTEST_HOLD..LONGEST_DURATION."""
    return length(value, SHORTEST_HOLD, LONGEST_DURATION)


def payment_hold_length(value: timedelta) -> Problem | None:
    """A payment's hold outside SHORTEST_HOLD..LONGEST_PAYMENT_HOLD."""
    return length(value, SHORTEST_HOLD, LONGEST_PAYMENT_HOLD)


def day(value: date) -> Problem | None:
    """A date outside FIRST_DATE..LAST_DATE."""
    if FIRST_DATE <= value <= LAST_DATE:
        return None
    return Problem(
        "file.date_out_of_range",
        {
            "value": value.isoformat(),
            "first": FIRST_DATE.isoformat(),
            "last": LAST_DATE.isoformat(),
        },
    )


def timezone(name: object) -> Problem | None:
    """A time zone no IANA name of this machine's database names."""
    if isinstance(name, str) and len(name) <= LONGEST_ZONE:
        try:
            zone(name)
        except (ValueError, KeyError, OSError):
            pass
        else:
            return None
    return Problem("error.unknown_timezone", {"value": name})


def calendars(codes: Sequence[object]) -> Problem | None:
    """Too many holiday calendars, or one the holidays package does not know."""
    if len(codes) > MOST_CALENDARS:
        return Problem("file.too_many", {"most": MOST_CALENDARS})
    for code in codes:
        if not isinstance(code, str) or not CALENDAR.fullmatch(code) or not calendar_exists(code):
            return Problem("error.unknown_calendar", {"value": code})
    return None


def slot_times(times: Collection[time]) -> Problem | None:
    """More single slot times in one entry than MOST_TIMES."""
    return Problem("file.too_many", {"most": MOST_TIMES}) if len(times) > MOST_TIMES else None


def _placed(problem: Problem | None, path: str) -> list[Problem]:
    """A single value's problem at `path`, as a list."""
    return [] if problem is None else [Problem(problem.key, problem.params, path)]


# -- orders within one value ---------------------------------------------------------------


def ends_after(start: Moment, end: Moment, path: str) -> list[Problem]:
    """A window, block or booking at `path` must end after it starts."""
    return [] if end > start else [Problem("error.not_after", {"other": "start"}, _at(path, "end"))]


def not_before(
    first: date | None, last: date | None, path: str, first_name: str, last_name: str
) -> list[Problem]:
    """The last date of a range at `path` may not lie before its first."""
    if first is None or last is None or last >= first:
        return []
    return [Problem("error.before", {"other": first_name}, _at(path, last_name))]


def no_shows(value: Policy, path: str) -> list[Problem]:
    """The no-show rule at `path` is whole: a limit and what follows it, or neither.

    A window alone, or a limit without what follows, would be a rule that never acts.
    """
    given = {
        "no_show_limit": value.no_show_limit is not None,
        "after_no_shows": value.after_no_shows is not None,
        "no_show_window": value.no_show_window is not None,
    }
    if not any(given.values()):
        return []
    return [
        Problem(
            "file.goes_with", {"other": ", ".join(k for k in given if given[k])}, _at(path, key)
        )
        for key in ("no_show_limit", "after_no_shows")
        if not given[key]
    ]


# -- the parts of a specialist ---------------------------------------------------------------


def hours(value: Hours, path: str) -> list[Problem]:
    """Slot and break within bounds, a window that ends after it starts, not too many times."""
    found = _placed(slot_length(value.slot), _at(path, "slot"))
    found += _placed(break_length(value.break_after), _at(path, "break_after"))
    if value.start is not None and value.end is not None:
        found += ends_after(value.start, value.end, path)
    else:
        found += _placed(slot_times(value.times), _at(path, "times"))
    return found


def weekly_entry(entry: WeeklyEntry, path: str) -> list[Problem]:
    """A line of the weekly template: its hours, and dates in order and within the years."""
    found = hours(entry.hours, path)
    for name, value in (("valid_from", entry.valid_from), ("valid_until", entry.valid_until)):
        found += _placed(day(value) if value else None, _at(path, name))
    return found + not_before(
        entry.valid_from, entry.valid_until, path, "valid_from", "valid_until"
    )


def override(value: Override, path: str) -> list[Problem]:
    """An override: its dates in order and within the years, and its hours."""
    if value.type == OverrideType.VACATION:
        found = _placed(day(value.first), _at(path, "from"))
        found += _placed(day(value.last), _at(path, "to"))
        found += not_before(value.first, value.last, path, "from", "to")
    else:
        found = _placed(day(value.first), _at(path, "date"))
    return found + (hours(value.hours, path) if value.hours else [])


def block(value: Block, path: str) -> list[Problem]:
    """A block must end after it starts."""
    return ends_after(value.start, value.end, path)


def offered(ids: Sequence[str], service_ids: Collection[str], path: str) -> list[Problem]:
    """Every service a specialist at `path` offers exists, and none is listed twice."""
    found = []
    for i, service in enumerate(ids):
        where = f"{_at(path, 'services')}[{i}]"
        if service not in service_ids:
            found.append(Problem("error.unknown_service", {"id": service}, where))
        elif service in ids[:i]:
            found.append(Problem("file.offered_twice", {"id": service}, where))
    return found


def specialist(value: Specialist, service_ids: Collection[str], path: str) -> list[Problem]:
    """Everything about one specialist's own values, paths under `path`."""
    found = _placed(timezone(value.timezone) if value.timezone else None, _at(path, "timezone"))
    found += offered(value.services, service_ids, path)
    for i, entry in enumerate(value.weekly):
        found += weekly_entry(entry, f"{_at(path, 'weekly')}[{i}]")
    for i, dated in enumerate(value.overrides):
        found += override(dated, f"{_at(path, 'overrides')}[{i}]")
    for i, busy in enumerate(value.blocks):
        found += block(busy, f"{_at(path, 'blocks')}[{i}]")
    if value.holidays is not None:
        found += _placed(calendars(value.holidays), _at(path, "holidays"))
    return found


# -- across a list -----------------------------------------------------------------------------


def unique_ids(items: Sequence[tuple[str, object]]) -> list[Problem]:
    """No id given twice among `items`, each (its path, its id or None); later ones are named."""
    seen: set[object] = set()
    found = []
    for path, value in items:
        if value is None:
            continue
        if value in seen:
            found.append(Problem("error.duplicate_id", {"id": value}, _at(path, "id")))
        seen.add(value)
    return found


def services(values: Sequence[Service]) -> list[Problem]:
    """The catalog: ids unique, durations and cut-offs within bounds."""
    found = unique_ids([(f"services[{i}]", s.id) for i, s in enumerate(values)])
    for i, service in enumerate(values):
        if service.duration is not None:
            found += _placed(service_length(service.duration), f"services[{i}].duration")
        if service.cancel_notice is not None:
            found += _placed(notice_length(service.cancel_notice), f"services[{i}].cancel_notice")
    return found


def linked_once(items: Sequence[tuple[str, int | None]]) -> list[Problem]:
    """No Telegram account linked to two specialists, `items` being (path, telegram id)."""
    linked: dict[int, str] = {}
    found = []
    for path, telegram_id in items:
        if telegram_id is None:
            continue
        if telegram_id in linked:
            found.append(
                Problem(
                    "file.linked_twice",
                    {"id": telegram_id, "other": linked[telegram_id]},
                    _at(path, "telegram_id"),
                )
            )
        else:
            linked[telegram_id] = path
    return found


def named_twice(items: Sequence[tuple[str, Booking]]) -> list[Problem]:
    """A booking without an id that has the specialist, start and status of another.

    A line without an id is known by its specialist and start alone; with the status of
    another line as well, both name one booking. `items` are (path, booking) in file order.
    """
    seen: dict[tuple[str, datetime, str], tuple[str, int | None]] = {}
    found = []
    for path, booking in items:
        key = (booking.specialist, booking.start, str(booking.status))
        other = seen.get(key)
        if other is None:
            seen[key] = (path, booking.id)
        elif booking.id is None:  # this line names the booking the other one names
            found.append(Problem("file.booking_twice", {"other": other[0]}, path))
        elif other[1] is None:  # the other line, without an id, names this one's booking
            found.append(Problem("file.booking_twice", {"other": path}, other[0]))
            seen[key] = (path, booking.id)
    return found


def overlaps(items: Sequence[tuple[str, Booking]]) -> list[Problem]:
    """Live bookings of one specialist may not overlap; the later line of a pair is named.

    `items` are (path, booking) in file order; bookings another problem refused are left out.
    """
    live = sorted(
        (b.specialist, b.start, b.end, place) for place, (_, b) in enumerate(items) if b.live
    )
    found = []
    for (s1, _, end1, i1), (s2, start2, _, i2) in zip(live, live[1:], strict=False):
        if s1 == s2 and start2 < end1:
            found.append(
                Problem(
                    "error.overlaps_booking",
                    {"other": items[min(i1, i2)][0]},
                    _at(items[max(i1, i2)][0], "start"),
                )
            )
    return found


# -- locations -----------------------------------------------------------------------------


def coordinates(lat: float | None, lon: float | None, path: str) -> list[Problem]:
    """Latitude and longitude come together, within ±90 and ±180 degrees."""
    found = [
        Problem("file.degrees_out_of_range", {"value": value, "most": most}, _at(path, name))
        for name, value, most in (("lat", lat, LATITUDE), ("lon", lon, LONGITUDE))
        if value is not None and not -most <= value <= most
    ]
    if (lat is None) != (lon is None):
        missing, other = ("lat", "lon") if lat is None else ("lon", "lat")
        found.append(Problem("file.goes_with_coordinate", {"other": other}, _at(path, missing)))
    return found


def places(value: Specialist, business: Business, path: str) -> list[Problem]:
    """Where a specialist works: known places, resolved when there are any, never two at once."""
    found = _known_places(value, business, path)
    return found or _apart(value, business, path)


def _worked(value: Specialist, path: str) -> list[tuple[str, Hours]]:
    """Each working entry's path with its hours, places resolved (weekly, then overrides)."""
    weekly, overrides = value.placed()
    return [(f"{_at(path, 'weekly')}[{i}]", e.hours) for i, e in enumerate(weekly)] + [
        (f"{_at(path, 'overrides')}[{i}]", o.hours)
        for i, o in enumerate(overrides)
        if o.hours is not None
    ]


def _known_places(value: Specialist, business: Business, path: str) -> list[Problem]:
    """Every place named exists; with locations in the file, every working entry has one."""
    known = business.places
    if value.location is not None and value.location not in known:
        return [Problem("error.unknown_location", {"id": value.location}, _at(path, "location"))]
    found = []
    for where, hours in _worked(value, path):
        if hours.location is not None and hours.location not in known:
            found.append(
                Problem("error.unknown_location", {"id": hours.location}, _at(where, "location"))
            )
        elif hours.location is None and known:
            found.append(Problem("file.no_location", {}, _at(where, "location")))
    return found


def _spans(hours: Hours) -> list[tuple[timedelta, timedelta]]:
    """Wall-clock windows of one Hours: the window itself, or [T, T + slot) per time."""
    if hours.start is not None and hours.end is not None:
        return [(wall(hours.start), wall(hours.end))]
    return [(wall(t), wall(t) + hours.slot) for t in hours.times]


def _clash(one: Hours, other: Hours) -> bool:
    """Two hours at different places whose wall-clock windows overlap."""
    return one.location != other.location and any(
        start < other_end and other_start < end
        for start, end in _spans(one)
        for other_start, other_end in _spans(other)
    )


def _apart(value: Specialist, business: Business, path: str) -> list[Problem]:
    """No two windows at different places overlap on one date; the later entry is named.

    Weekly entries are compared where their days and dates meet; each dated override with
    the other hours of its date, as that date's layers make them.
    """
    if len({hours.location for _, hours in _worked(value, path)}) < 2:
        return []
    weekly, overrides = value.placed()
    found: list[Problem] = []
    lines = [(f"{_at(path, 'weekly')}[{i}]", e) for i, e in enumerate(weekly)]
    for j, (where, entry) in enumerate(lines):
        for other_where, other in lines[:j]:
            meet = (
                entry.days & other.days
                and (entry.valid_from or FIRST_DATE) <= (other.valid_until or LAST_DATE)
                and (other.valid_from or FIRST_DATE) <= (entry.valid_until or LAST_DATE)
            )
            if meet and _clash(entry.hours, other.hours):
                found.append(Problem("file.overlaps_elsewhere", {"other": other_where}, where))
                break
    plan = Plan(value.schedule(business))
    dated = [
        (f"{_at(path, 'overrides')}[{i}]", o)
        for i, o in enumerate(overrides)
        if o.hours is not None and not plan.is_closed(o.first)
    ]
    for j, (where, change) in enumerate(dated):
        on = change.first
        others = [(w, o.hours) for w, o in dated[:j] if o.first == on]
        if not any(o.type == OverrideType.CUSTOM_HOURS and o.first == on for _, o in dated):
            others += [
                (w, e.hours)
                for w, e in lines
                if e.applies(on) and not plan.is_holiday(on, e.hours.location)
            ]
        clash = next(
            (w for w, hours in others if hours and change.hours and _clash(change.hours, hours)),
            None,
        )
        if clash is not None:
            found.append(Problem("file.overlaps_elsewhere", {"other": clash}, where))
    return found
