"""The clinic file (YAML or JSON) to engine values and back, with problems named by path."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bookbot import parsing
from bookbot.engine import validate
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
from bookbot.engine.search import slot_length_at
from bookbot.engine.workday import Plan, zone
from bookbot.errors import BadInput, Invalid, Problem

# Bounds on what a file may hold (README, "The clinic file in brief"): each keeps every later
# question fast and every value inside its column and Python's date range.
LARGEST_FILE = 256 * 1024 * 1024  # bytes; the 1.5 M bookings of bench size a take ~200 MB
DEEPEST = 32  # levels of nesting; a clinic file needs 7
ALIASED = 100_000  # values aliases may repeat beyond those the file writes out
FARTHEST_HORIZON = 730  # days
LARGEST_TELEGRAM_ID = 2**52 - 1  # the Bot API: user ids have at most 52 significant bits
LARGEST_BOOKING_ID = 2**31 - 1  # the bookings.id column is a 32-bit integer
LONGEST_NAME, LONGEST_REASON, LONGEST_PHONE = 100, 200, 40
SHOWN = 40  # characters of a value a message repeats
NO_CALENDAR = "none"
FIELDS = {
    "": {
        "timezone",
        "min_notice",
        "horizon_days",
        "holidays",
        "services",
        "specialists",
        "bookings",
    },
    "service": {"id", "name", "duration"},
    "specialist": {
        "id",
        "name",
        "timezone",
        "holidays",
        "telegram_id",
        "services",
        "weekly",
        "overrides",
        "blocks",
    },
    "weekly": {"days", "start", "end", "times", "slot", "break_after", "valid_from", "valid_until"},
    "override": {
        "type",
        "date",
        "from",
        "to",
        "start",
        "end",
        "times",
        "slot",
        "break_after",
        "reason",
    },
    "block": {"start", "end", "reason"},
    "booking": {"id", "specialist", "service", "start", "end", "status", "client"},
    "client": {"name", "phone", "telegram_id"},
}


class _Loader(yaml.SafeLoader):
    """YAML without 1.1's implicit sexagesimals, timestamps and yes/no booleans, and bounded.

    An unquoted `10:30` would otherwise arrive as the integer 630, and a date as a date
    object; here every such scalar stays the text the user wrote. Nesting deeper than
    DEEPEST is refused before Python's recursion limit is reached, and so are aliases that
    refer to themselves or repeat more than ALIASED values beyond the file's own (a 531-byte
    "billion laughs" file would otherwise stand for a billion strings).
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.written = 0  # nodes the file writes out
        self.counted = 0  # nodes as if every alias were written out
        self.sizes: dict[str, int] = {}  # anchor -> nodes it stands for, once composed

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Composes one node, counting what it stands for and how deep it lies."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            size = self.sizes.get(event.anchor or "")
            if size is None and event.anchor in self.anchors:
                raise BadInput("file.recursive_alias", line=_line(event))
            node = super().compose_node(parent, index)
            self.counted += size or 0
            if self.counted - self.written > max(ALIASED, self.written):
                raise BadInput("file.too_many_aliased", line=_line(event), most=ALIASED)
            return node
        self.depth += 1
        if self.depth > DEEPEST:
            raise BadInput("file.too_deep", line=_line(event), most=DEEPEST)
        before = self.counted
        self.written += 1
        self.counted += 1
        node = super().compose_node(parent, index)
        self.depth -= 1
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self.sizes[anchor] = self.counted - before
        return node


def _line(event: yaml.Event) -> int:
    """The 1-based line an event starts on (the parser marks every event it yields)."""
    assert event.start_mark is not None
    return event.start_mark.line + 1


