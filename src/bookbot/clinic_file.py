"""The clinic file (YAML or JSON) to engine values and back, with problems named by path."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bookbot import parsing
from bookbot.engine.days import calendar_exists, zone
from bookbot.engine.model import (
    WEEKDAYS,
    Block,
    Booking,
    BookingStatus,
    Business,
    Client,
    Hours,
    Override,
    OverrideType,
    Rules,
    Service,
    Specialist,
    WeeklyEntry,
)
from bookbot.engine.search import Plan, slot_length_at
from bookbot.errors import BadInput, Invalid, Problem

ID = re.compile(r"^[a-z0-9_-]+$")
LONGEST_ID = 60
NO_CALENDAR = "none"
FIELDS = {
    "": {"timezone", "min_notice", "horizon_days", "holidays", "services", "specialists",
         "bookings"},
    "service": {"id", "name", "duration"},
    "specialist": {"id", "name", "timezone", "holidays", "telegram_id", "services", "weekly",
                   "overrides", "blocks"},
    "weekly": {"days", "start", "end", "times", "slot", "break_after", "valid_from",
               "valid_until"},
    "override": {"type", "date", "from", "to", "start", "end", "times", "slot", "break_after",
                 "reason"},
    "block": {"start", "end", "reason"},
    "booking": {"id", "specialist", "service", "start", "end", "status", "client"},
    "client": {"name", "phone", "telegram_id"},
}


class _Loader(yaml.SafeLoader):
    """YAML without 1.1's implicit sexagesimals, timestamps and yes/no booleans.

    An unquoted `10:30` would otherwise arrive as the integer 630, and a date as a date
    object; here every such scalar stays the text the user wrote.
    """


_DROPPED = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)


class _Dumper(yaml.SafeDumper):
    """Quotes every text with a colon, so no YAML reader can take `09:00` for a number."""


_Dumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style='"' if ":" in value else None),
)


@dataclass(frozen=True)
class Clinic:
    """Everything a clinic file holds, as engine values."""

    business: Business
    services: tuple[Service, ...] = ()
    specialists: tuple[Specialist, ...] = ()
    bookings: tuple[Booking, ...] = ()


@dataclass
class _Reader:
    """Collects problems while reading, so a file reports all of them at once."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, path: str, key: str, **params: Any) -> None:
        self.problems.append(Problem(key, params, path))

    def value(self, data: dict, key: str, path: str, parse: Callable[[Any], Any],
              default: Any = None, required: bool = False) -> Any:
        """Parses one field, recording a problem and returning the default on failure."""
        where = f"{path}.{key}" if path else key
        if key not in data or data[key] is None:
            if required:
                self.add(where, "error.required")
            return default
        try:
            return parse(data[key])
        except BadInput as error:
            self.problems.append(Problem(error.key, error.params, where))
            return default

    def mapping(self, data: Any, path: str, kind: str) -> dict | None:
        """Checks that `data` is a mapping with only the fields of its kind."""
        if not isinstance(data, dict):
            self.add(path or "(file)", "error.not_a_mapping")
            return None
        for key in data:
            if key not in FIELDS[kind]:
                self.add(f"{path}.{key}" if path else str(key), "error.unknown_field")
        return data

    def items(self, data: dict, key: str, path: str) -> list[tuple[str, Any]]:
        """The elements of a list field with their paths."""
        where = f"{path}.{key}" if path else key
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(where, "error.not_a_list")
            return []
        return [(f"{where}[{i}]", item) for i, item in enumerate(value)]


