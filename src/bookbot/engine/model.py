"""Frozen values the engine works on: schedules, busy intervals, slots and holes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from typing import NamedTuple

from msgspec import Struct, field
from msgspec.structs import replace

from bookbot.engine.policy import Policy, Prepay

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_SLOT = timedelta(minutes=60)


class OverrideType(StrEnum):
    """What an override does to the dates it covers."""

    DAY_OFF = "day_off"
    VACATION = "vacation"
    CUSTOM_HOURS = "custom_hours"
    EXTRA_SLOTS = "extra_slots"


class BookingStatus(StrEnum):
    """Where a booking stands; held and confirmed ones occupy time."""

    HELD = "held"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


LIVE_STATUSES = (BookingStatus.HELD, BookingStatus.CONFIRMED)


class Mark(StrEnum):
    """What staff recorded of a confirmed visit from its start on; none counts as arrived."""

    ARRIVED = "arrived"
    NO_SHOW = "no_show"


class Hours(Struct, frozen=True):
    """Working time on one day: a window [start, end) cut into slots, or single slot times."""

    slot: timedelta = DEFAULT_SLOT
    start: time | None = None
    end: time | None = None
    times: tuple[time, ...] = ()
    break_after: timedelta = timedelta(0)
    location: str | None = None  # where this time is worked; None: the specialist's place


class WeeklyEntry(Struct, frozen=True):
    """A repeating line of the weekly template, valid between two optional dates."""

    days: frozenset[int]  # 0 = Monday
    hours: Hours
    valid_from: date | None = None
    valid_until: date | None = None

    def applies(self, day: date) -> bool:
        """Tells whether this line gives hours on `day`."""
        return (
            day.weekday() in self.days
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_until is None or day <= self.valid_until)
        )


class Override(Struct, frozen=True):
    """A dated exception to the weekly template over `first`..`last` inclusive."""

    type: OverrideType
    first: date
    last: date
    hours: Hours | None = None
    reason: str | None = None

    def covers(self, day: date) -> bool:
        """Tells whether `day` falls in this override."""
        return self.first <= day <= self.last


class Interval(NamedTuple):
    """A half-open absolute interval [start, end) of aware datetimes."""

    start: datetime
    end: datetime


class Schedule(Struct, frozen=True):
    """Everything that decides a specialist's working time, before bookings and blocks."""

    specialist: str
    timezone: str
    weekly: tuple[WeeklyEntry, ...] = ()
    overrides: tuple[Override, ...] = ()
    holidays: tuple[str, ...] = ()  # calendars like "DE-BY"
    busy: tuple[Interval, ...] = ()  # blocks and live bookings, absolute
    places: tuple[tuple[str, tuple[str, ...]], ...] = ()  # each location's calendars here


class Rules(Struct, frozen=True):
    """Business-wide limits on what may be offered."""

    min_notice: timedelta = timedelta(minutes=30)
    horizon_days: int = 60


class Slot(Struct, frozen=True):
    """A bookable start at a specialist, occupying [start, end); times are local-aware.

    `location` is the place of the window the slot comes from (None without locations).
    """

    specialist: str
    start: datetime
    end: datetime
    location: str | None = None


class Hole(Struct, frozen=True):
    """A maximal free stretch of working time of one specialist, at one place."""

    specialist: str
    start: datetime
    end: datetime
    location: str | None = None


class DayResult(Struct, frozen=True):
    """A specialist's soonest date with a free slot, and that date's slots."""

    specialist: str
    day: date | None
    slots: tuple[Slot, ...] = field(default=())


class Location(Struct, frozen=True):
    """A place of a chain where specialists work; coordinates enable "nearest".

    A zone or holidays of None inherit the business's; holidays () is no calendar.
    """

    id: str
    name: str
    address: str
    lat: float | None = None
    lon: float | None = None
    timezone: str | None = None
    holidays: tuple[str, ...] | None = None
    phone: str | None = None


class Business(Struct, frozen=True, dict=True):
    """The business-wide defaults of a clinic file.

    `currency` prices every service (ISO 4217, or XTR for Telegram Stars); `phone` is the
    number clients are asked to call when the chat may not change a visit.
    """

    timezone: str
    rules: Rules = Rules()
    holidays: tuple[str, ...] = ()
    currency: str | None = None
    phone: str | None = None
    policy: Policy = Policy()
    locations: tuple[Location, ...] = ()

    @cached_property
    def places(self) -> dict[str, Location]:
        """The locations by id."""
        return {place.id: place for place in self.locations}

    def location(self, location_id: str | None) -> Location | None:
        """The location of that id, if the business has it."""
        return None if location_id is None else self.places.get(location_id)


