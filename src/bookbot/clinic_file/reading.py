"""A clinic file's data to engine values, checked whole, every problem named by its path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import Struct, field
from msgspec.structs import replace

from bookbot import parsing
from bookbot.clinic_file import values
from bookbot.clinic_file.bookings import Lines, absolute
from bookbot.clinic_file.loading import LARGEST_FILE, load_text
from bookbot.engine import payments, validate
from bookbot.engine.model import (
    Block,
    Booking,
    Business,
    Hours,
    Location,
    Override,
    OverrideType,
    Rules,
    Service,
    Specialist,
    WeeklyEntry,
)
from bookbot.engine.payments import Payment
from bookbot.engine.policy import DEFAULT_HOLD, Policy, Prepay
from bookbot.engine.workday import zone
from bookbot.errors import BadInput, Invalid, Problem

FIELDS = {
    "": {
        "timezone",
        "min_notice",
        "horizon_days",
        "holidays",
        "currency",
        "phone",
        "policy",
        "locations",
        "services",
        "specialists",
        "bookings",
        "payments",  # the export's history of payments: never read back (never re-charged)
    },
    "location": {"id", "name", "address", "lat", "lon", "timezone", "holidays", "phone"},
    "policy": {
        "cancel_notice",
        "confirm_by",
        "no_show_limit",
        "no_show_window",
        "after_no_shows",
        "waitlist_hold",
        "payment_hold",
    },
    "service": {
        "id",
        "name",
        "duration",
        "price",
        "cancel_notice",
        "prepay",
        "deposit",
        "online",
    },
    "specialist": {
        "id",
        "name",
        "timezone",
        "holidays",
        "telegram_id",
        "location",
        "services",
        "weekly",
        "overrides",
        "blocks",
    },
    "weekly": {
        "days",
        "start",
        "end",
        "times",
        "slot",
        "break_after",
        "valid_from",
        "valid_until",
        "location",
    },
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
        "location",
    },
    "block": {"start", "end", "reason"},
    "booking": {"id", "specialist", "service", "start", "end", "status", "client", "location"},
    "client": {"name", "phone", "telegram_id"},
}


class Clinic(Struct, frozen=True):
    """Everything a clinic file holds, as engine values."""

    business: Business
    services: tuple[Service, ...] = ()
    specialists: tuple[Specialist, ...] = ()
    bookings: tuple[Booking, ...] = ()
    payments: tuple[Payment, ...] = ()  # written by the export only: reading leaves it empty


class _Reader(Struct):
    """Collects problems while reading, so a file reports all of them at once."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, path: str, key: str, **params: Any) -> None:
        """Records a problem; values it repeats are cut short, so a message stays a line."""
        self.problems.append(Problem(key, {k: values.shown(v) for k, v in params.items()}, path))

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
        found = data.get(key)
        if found is None:
            if required:
                self.add(f"{path}.{key}" if path else key, "error.required")
            return default
        try:
            return parse(found)
        except BadInput as error:
            self.add(f"{path}.{key}" if path else key, error.key, **error.params)
            return default

    def mapping(self, data: Any, path: str, kind: str) -> dict | None:
        """Checks that `data` is a mapping with only the fields of its kind."""
        if not isinstance(data, dict):
            self.add(path or "(file)", "error.not_a_mapping")
            return None
        for key in data:
            if key not in FIELDS[kind]:
                self.add(
                    f"{path}.{values.shown(key)}" if path else values.shown(key),
                    "error.unknown_field",
                )
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
    head = parse_head(reader, data)
    bookings = _bookings(reader, data, head.business, list(head.services), list(head.specialists))
    if reader.problems:
        raise Invalid(reader.problems)
    return replace(head, bookings=tuple(bookings))


def parse_head(reader: _Reader, data: Any) -> Clinic:
    """Everything of the document but its bookings; problems go to `reader`.

    Raises Invalid when the document is not a mapping at all.
    """
    top = reader.mapping(data, "", "")
    if top is None:
        raise Invalid(reader.problems)
    timezone = reader.value(top, "timezone", "", values.timezone, required=True)
    rules = Rules(
        min_notice=reader.value(top, "min_notice", "", values.notice, timedelta(minutes=30)),
        horizon_days=reader.value(top, "horizon_days", "", values.horizon, 60),
    )
    calendars = reader.value(top, "holidays", "", values.calendars, ())
    currency = reader.value(top, "currency", "", values.currency)
    business = Business(
        timezone or "UTC",
        rules,
        calendars or (),
        currency=currency,
        phone=reader.value(top, "phone", "", values.business_phone),
        policy=_policy(reader, top),
        locations=tuple(_locations(reader, top)),
    )
    # A price needs the currency; when the file gives a bad one, that is the problem named.
    services = _services(reader, top, currency, top.get("currency") is not None)
    specialists = _specialists(reader, top, business, {s.id for s in services})
    return Clinic(business, tuple(services), tuple(specialists))