def load_text(text: str) -> Any:
    """Reads YAML or JSON text without YAML's time-as-number trap."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise BadInput(
            "error.not_yaml", line=(mark.line + 1) if mark else "?",
            detail=str(getattr(error, "problem", error)),
        ) from None


def read(text: str) -> Clinic:
    """Reads a clinic file, or raises Invalid naming every problem by its path."""
    return parse(load_text(text))


def parse(data: Any) -> Clinic:
    """Turns the loaded document into a Clinic, or raises Invalid with every problem."""
    reader = _Reader()
    top = reader.mapping(data, "", "")
    if top is None:
        raise Invalid(reader.problems)
    timezone = reader.value(top, "timezone", "", _timezone, required=True)
    rules = Rules(
        min_notice=reader.value(top, "min_notice", "", _duration_or_zero, timedelta(minutes=30)),
        horizon_days=reader.value(top, "horizon_days", "", _days, 60),
    )
    calendars = reader.value(top, "holidays", "", _calendars, ())
    business = Business(timezone or "UTC", rules, calendars or ())
    services = _services(reader, top)
    specialists = _specialists(reader, top, business, {s.id for s in services})
    bookings = _bookings(reader, top, business, services, specialists)
    if reader.problems:
        raise Invalid(reader.problems)
    return Clinic(business, tuple(services), tuple(specialists), tuple(bookings))


def _services(reader: _Reader, top: dict) -> list[Service]:
    services, seen = [], set()
    for path, item in reader.items(top, "services", ""):
        if reader.mapping(item, path, "service") is None:
            continue
        sid = reader.value(item, "id", path, _id, required=True)
        _unique(reader, seen, sid, path)
        services.append(Service(
            id=sid or "",
            name=reader.value(item, "name", path, _text, sid or ""),
            duration=reader.value(item, "duration", path, _positive_duration),
        ))
    return services


def _specialists(reader: _Reader, top: dict, business: Business,
                 service_ids: set[str]) -> list[Specialist]:
    specialists, seen = [], set()
    for path, item in reader.items(top, "specialists", ""):
        if reader.mapping(item, path, "specialist") is None:
            continue
        sid = reader.value(item, "id", path, _id, required=True)
        _unique(reader, seen, sid, path)
        own_zone = reader.value(item, "timezone", path, _timezone)
        tz = zone(own_zone or business.timezone)
        offered = reader.value(item, "services", path, _id_list, ())
        for i, service in enumerate(offered):
            if service not in service_ids:
                reader.add(f"{path}.services[{i}]", "error.unknown_service", id=service)
        specialists.append(Specialist(
            id=sid or "",
            name=reader.value(item, "name", path, _text, sid or ""),
            services=tuple(offered),
            weekly=tuple(_weekly(reader, item, path)),
            overrides=tuple(_overrides(reader, item, path)),
            blocks=tuple(_blocks(reader, item, path, tz)),
            timezone=own_zone,
            holidays=reader.value(item, "holidays", path, _calendars),
            telegram_id=reader.value(item, "telegram_id", path, _integer),
        ))
    return specialists


def _weekly(reader: _Reader, item: dict, path: str) -> list[WeeklyEntry]:
    entries = []
    for where, line in reader.items(item, "weekly", path):
        if reader.mapping(line, where, "weekly") is None:
            continue
        days = reader.value(line, "days", where, _weekdays, required=True)
        hours = _hours(reader, line, where)
        first = reader.value(line, "valid_from", where, parsing.calendar_date)
        last = reader.value(line, "valid_until", where, parsing.calendar_date)
        if first and last and last < first:
            reader.add(f"{where}.valid_until", "error.before", other="valid_from")
        if days and hours:
            entries.append(WeeklyEntry(days, hours, first, last))
    return entries


def _hours(reader: _Reader, line: dict, where: str, times_only: bool = False) -> Hours | None:
    """Reads a window (`start`/`end`) or single `times`, with `slot` and `break_after`."""
    slot = reader.value(line, "slot", where, _positive_duration, timedelta(minutes=60))
    pause = reader.value(line, "break_after", where, _duration_or_zero, timedelta(0))
    has_window = "start" in line or "end" in line
    if times_only or ("times" in line and not has_window):
        times = reader.value(line, "times", where, _times, required=True)
        return Hours(slot=slot, times=tuple(times)) if times else None
    if "times" in line:
        reader.add(f"{where}.times", "error.window_and_times")
        return None
    start = reader.value(line, "start", where, parsing.clock_time, required=True)
    end = reader.value(line, "end", where, parsing.clock_time, required=True)
    if start is not None and end is not None and end <= start:
        reader.add(f"{where}.end", "error.not_after", other="start")
        return None
    if start is None or end is None:
        return None
    return Hours(slot=slot, start=start, end=end, break_after=pause)


def _overrides(reader: _Reader, item: dict, path: str) -> list[Override]:
    overrides = []
    for where, line in reader.items(item, "overrides", path):
        if reader.mapping(line, where, "override") is None:
            continue
        kind = reader.value(line, "type", where, _override_type, required=True)
        reason = reader.value(line, "reason", where, _text)
        if kind is None:
            continue
        if kind == OverrideType.VACATION:
            first = reader.value(line, "from", where, parsing.calendar_date, required=True)
            last = reader.value(line, "to", where, parsing.calendar_date, required=True)
            if first and last and last < first:
                reader.add(f"{where}.to", "error.before", other="from")
                continue
        else:
            first = last = reader.value(line, "date", where, parsing.calendar_date, required=True)
        hours = None
        if kind in (OverrideType.CUSTOM_HOURS, OverrideType.EXTRA_SLOTS):
            hours = _hours(reader, line, where, times_only=kind == OverrideType.EXTRA_SLOTS)
            if hours is None:
                continue
        if first and last:
            overrides.append(Override(kind, first, last, hours, reason))
    return overrides


def _blocks(reader: _Reader, item: dict, path: str, tz: ZoneInfo) -> list[Block]:
    blocks = []
    for where, line in reader.items(item, "blocks", path):
        if reader.mapping(line, where, "block") is None:
            continue
        start = reader.value(line, "start", where, parsing.local_datetime, required=True)
        end = reader.value(line, "end", where, parsing.local_datetime, required=True)
        if start and end and end <= start:
            reader.add(f"{where}.end", "error.not_after", other="start")
        elif start and end:
            blocks.append(Block(_absolute(start, tz), _absolute(end, tz),
                                reader.value(line, "reason", where, _text)))
    return blocks


def _bookings(reader: _Reader, top: dict, business: Business, services: list[Service],
              specialists: list[Specialist]) -> list[Booking]:
    by_service = {s.id: s for s in services}
    by_specialist = {s.id: s for s in specialists}
    bookings, seen_ids = [], set()
    for where, line in reader.items(top, "bookings", ""):
        if reader.mapping(line, where, "booking") is None:
            continue
        booking_id = reader.value(line, "id", where, _integer)
        if booking_id is not None:
            _unique(reader, seen_ids, booking_id, where)
        specialist = by_specialist.get(reader.value(line, "specialist", where, _id, required=True))
        if "specialist" in line and specialist is None and isinstance(line["specialist"], str):
            reader.add(f"{where}.specialist", "error.unknown_specialist", id=line["specialist"])
        service = by_service.get(reader.value(line, "service", where, _id, required=True))
        if "service" in line and service is None and isinstance(line["service"], str):
            reader.add(f"{where}.service", "error.unknown_service", id=line["service"])
        if specialist and service and service.id not in specialist.services:
            reader.add(f"{where}.service", "error.not_offered_by", service=service.id,
                       specialist=specialist.id)
        status = reader.value(line, "status", where, _status, BookingStatus.CONFIRMED)
        client = _client(reader, line.get("client"), f"{where}.client")
        start = reader.value(line, "start", where, parsing.local_datetime, required=True)
        end = reader.value(line, "end", where, parsing.local_datetime)
        if not (specialist and service and start):
            continue
        tz = zone(specialist.zone(business))
        start_at = _absolute(start, tz)
        if end is not None and end <= start:
            reader.add(f"{where}.end", "error.not_after", other="start")
            continue
        end_at = _absolute(end, tz) if end else booking_end(specialist, service, business,
                                                             start_at)
        bookings.append(Booking(specialist.id, service.id, start_at, end_at, status, client,
                                booking_id))
    _check_overlaps(reader, bookings)
    return bookings


def booking_end(specialist: Specialist, service: Service, business: Business,
                start: datetime) -> datetime:
    """End of a booking without one: the service's duration, else the slot there, else 60m."""
    if service.duration:
        return start + service.duration
    length = slot_length_at(Plan(specialist.schedule(business)), start)
    return start + (length or timedelta(minutes=60))


