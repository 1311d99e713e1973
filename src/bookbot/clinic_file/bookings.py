"""A clinic file's booking lines, read one at a time against the file's catalog.

`Lines` reads one line; `reading.py` checks a whole list of them (every problem named),
`streamed.py` a stream of them, keeping per booking three integers (`Compact`) to tell
whether the lines together have any problem.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from bookbot import parsing
from bookbot.clinic_file import values
from bookbot.engine import validate
from bookbot.engine.model import Booking, BookingStatus, Business, Client, Service, Specialist
from bookbot.engine.search import slot_length_at
from bookbot.engine.workday import Plan, zone
from bookbot.errors import BadInput, Problem

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
REMEMBERED = 100_000  # parsed texts kept, at most
_NONE: Any = object()
T = TypeVar("T")
MICROSECOND = timedelta(microseconds=1)
PLAIN = frozenset({"specialist", "service", "start", "end", "status"})  # `Lines.quick` reads
PLAIN_CONFIRMED = PLAIN - {"status"}
FILED = {str(status): status for status in (BookingStatus.CONFIRMED, BookingStatus.CANCELLED)}


class _Reader(Protocol):
    """What reading.py's reader does for a line: parse fields, record problems."""

    def value(
        self,
        data: dict,
        key: str,
        path: str,
        parse: Callable[[Any], Any],
        default: Any = None,
        required: bool = False,
    ) -> Any: ...

    def add(self, path: str, key: str, **params: Any) -> None: ...

    def found(self, problems: list[Problem]) -> bool: ...

    def mapping(self, data: Any, path: str, kind: str) -> dict | None: ...