def _policy(reader: _Reader, top: dict) -> Policy:
    """The file's `policy`; every setting is optional, and the no-show rule comes whole."""
    if top.get("policy") is None or reader.mapping(top["policy"], "policy", "policy") is None:
        return Policy()
    data, before = top["policy"], len(reader.problems)
    policy = Policy(
        cancel_notice=reader.value(data, "cancel_notice", "policy", values.notice),
        confirm_by=reader.value(data, "confirm_by", "policy", values.notice),
        no_show_limit=reader.value(data, "no_show_limit", "policy", values.no_show_limit),
        no_show_window=reader.value(data, "no_show_window", "policy", values.hold),
        after_no_shows=reader.value(data, "after_no_shows", "policy", values.after_no_shows),
        waitlist_hold=reader.value(data, "waitlist_hold", "policy", values.hold, DEFAULT_HOLD),
        payment_hold=reader.value(
            data, "payment_hold", "policy", values.payment_hold, DEFAULT_HOLD
        ),
    )
    if len(reader.problems) == before:  # a refused setting is not also called missing
        reader.found(validate.no_shows(policy, "policy"))
    return policy


def _locations(reader: _Reader, top: dict) -> list[Location]:
    """The file's places: each with an address, and coordinates where "nearest" may use them."""
    locations, ids = [], []
    for path, item in reader.items(top, "locations", ""):
        if reader.mapping(item, path, "location") is None:
            continue
        lid = reader.value(item, "id", path, parsing.identifier, required=True)
        ids.append((path, lid))
        place = Location(
            id=lid or "",
            name=reader.value(item, "name", path, values.name, lid or ""),
            address=reader.value(item, "address", path, values.address, "", required=True),
            lat=reader.value(item, "lat", path, values.degrees),
            lon=reader.value(item, "lon", path, values.degrees),
            timezone=reader.value(item, "timezone", path, values.timezone),
            holidays=reader.value(item, "holidays", path, values.calendars),
            phone=reader.value(item, "phone", path, values.business_phone),
        )
        reader.found(validate.coordinates(place.lat, place.lon, path))
        locations.append(place)
    reader.found(validate.unique_ids(ids))
    return locations


def _services(
    reader: _Reader, top: dict, currency: str | None, currency_given: bool
) -> list[Service]:
    services, ids = [], []
    for path, item in reader.items(top, "services", ""):
        if reader.mapping(item, path, "service") is None:
            continue
        sid = reader.value(item, "id", path, parsing.identifier, required=True)
        ids.append((path, sid))
        price = deposit = None
        if currency is not None:
            price = reader.value(item, "price", path, lambda v: values.price(v, currency))
            deposit = reader.value(item, "deposit", path, lambda v: values.price(v, currency))
        elif item.get("price") is not None and not currency_given:
            reader.add(f"{path}.price", "file.price_without_currency")
        services.append(
            Service(
                id=sid or "",
                name=reader.value(item, "name", path, values.name, sid or ""),
                duration=reader.value(item, "duration", path, values.service_duration),
                price=price,
                cancel_notice=reader.value(item, "cancel_notice", path, values.notice),
                prepay=reader.value(item, "prepay", path, values.prepay, Prepay.NONE),
                deposit=deposit,
                online=reader.value(item, "online", path, values.switch, False),
            )
        )
    reader.found(validate.unique_ids(ids))
    if not currency_given or currency is not None:  # a bad currency is the problem named
        reader.found(payments.problems(services, currency, provider=None))
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
        own_zone = reader.value(item, "timezone", path, values.timezone)
        home = reader.value(item, "location", path, parsing.identifier)
        tz = zone(Specialist(sid or "", "", timezone=own_zone, location=home).zone(business))
        offered = reader.value(item, "services", path, values.id_list, ())
        reader.found(validate.offered(offered, service_ids, path))
        telegram_id = reader.value(item, "telegram_id", path, values.telegram_id)
        linked.append((path, telegram_id))
        specialists.append(
            Specialist(
                id=sid or "",
                name=reader.value(item, "name", path, values.name, sid or ""),
                services=tuple(offered),
                weekly=tuple(_weekly(reader, item, path)),
                overrides=tuple(_overrides(reader, item, path)),
                blocks=tuple(_blocks(reader, item, path, tz)),
                timezone=own_zone,
                holidays=reader.value(item, "holidays", path, values.calendars),
                telegram_id=telegram_id,
                location=home,
            )
        )
        reader.found(validate.places(specialists[-1], business, path))
    reader.found(validate.unique_ids(ids))
    reader.found(validate.linked_once(linked))
    return specialists