def _check_overlaps(reader: _Reader, bookings: list[Booking]) -> None:
    """Live bookings of one specialist in the file may not overlap each other."""
    live = sorted(
        ((b.specialist, b.start, b.end, i) for i, b in enumerate(bookings) if b.live),
    )
    for (s1, _, end1, i1), (s2, start2, _, i2) in zip(live, live[1:], strict=False):
        if s1 == s2 and start2 < end1:
            reader.add(f"bookings[{max(i1, i2)}].start", "error.overlaps_booking",
                       other=f"bookings[{min(i1, i2)}]")


def _client(reader: _Reader, data: Any, path: str) -> Client | None:
    if data is None or reader.mapping(data, path, "client") is None:
        return None
    return Client(
        name=reader.value(data, "name", path, _text),
        phone=reader.value(data, "phone", path, _text),
        telegram_id=reader.value(data, "telegram_id", path, _integer),
    )


def _unique(reader: _Reader, seen: set, value: Any, path: str) -> None:
    if value is None:
        return
    if value in seen:
        reader.add(f"{path}.id", "error.duplicate_id", id=value)
    seen.add(value)


def _absolute(naive: datetime, tz: ZoneInfo) -> datetime:
    """A wall time as a UTC instant (first occurrence when ambiguous)."""
    return naive.replace(tzinfo=tz).astimezone(UTC)