class Service(Struct, frozen=True):
    """Something a client books; without a duration it takes exactly its slot.

    `price` is in minor units of the business's currency; `cancel_notice`, when set,
    replaces the policy's for this service. `prepay` says what is paid on confirming
    (`deposit`, in minor units, or the price); `online` marks a service given online,
    the only kind Telegram Stars may pay for.
    """

    id: str
    name: str
    duration: timedelta | None = None
    price: int | None = None
    cancel_notice: timedelta | None = None
    prepay: Prepay = Prepay.NONE
    deposit: int | None = None
    online: bool = False


class Block(Struct, frozen=True):
    """Time nothing may overlap (lunch, a meeting), absolute."""

    start: datetime
    end: datetime
    reason: str | None = None


class Client(Struct, frozen=True):
    """Who a booking is for."""

    name: str | None = None
    phone: str | None = None
    telegram_id: int | None = None


class Booking(Struct, frozen=True):
    """An appointment of a client with a specialist, absolute.

    A held booking carries when its hold runs out (`hold_until`); no other does. A hold
    with `due` (minor units of the business's currency) is awaiting that payment. A confirmed
    one may carry when its client said they will come (`attending_at`), and staff's `mark`
    with when it was set (`marked_at`). `location` is the place of the window it was
    booked in (None without locations, or when it came from a clinic file).
    """

    specialist: str
    service: str
    start: datetime
    end: datetime
    status: BookingStatus = BookingStatus.CONFIRMED
    client: Client | None = None
    id: int | None = None
    hold_until: datetime | None = None
    due: int | None = None
    attending_at: datetime | None = None
    mark: Mark | None = None
    marked_at: datetime | None = None
    location: str | None = None

    @property
    def live(self) -> bool:
        """Tells whether the booking occupies its time."""
        return self.status in LIVE_STATUSES


class Specialist(Struct, frozen=True):
    """A specialist as the clinic file states them; zone and holidays None inherit."""

    id: str
    name: str
    services: tuple[str, ...] = ()
    weekly: tuple[WeeklyEntry, ...] = ()
    overrides: tuple[Override, ...] = ()
    blocks: tuple[Block, ...] = ()
    timezone: str | None = None
    holidays: tuple[str, ...] | None = None
    telegram_id: int | None = None
    location: str | None = None  # where entries that name no place are worked

    def zone(self, business: Business) -> str:
        """The specialist's time zone, else their location's, else the business's."""
        if self.timezone:
            return self.timezone
        home = business.location(self.location)
        return (home and home.timezone) or business.timezone

    def placed(self) -> tuple[tuple[WeeklyEntry, ...], tuple[Override, ...]]:
        """The weekly entries and overrides with every time at its place resolved."""
        home = self.location
        if home is None:
            return self.weekly, self.overrides

        def at_home(hours: Hours) -> Hours:
            return hours if hours.location is not None else replace(hours, location=home)

        return (
            tuple(replace(entry, hours=at_home(entry.hours)) for entry in self.weekly),
            tuple(
                replace(o, hours=at_home(o.hours)) if o.hours is not None else o
                for o in self.overrides
            ),
        )

    def schedule(self, business: Business, bookings: Iterable[Booking] = ()) -> Schedule:
        """The engine's view: template, overrides, calendars, and busy blocks and bookings."""
        busy = [Interval(block.start, block.end) for block in self.blocks]
        busy += [Interval(b.start, b.end) for b in bookings if b.live and b.specialist == self.id]
        weekly, overrides = self.placed()
        used = {entry.hours.location for entry in weekly} | {
            o.hours.location for o in overrides if o.hours is not None
        }
        # Holidays at a place: the specialist's own, else the location's, else the file's.
        places = tuple(
            (
                place.id,
                self.holidays
                if self.holidays is not None
                else business.holidays
                if place.holidays is None
                else place.holidays,
            )
            for place in map(business.location, sorted(p for p in used if p is not None))
            if place is not None
        )
        return Schedule(
            specialist=self.id,
            timezone=self.zone(business),
            weekly=weekly,
            overrides=overrides,
            holidays=business.holidays if self.holidays is None else self.holidays,
            busy=tuple(busy),
            places=places,
        )