def _weekly(reader: _Reader, item: dict, path: str) -> list[WeeklyEntry]:
    entries = []
    for where, line in reader.items(item, "weekly", path):
        if reader.mapping(line, where, "weekly") is None:
            continue
        days = reader.value(line, "days", where, values.weekdays, required=True)
        hours = _hours(reader, line, where)
        first = reader.value(line, "valid_from", where, values.day)
        last = reader.value(line, "valid_until", where, values.day)
        reader.found(validate.not_before(first, last, where, "valid_from", "valid_until"))
        if days and hours:
            entries.append(WeeklyEntry(days, hours, first, last))
    return entries


def _hours(reader: _Reader, line: dict, where: str, times_only: bool = False) -> Hours | None:
    """Reads a window (`start`/`end`) or single `times`, with `slot` and `break_after`."""
    slot = reader.value(line, "slot", where, values.slot, timedelta(minutes=60))
    pause = reader.value(line, "break_after", where, values.pause, timedelta(0))
    place = reader.value(line, "location", where, parsing.identifier)
    has_window = "start" in line or "end" in line
    if times_only or ("times" in line and not has_window):
        times = reader.value(line, "times", where, values.times, required=True)
        return Hours(slot=slot, times=tuple(times), location=place) if times else None
    if "times" in line:
        reader.add(f"{where}.times", "error.window_and_times")
        return None
    start = reader.value(line, "start", where, values.clock, required=True)
    end = reader.value(line, "end", where, values.clock, required=True)
    if start is None or end is None:
        return None
    hours = Hours(slot=slot, start=start, end=end, break_after=pause, location=place)
    return None if reader.found(validate.hours(hours, where)) else hours


def _overrides(reader: _Reader, item: dict, path: str) -> list[Override]:
    overrides = []
    for where, line in reader.items(item, "overrides", path):
        if reader.mapping(line, where, "override") is None:
            continue
        kind = reader.value(line, "type", where, values.override_type, required=True)
        reason = reader.value(line, "reason", where, values.reason)
        if kind is None:
            continue
        if kind == OverrideType.VACATION:
            first = reader.value(line, "from", where, values.day, required=True)
            last = reader.value(line, "to", where, values.day, required=True)
            if reader.found(validate.not_before(first, last, where, "from", "to")):
                continue
        else:
            first = last = reader.value(line, "date", where, values.day, required=True)
        hours = None
        if kind not in (OverrideType.CUSTOM_HOURS, OverrideType.EXTRA_SLOTS) and "location" in line:
            reader.add(f"{where}.location", "error.unknown_field")
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
        start = reader.value(line, "start", where, values.moment, required=True)
        end = reader.value(line, "end", where, values.moment, required=True)
        reason = reader.value(line, "reason", where, values.reason)
        if start is None or end is None:
            continue
        start_at, end_at = absolute(start, tz), absolute(end, tz)
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
    """The file's bookings (see bookings.Lines); `placed` keeps each one's path for messages."""
    lines = Lines(reader, business, services, specialists)
    placed: list[tuple[str, Booking]] = []
    ids = []
    for where, line in reader.items(top, "bookings", ""):
        if reader.mapping(line, where, "booking") is None:
            continue
        booking_id, booking = lines.read(where, line)
        ids.append((where, booking_id))
        if booking is not None:
            placed.append((where, booking))
    reader.found(validate.unique_ids(ids))
    twice = validate.named_twice(placed)
    reader.found(twice)
    refused = {problem.path for problem in twice}
    reader.found(validate.overlaps([(w, b) for w, b in placed if w not in refused]))
    return [booking for _, booking in placed]