def _id(value: Any) -> str:
    if not isinstance(value, str) or not ID.match(value):
        raise BadInput("error.not_an_id", value=value)
    if len(value) > LONGEST_ID:  # ids travel in Telegram's 64-byte button data
        raise BadInput("error.id_too_long", value=value, most=LONGEST_ID)
    return value


def _id_list(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise BadInput("error.not_a_list")
    return tuple(_id(v) for v in value)


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        raise BadInput("error.not_text", value=value)
    return str(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise BadInput("error.not_an_integer", value=value)
    return int(value)


def _days(value: Any) -> int:
    return _integer(value)


def _timezone(value: Any) -> str:
    try:
        zone(str(value))
    except (ValueError, KeyError, OSError):
        raise BadInput("error.unknown_timezone", value=value) from None
    return str(value)


def _calendars(value: Any) -> tuple[str, ...]:
    codes = value if isinstance(value, list) else [value]
    if codes == [NO_CALENDAR]:
        return ()
    for code in codes:
        if not isinstance(code, str) or not calendar_exists(code):
            raise BadInput("error.unknown_calendar", value=code)
    return tuple(codes)


def _weekdays(value: Any) -> frozenset[int]:
    names = value if isinstance(value, list) else [value]
    if not names:
        raise BadInput("error.no_days")
    for name in names:
        if str(name).lower() not in WEEKDAYS:
            raise BadInput("error.not_a_weekday", value=name)
    return frozenset(WEEKDAYS.index(str(name).lower()) for name in names)


def _times(value: Any) -> list:
    if not isinstance(value, list) or not value:
        raise BadInput("error.not_a_list")
    return [parsing.clock_time(v) for v in value]


def _positive_duration(value: Any) -> timedelta:
    parsed = parsing.duration(str(value))
    if parsed <= timedelta(0):
        raise BadInput("error.not_positive", value=value)
    return parsed


def _duration_or_zero(value: Any) -> timedelta:
    return timedelta(0) if str(value) in ("0", "0m") else parsing.duration(str(value))


def _override_type(value: Any) -> OverrideType:
    try:
        return OverrideType(value)
    except ValueError:
        raise BadInput("error.not_an_override_type", value=value) from None


def _status(value: Any) -> BookingStatus:
    if value not in (BookingStatus.CONFIRMED, BookingStatus.CANCELLED):
        raise BadInput("error.not_a_status", value=value)
    return BookingStatus(value)


def dump(clinic: Clinic) -> str:
    """Writes a Clinic back as a clinic file that reads to the same state."""
    business = clinic.business
    doc: dict[str, Any] = {
        "timezone": business.timezone,
        "min_notice": parsing.format_duration(business.rules.min_notice),
        "horizon_days": business.rules.horizon_days,
    }
    if business.holidays:
        doc["holidays"] = _calendar_field(business.holidays)
    doc["services"] = [_drop_none({
        "id": s.id, "name": s.name,
        "duration": parsing.format_duration(s.duration) if s.duration else None,
    }) for s in clinic.services]
    doc["specialists"] = [_dump_specialist(s, business) for s in clinic.specialists]
    by_id = {s.id: s for s in clinic.specialists}
    doc["bookings"] = [_dump_booking(b, by_id[b.specialist], business) for b in clinic.bookings]
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=None)


def _dump_specialist(specialist: Specialist, business: Business) -> dict:
    tz = zone(specialist.zone(business))
    return _drop_none({
        "id": specialist.id,
        "name": specialist.name,
        "timezone": specialist.timezone,
        "holidays": None if specialist.holidays is None else _calendar_field(specialist.holidays),
        "telegram_id": specialist.telegram_id,
        "services": list(specialist.services),
        "weekly": [_drop_none({
            "days": [WEEKDAYS[d] for d in sorted(entry.days)],
            **_dump_hours(entry.hours),
            "valid_from": _iso(entry.valid_from), "valid_until": _iso(entry.valid_until),
        }) for entry in specialist.weekly],
        "overrides": [_dump_override(o) for o in specialist.overrides],
        "blocks": [_drop_none({
            "start": _wall(block.start, tz), "end": _wall(block.end, tz), "reason": block.reason,
        }) for block in specialist.blocks],
    })


def _dump_override(override: Override) -> dict:
    if override.type == OverrideType.VACATION:
        dates = {"from": _iso(override.first), "to": _iso(override.last)}
    else:
        dates = {"date": _iso(override.first)}
    hours = _dump_hours(override.hours) if override.hours else {}
    if override.type == OverrideType.EXTRA_SLOTS:
        hours.pop("break_after", None)
    return _drop_none({"type": str(override.type), **dates, **hours, "reason": override.reason})


def _dump_hours(hours: Hours) -> dict:
    window: dict[str, Any]
    if hours.start is not None and hours.end is not None:
        window = {"start": hours.start.strftime("%H:%M"), "end": hours.end.strftime("%H:%M")}
    else:
        window = {"times": [t.strftime("%H:%M") for t in hours.times]}
    window["slot"] = parsing.format_duration(hours.slot)
    if hours.break_after:
        window["break_after"] = parsing.format_duration(hours.break_after)
    return window


def _dump_booking(booking: Booking, specialist: Specialist, business: Business) -> dict:
    tz = zone(specialist.zone(business))
    client = booking.client
    return _drop_none({
        "id": booking.id,
        "specialist": booking.specialist,
        "service": booking.service,
        "start": _wall(booking.start, tz),
        "end": _wall(booking.end, tz),
        "status": str(booking.status),
        "client": _drop_none({"name": client.name, "phone": client.phone,
                              "telegram_id": client.telegram_id}) if client else None,
    })


def _calendar_field(codes: tuple[str, ...]) -> str | list[str]:
    if not codes:
        return NO_CALENDAR
    return codes[0] if len(codes) == 1 else list(codes)


def _wall(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _drop_none(data: dict) -> dict:
    return {k: v for k, v in data.items() if v is not None and v != [] and v != {}}