_DROPPED = (
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
)
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(  # at most 20 characters: longer digits stay text, refused later
    "tag:yaml.org,2002:int",
    re.compile(
        r"^(?=.{1,20}$)(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)"
        r"|[-+]?0x[0-9a-fA-F_]+)$"
    ),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
# Plain data only: an explicit `!!binary`, `!!set`, `!!timestamp`, `!!omap` or `!!pairs` is
# refused as YAML SafeLoader cannot construct, instead of arriving as an odd Python value.
_Loader.yaml_constructors = {
    tag: make
    for tag, make in yaml.SafeLoader.yaml_constructors.items()
    if tag is None
    or tag.rsplit(":", 1)[-1] in ("null", "str", "int", "float", "bool", "seq", "map")
}


class _Dumper(yaml.SafeDumper):
    """Quotes every text with a colon, so no YAML reader can take `09:00` for a number."""


_Dumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style='"' if ":" in value else None
    ),
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
        """Records a problem; values it repeats are cut short, so a message stays a line."""
        self.problems.append(Problem(key, {k: _shown(v) for k, v in params.items()}, path))

    def found(self, problems: list[Problem]) -> bool:
        """Records the problems engine/validate.py found; tells whether there were any."""
        for problem in problems:
            self.add(problem.path, problem.key, **problem.params)
        return bool(problems)

    def value(
        self,
        data: dict,
        key: str,
        path: str,
        parse: Callable[[Any], Any],
        default: Any = None,
        required: bool = False,
    ) -> Any:
        """Parses one field, recording a problem and returning the default on failure."""
        where = f"{path}.{key}" if path else key
        if key not in data or data[key] is None:
            if required:
                self.add(where, "error.required")
            return default
        try:
            return parse(data[key])
        except BadInput as error:
            self.add(where, error.key, **error.params)
            return default

    def mapping(self, data: Any, path: str, kind: str) -> dict | None:
        """Checks that `data` is a mapping with only the fields of its kind."""
        if not isinstance(data, dict):
            self.add(path or "(file)", "error.not_a_mapping")
            return None
        for key in data:
            if key not in FIELDS[kind]:
                self.add(f"{path}.{_shown(key)}" if path else _shown(key), "error.unknown_field")
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
    """Reads YAML or JSON text without YAML's time-as-number trap, within the bounds."""
    if len(text) > LARGEST_FILE:
        raise BadInput("file.too_large", most=LARGEST_FILE // 2**20)
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise BadInput(
            "error.not_yaml",
            line=(mark.line + 1) if mark else "?",
            detail=_shown(getattr(error, "problem", None) or error, 200),
        ) from None
    except (ValueError, OverflowError) as error:  # an explicit `!!int` of 5,000 digits
        raise BadInput("error.not_yaml", line="?", detail=_shown(error, 200)) from None


def read(text: str) -> Clinic:
    """Reads a clinic file, or raises Invalid naming every problem by its path."""
    return parse(load_text(text))


def read_file(path: Path) -> Clinic:
    """Reads a clinic file from disk, refusing one larger than LARGEST_FILE before reading it."""
    try:
        if path.stat().st_size > LARGEST_FILE:
            raise BadInput("file.too_large", most=LARGEST_FILE // 2**20)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput("error.unreadable_file", path=str(path), detail=str(error)) from None
    return read(text)


def parse(data: Any) -> Clinic:
    """Turns the loaded document into a Clinic, or raises Invalid with every problem."""
    reader = _Reader()
    top = reader.mapping(data, "", "")
    if top is None:
        raise Invalid(reader.problems)
    timezone = reader.value(top, "timezone", "", _timezone, required=True)
    rules = Rules(
        min_notice=reader.value(top, "min_notice", "", _notice, timedelta(minutes=30)),
        horizon_days=reader.value(top, "horizon_days", "", _horizon, 60),
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
    services, ids = [], []
    for path, item in reader.items(top, "services", ""):
        if reader.mapping(item, path, "service") is None:
            continue
        sid = reader.value(item, "id", path, parsing.identifier, required=True)
        ids.append((path, sid))
        services.append(
            Service(
                id=sid or "",
                name=reader.value(item, "name", path, _name, sid or ""),
                duration=reader.value(item, "duration", path, _service_duration),
            )
        )
    reader.found(validate.unique_ids(ids))
    return services


def _specialists(
    reader: _Reader, top: dict, business: Business, service_ids: set[str]
) -> list[Specialist]:
    specialists, ids, linked = [], [], []
    for path, item in reader.items(top, "specialists", ""):
        if reader.mapping(item, path, "specialist") is None:
            continue
        sid = reader.value(item, "id", path, parsing.identifier, required=True)
        ids.append((path, sid))
        own_zone = reader.value(item, "timezone", path, _timezone)
        tz = zone(own_zone or business.timezone)
        offered = reader.value(item, "services", path, _id_list, ())
        reader.found(validate.offered(offered, service_ids, path))
        telegram_id = reader.value(item, "telegram_id", path, _telegram_id)
        linked.append((path, telegram_id))
        specialists.append(
            Specialist(
                id=sid or "",
                name=reader.value(item, "name", path, _name, sid or ""),
                services=tuple(offered),
                weekly=tuple(_weekly(reader, item, path)),
                overrides=tuple(_overrides(reader, item, path)),
                blocks=tuple(_blocks(reader, item, path, tz)),
                timezone=own_zone,
                holidays=reader.value(item, "holidays", path, _calendars),
                telegram_id=telegram_id,
            )
        )
    reader.found(validate.unique_ids(ids))
    reader.found(validate.linked_once(linked))
    return specialists


def _weekly(reader: _Reader, item: dict, path: str) -> list[WeeklyEntry]:
    entries = []
    for where, line in reader.items(item, "weekly", path):
        if reader.mapping(line, where, "weekly") is None:
            continue
        days = reader.value(line, "days", where, _weekdays, required=True)
        hours = _hours(reader, line, where)
        first = reader.value(line, "valid_from", where, _date)
        last = reader.value(line, "valid_until", where, _date)
        reader.found(validate.not_before(first, last, where, "valid_from", "valid_until"))
        if days and hours:
            entries.append(WeeklyEntry(days, hours, first, last))
    return entries


def _hours(reader: _Reader, line: dict, where: str, times_only: bool = False) -> Hours | None:
    """Reads a window (`start`/`end`) or single `times`, with `slot` and `break_after`."""
    slot = reader.value(line, "slot", where, _slot, timedelta(minutes=60))
    pause = reader.value(line, "break_after", where, _break, timedelta(0))
    has_window = "start" in line or "end" in line
    if times_only or ("times" in line and not has_window):
        times = reader.value(line, "times", where, _times, required=True)
        return Hours(slot=slot, times=tuple(times)) if times else None
    if "times" in line:
        reader.add(f"{where}.times", "error.window_and_times")
        return None
    start = reader.value(line, "start", where, _clock, required=True)
    end = reader.value(line, "end", where, _clock, required=True)
    if start is None or end is None:
        return None
    hours = Hours(slot=slot, start=start, end=end, break_after=pause)
    return None if reader.found(validate.hours(hours, where)) else hours


def _overrides(reader: _Reader, item: dict, path: str) -> list[Override]:
    overrides = []
    for where, line in reader.items(item, "overrides", path):
        if reader.mapping(line, where, "override") is None:
            continue
        kind = reader.value(line, "type", where, _override_type, required=True)
        reason = reader.value(line, "reason", where, _reason)
        if kind is None:
            continue
        if kind == OverrideType.VACATION:
            first = reader.value(line, "from", where, _date, required=True)
            last = reader.value(line, "to", where, _date, required=True)
            if reader.found(validate.not_before(first, last, where, "from", "to")):
                continue
        else:
            first = last = reader.value(line, "date", where, _date, required=True)
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
        start = reader.value(line, "start", where, _moment, required=True)
        end = reader.value(line, "end", where, _moment, required=True)
        reason = reader.value(line, "reason", where, _reason)
        if start is None or end is None:
            continue
        start_at, end_at = _absolute(start, tz), _absolute(end, tz)
        if not reader.found(validate.ends_after(start_at, end_at, where)):
            blocks.append(Block(start_at, end_at, reason))
    return blocks


def _bookings(
    reader: _Reader,
    top: dict,
    business: Business,
    services: list[Service],
    specialists: list[Specialist],
) -> list[Booking]:
    """The file's bookings; `placed` keeps each one's path in the file for messages.

    A booking's service need not be one its specialist offers now: a booking already made
    stays when the specialist stops offering it. The import refuses a new one (see
    Store.import_bookings), as only it knows which are new.
    """
    by_service = {s.id: s for s in services}
    by_specialist = {s.id: s for s in specialists}
    placed: list[tuple[str, Booking]] = []
    ids = []
    for where, line in reader.items(top, "bookings", ""):
        if reader.mapping(line, where, "booking") is None:
            continue
        booking_id = reader.value(line, "id", where, _booking_id)
        ids.append((where, booking_id))
        specialist = by_specialist.get(
            reader.value(line, "specialist", where, parsing.identifier, required=True)
        )
        if "specialist" in line and specialist is None and isinstance(line["specialist"], str):
            reader.add(f"{where}.specialist", "error.unknown_specialist", id=line["specialist"])
        service = by_service.get(
            reader.value(line, "service", where, parsing.identifier, required=True)
        )
        if "service" in line and service is None and isinstance(line["service"], str):
            reader.add(f"{where}.service", "error.unknown_service", id=line["service"])
        status = reader.value(line, "status", where, _status, BookingStatus.CONFIRMED)
        client = _client(reader, line.get("client"), f"{where}.client")
        start = reader.value(line, "start", where, _moment, required=True)
        end = reader.value(line, "end", where, _moment)
        if not (specialist and service and start):
            continue
        tz = zone(specialist.zone(business))
        start_at = _absolute(start, tz)
        end_at = _absolute(end, tz) if end else booking_end(specialist, service, business, start_at)
        if reader.found(validate.ends_after(start_at, end_at, where)):
            continue
        placed.append(
            (
                where,
                Booking(specialist.id, service.id, start_at, end_at, status, client, booking_id),
            )
        )
    reader.found(validate.unique_ids(ids))
    twice = validate.named_twice(placed)
    reader.found(twice)
    refused = {problem.path for problem in twice}
    reader.found(validate.overlaps([(w, b) for w, b in placed if w not in refused]))
    return [booking for _, booking in placed]


def booking_end(
    specialist: Specialist, service: Service, business: Business, start: datetime
) -> datetime:
    """End of a booking without one: the service's duration, else the slot there, else 60m."""
    if service.duration:
        return start + service.duration
    length = slot_length_at(Plan(specialist.schedule(business)), start)
    return start + (length or timedelta(minutes=60))


def _client(reader: _Reader, data: Any, path: str) -> Client | None:
    """The client of a booking; one with no name, phone or Telegram id is none."""
    if data is None or reader.mapping(data, path, "client") is None:
        return None
    client = Client(
        name=reader.value(data, "name", path, _client_name),
        phone=reader.value(data, "phone", path, _phone),
        telegram_id=reader.value(data, "telegram_id", path, _telegram_id),
    )
    return client if client != Client() else None


def _absolute(moment: datetime, tz: ZoneInfo) -> datetime:
    """A wall time (first occurrence when ambiguous), or a time with an offset, in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


# -- single values: each refuses what is not its kind or lies outside its bounds --------------

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
DIGITS = re.compile(r"[0-9]{1,20}")
WITH_OFFSET = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?"
    r"(?:Z|[+-]\d{2}:\d{2})",
    re.ASCII,
)


def _shown(value: Any, most: int = SHOWN) -> Any:
    """A value as a message may repeat it: a number, or text cut to `most` characters.

    Never the text of a list or mapping (an alias bomb's would take gigabytes), nor
    control characters (a file could send escape sequences to the terminal).
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() <= 64:
        return value
    if isinstance(value, dict | list):
        return "{…}" if isinstance(value, dict) else "[…]"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 10_000:
        return "…"  # beyond the digits Python agrees to write out
    text = CONTROL.sub("?", str(value))
    return text if len(text) <= most else text[: most - 1] + "…"


def _scalar(value: Any, key: str) -> str:
    """The text of one written value (a text or a number); anything else raises BadInput(key)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, str | int | float)
        or (isinstance(value, int) and value.bit_length() > 64)
    ):
        raise BadInput(key, value=value)
    return str(value)


def _plain(value: Any, key: str, longest: int = 40) -> str:
    """A short ASCII value such as a date, a time or a duration, or BadInput(key)."""
    text = _scalar(value, key).strip()
    if len(text) > longest or not text.isascii():
        raise BadInput(key, value=value)
    return text


def _id_list(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise BadInput("error.not_a_list")
    return tuple(parsing.identifier(v) for v in value)


def _cleaned(value: Any, longest: int) -> str:
    """Text with control characters gone (line breaks and tabs become spaces), trimmed."""
    text = _scalar(value, "error.not_text")
    if CONTROL.search(text):
        text = CONTROL.sub("", text.replace("\t", " ").replace("\n", " ").replace("\r", " "))
    text = text.strip()
    if len(text) > longest:
        raise BadInput("file.too_long", value=text, most=longest)
    return text


def _name(value: Any) -> str:
    """The name of a service or a specialist: up to LONGEST_NAME characters, not empty."""
    text = _cleaned(value, LONGEST_NAME)
    if not text:
        raise BadInput("file.empty")
    return text


def _client_name(value: Any) -> str | None:
    return _cleaned(value, LONGEST_NAME) or None


def _reason(value: Any) -> str | None:
    return _cleaned(value, LONGEST_REASON) or None


def _phone(value: Any) -> str | None:
    return _cleaned(value, LONGEST_PHONE) or None


def _whole(value: Any, least: int, most: int) -> int:
    """A whole number within least..most, written as a number or as ASCII digits."""
    if isinstance(value, str) and DIGITS.fullmatch(value):
        value = int(value)
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        raise BadInput("file.out_of_range", value=value, least=least, most=most)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput("error.not_an_integer", value=value)
    if not least <= value <= most:
        raise BadInput("file.out_of_range", value=value, least=least, most=most)
    return value


def _telegram_id(value: Any) -> int:
    return _whole(value, 1, LARGEST_TELEGRAM_ID)


def _booking_id(value: Any) -> int:
    return _whole(value, 1, LARGEST_BOOKING_ID)


def _horizon(value: Any) -> int:
    return _whole(value, 0, FARTHEST_HORIZON)


def _checked(problem: Problem | None, found: Any, **shown: Any) -> Any:
    """`found`, or BadInput with validate's problem, repeating what the file wrote (`shown`)."""
    if problem is not None:
        raise BadInput(problem.key, **{**problem.params, **shown})
    return found


def _timezone(value: Any) -> str:
    return _checked(validate.timezone(value), value)


def _calendars(value: Any) -> tuple[str, ...]:
    codes = value if isinstance(value, list) else [value]
    if codes == [NO_CALENDAR]:
        return ()
    return _checked(validate.calendars(codes), tuple(codes))


def _weekdays(value: Any) -> frozenset[int]:
    names = value if isinstance(value, list) else [value]
    if not names:
        raise BadInput("error.no_days")
    for name in names:
        if not isinstance(name, str) or name.lower() not in WEEKDAYS:
            raise BadInput("error.not_a_weekday", value=name)
    return frozenset(WEEKDAYS.index(name.lower()) for name in names)


def _times(value: Any) -> list:
    if not isinstance(value, list) or not value:
        raise BadInput("error.not_a_list")
    _checked(validate.slot_times(value), value)
    return [_clock(v) for v in value]


def _clock(value: Any) -> time:
    return parsing.clock_time(_plain(value, "error.not_a_time"))


def _date(value: Any) -> date:
    """A date within FIRST_DATE..LAST_DATE."""
    found = parsing.calendar_date(_plain(value, "error.not_a_date"))
    return _checked(validate.day(found), found, value=value)


def _moment(value: Any) -> datetime:
    """A local date-time (naive), or one with its UTC offset (aware), within the years."""
    text = _plain(value, "file.not_a_moment")
    try:
        found = (
            datetime.fromisoformat(text)
            if WITH_OFFSET.fullmatch(text)
            else (parsing.local_datetime(text))
        )
    except (ValueError, BadInput):
        raise BadInput("file.not_a_moment", value=value) from None
    return _checked(validate.day(found.date()), found, value=value)


def _duration(value: Any, bounds: Callable[[timedelta], Problem | None]) -> timedelta:
    """A duration within the bounds validate gives; `0` is zero."""
    text = _plain(value, "error.not_a_duration", 16)
    try:
        found = timedelta(0) if text == "0" else parsing.duration(text)
    except OverflowError:
        found = timedelta.max
    return _checked(bounds(found), found, value=value)


def _service_duration(value: Any) -> timedelta:
    return _duration(value, validate.service_length)


def _slot(value: Any) -> timedelta:
    return _duration(value, validate.slot_length)


def _break(value: Any) -> timedelta:
    return _duration(value, validate.break_length)


def _notice(value: Any) -> timedelta:
    return _duration(value, validate.notice_length)


def _override_type(value: Any) -> OverrideType:
    if value not in tuple(OverrideType):
        raise BadInput("error.not_an_override_type", value=value)
    return OverrideType(value)


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
    doc["services"] = [
        _drop_none(
            {
                "id": s.id,
                "name": s.name,
                "duration": parsing.format_duration(s.duration) if s.duration else None,
            }
        )
        for s in clinic.services
    ]
    doc["specialists"] = [_dump_specialist(s, business) for s in clinic.specialists]
    by_id = {s.id: s for s in clinic.specialists}
    doc["bookings"] = [_dump_booking(b, by_id[b.specialist], business) for b in clinic.bookings]
    return yaml.dump(
        doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )


def _dump_specialist(specialist: Specialist, business: Business) -> dict:
    tz = zone(specialist.zone(business))
    return _drop_none(
        {
            "id": specialist.id,
            "name": specialist.name,
            "timezone": specialist.timezone,
            "holidays": None
            if specialist.holidays is None
            else _calendar_field(specialist.holidays),
            "telegram_id": specialist.telegram_id,
            "services": list(specialist.services),
            "weekly": [
                _drop_none(
                    {
                        "days": [WEEKDAYS[d] for d in sorted(entry.days)],
                        **_dump_hours(entry.hours),
                        "valid_from": _iso(entry.valid_from),
                        "valid_until": _iso(entry.valid_until),
                    }
                )
                for entry in specialist.weekly
            ],
            "overrides": [_dump_override(o) for o in specialist.overrides],
            "blocks": [
                _drop_none(
                    {
                        "start": _wall(block.start, tz),
                        "end": _wall(block.end, tz),
                        "reason": block.reason,
                    }
                )
                for block in specialist.blocks
            ],
        }
    )


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
    return _drop_none(
        {
            "id": booking.id,
            "specialist": booking.specialist,
            "service": booking.service,
            "start": _wall(booking.start, tz),
            "end": _wall(booking.end, tz),
            "status": str(booking.status),
            "client": _drop_none(
                {"name": client.name, "phone": client.phone, "telegram_id": client.telegram_id}
            )
            if client
            else None,
        }
    )


def _calendar_field(codes: tuple[str, ...]) -> str | list[str]:
    if not codes:
        return NO_CALENDAR
    return codes[0] if len(codes) == 1 else list(codes)


def _wall(instant: datetime, tz: ZoneInfo) -> str:
    """An instant as the file writes it: local, with the UTC offset where that is ambiguous.

    In the hour the clocks go back a wall time happens twice; without the offset it would
    read back as its first occurrence (a booking across the fold would come back shorter).
    """
    local = instant.astimezone(tz)
    if local.second or local.microsecond:
        return local.isoformat()
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return local.isoformat(timespec="minutes")
    return local.strftime("%Y-%m-%dT%H:%M")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _drop_none(data: dict) -> dict:
    return {k: v for k, v in data.items() if v is not None and v != [] and v != {}}