class Lines:
    """Reads booking lines, recording their problems in the reader.

    A booking's service need not be one its specialist offers now: a booking already made
    stays when the specialist stops offering it. The import refuses a new one (see
    Imports.import_bookings), as only it knows which are new. A chain's booking keeps the
    `location` it names (the export writes it: the place it was booked at, even after the
    schedule moved); without one it gets the place of the window its start falls in (none
    outside every window).
    """

    def __init__(
        self,
        reader: _Reader,
        business: Business,
        services: list[Service],
        specialists: list[Specialist],
    ) -> None:
        self.reader = reader
        self.business = business
        self.by_service = {s.id: s for s in services}
        self.by_specialist = {s.id: s for s in specialists}
        self.places = {p.id for p in business.locations}
        self.zones = {s.id: zone(s.zone(business)) for s in specialists}
        self.plans: dict[str, Plan] = {}  # of a chain's specialists, for the place of a booking
        # A big file repeats its ids, statuses and times: each text is parsed once.
        self.identifier = _cached(parsing.identifier)
        self.status = _cached(values.status)
        self.moment = _cached(values.moment)
        self.instants: dict[tuple[datetime, ZoneInfo], datetime] = {}
        self.texts: dict[tuple[str, ZoneInfo], datetime] = {}  # the usual line's times

    def quick(self, line: dict) -> Booking | None:
        """The booking of a line as `read` gives it, read the short way; None: use `read`.

        Only for the usual line, without a problem: specialist, service, start, end and
        perhaps status, all text, and no locations in the business.
        """
        if self.places or (line.keys() != PLAIN and line.keys() != PLAIN_CONFIRMED):
            return None
        specialist, service, start, end = (
            line["specialist"],
            line["service"],
            line["start"],
            line["end"],
        )
        status = line.get("status", BookingStatus.CONFIRMED.value)
        if not (
            specialist.__class__ is str
            and service.__class__ is str
            and start.__class__ is str
            and end.__class__ is str
            and status.__class__ is str
        ):
            return None
        # The specialists' and services' ids are valid ids: one found is read as it is.
        found = self.by_specialist.get(specialist)
        offered = self.by_service.get(service)
        state = FILED.get(status)
        if found is None or offered is None or state is None:
            return None
        tz = self.zones[found.id]
        start_at, end_at = self._instant(start, tz), self._instant(end, tz)
        if start_at is None or end_at is None or not end_at > start_at:
            return None
        return Booking(found.id, offered.id, start_at, end_at, state)

    def read(self, where: str, line: dict) -> tuple[int | None, Booking | None]:
        """One line (a mapping of booking fields): its id, and the booking unless refused."""
        reader = self.reader
        booking_id = reader.value(line, "id", where, values.booking_id)
        specialist = self.by_specialist.get(
            reader.value(line, "specialist", where, self.identifier, required=True)
        )
        if "specialist" in line and specialist is None and isinstance(line["specialist"], str):
            reader.add(f"{where}.specialist", "error.unknown_specialist", id=line["specialist"])
        service = self.by_service.get(
            reader.value(line, "service", where, self.identifier, required=True)
        )
        if "service" in line and service is None and isinstance(line["service"], str):
            reader.add(f"{where}.service", "error.unknown_service", id=line["service"])
        status = reader.value(line, "status", where, self.status, BookingStatus.CONFIRMED)
        client = _client(reader, line["client"], f"{where}.client") if "client" in line else None
        start = reader.value(line, "start", where, self.moment, required=True)
        end = reader.value(line, "end", where, self.moment)
        if not (specialist and service and start):
            return booking_id, None
        tz = self.zones[specialist.id]
        start_at = self._absolute(start, tz)
        end_at = (
            self._absolute(end, tz)
            if end
            else booking_end(specialist, service, self.business, start_at)
        )
        if reader.found(validate.ends_after(start_at, end_at, where)):
            return booking_id, None
        location = reader.value(line, "location", where, parsing.identifier)
        if location is not None and location not in self.places:
            reader.add(f"{where}.location", "error.unknown_location", id=location)
            return booking_id, None
        if location is None and self.places:
            plan = self.plans.get(specialist.id) or self.plans.setdefault(
                specialist.id, Plan(specialist.schedule(self.business))
            )
            location = plan.place(plan.local(start_at).date(), start_at)
        booking = Booking(
            specialist.id,
            service.id,
            start_at,
            end_at,
            status,
            client,
            booking_id,
            location=location,
        )
        return booking_id, booking

    def _instant(self, text: str, tz: ZoneInfo) -> datetime | None:
        """A wall time's text on the clock of `tz` as an instant, remembered; None where
        `moment` refuses the text (`read` then names the problem)."""
        found = self.texts.get((text, tz))
        if found is None:
            try:
                found = self._absolute(self.moment(text), tz)
            except BadInput:
                return None
            if len(self.texts) > REMEMBERED:
                self.texts.clear()
            self.texts[text, tz] = found
        return found

    def _absolute(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """absolute(), remembered."""
        found = self.instants.get((moment, tz))
        if found is None:
            if len(self.instants) > REMEMBERED:
                self.instants.clear()
            found = self.instants[moment, tz] = absolute(moment, tz)
        return found


def _cached(parse: Callable[[Any], T]) -> Callable[[Any], T]:
    """A parse of text that remembers what each text it read gave (not what it refused)."""
    seen: dict[str, T] = {}

    def parsed(value: Any) -> T:
        if value.__class__ is not str:
            return parse(value)
        found = seen.get(value, _NONE)
        if found is _NONE:
            if len(seen) > REMEMBERED:
                seen.clear()
            found = seen[value] = parse(value)
        return found  # type: ignore[return-value]

    return parsed


class Compact:
    """Whether booking lines, added one by one, have a problem only lines together can have.

    Exactly when validate's unique_ids, named_twice or overlaps would find one, in three
    integers a booking: ids seen; per specialist, the start with the status and whether
    the line has an id; the start and end of each live booking.
    """

    STATUSES = {status: i for i, status in enumerate(BookingStatus)}

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.twice = False  # an id given twice
        self.keys: dict[str, array] = defaultdict(lambda: array("q"))
        self.starts: dict[str, array] = defaultdict(lambda: array("q"))
        self.ends: dict[str, array] = defaultdict(lambda: array("q"))

    def add_id(self, booking_id: int | None) -> None:
        if booking_id is not None:
            self.twice = self.twice or booking_id in self.ids
            self.ids.add(booking_id)

    def add(self, booking: Booking) -> None:
        start = (booking.start - EPOCH) // MICROSECOND
        key = (start * 8 + self.STATUSES[booking.status]) * 2 + (booking.id is None)
        self.keys[booking.specialist].append(key)
        if booking.live:
            self.starts[booking.specialist].append(start)
            self.ends[booking.specialist].append((booking.end - EPOCH) // MICROSECOND)

    def clean(self) -> bool:
        """Tells whether no two lines clash: ids, one booking named twice, overlaps."""
        if self.twice:
            return False
        for keys in self.keys.values():
            ordered = sorted(keys)
            for a, b in zip(ordered, ordered[1:], strict=False):
                if a >> 1 == b >> 1 and (a & 1 or b & 1):  # one booking, a line without id
                    return False
        for specialist, starts in self.starts.items():
            live = sorted(zip(starts, self.ends[specialist], strict=True))
            for (_, end), (start, _) in zip(live, live[1:], strict=False):
                if start < end:
                    return False
        return True


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
        name=reader.value(data, "name", path, values.client_name),
        phone=reader.value(data, "phone", path, values.phone),
        telegram_id=reader.value(data, "telegram_id", path, values.telegram_id),
    )
    return client if client != Client() else None


def absolute(moment: datetime, tz: ZoneInfo) -> datetime:
    """A wall time (first occurrence when ambiguous), or a time with an offset, in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)
