"""Frozen values the engine works on: schedules, busy intervals, slots and holes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple

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


@dataclass(frozen=True)
class Hours:
    """Working time on one day: a window [start, end) cut into slots, or single slot times."""

    slot: timedelta = DEFAULT_SLOT
    start: time | None = None
    end: time | None = None
    times: tuple[time, ...] = ()
    break_after: timedelta = timedelta(0)


@dataclass(frozen=True)
class WeeklyEntry:
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


@dataclass(frozen=True)
class Override:
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


@dataclass(frozen=True)
class Schedule:
    """Everything that decides a specialist's working time, before bookings and blocks."""

    specialist: str
    timezone: str
    weekly: tuple[WeeklyEntry, ...] = ()
    overrides: tuple[Override, ...] = ()
    holidays: tuple[str, ...] = ()  # calendars like "DE-BY"
    busy: tuple[Interval, ...] = ()  # blocks and live bookings, absolute


@dataclass(frozen=True)
class Rules:
    """Business-wide limits on what may be offered."""

    min_notice: timedelta = timedelta(minutes=30)
    horizon_days: int = 60


@dataclass(frozen=True)
class Slot:
    """A bookable start at a specialist, occupying [start, end); times are local-aware."""

    specialist: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Hole:
    """A maximal free stretch of working time of one specialist."""

    specialist: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class DayResult:
    """A specialist's soonest date with a free slot, and that date's slots."""

    specialist: str
    day: date | None
    slots: tuple[Slot, ...] = field(default=())


@dataclass(frozen=True)
class Business:
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


@dataclass(frozen=True)
class Service:
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


@dataclass(frozen=True)
class Block:
    """Time nothing may overlap (lunch, a meeting), absolute."""

    start: datetime
    end: datetime
    reason: str | None = None


@dataclass(frozen=True)
class Client:
    """Who a booking is for."""

    name: str | None = None
    phone: str | None = None
    telegram_id: int | None = None


@dataclass(frozen=True)
class Booking:
    """An appointment of a client with a specialist, absolute.

    A held booking carries when its hold runs out (`hold_until`); no other does. A hold
    with `due` (minor units of the business's currency) is awaiting that payment. A confirmed
    one may carry when its client said they will come (`attending_at`), and staff's `mark`
    with when it was set (`marked_at`).
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

    @property
    def live(self) -> bool:
        """Tells whether the booking occupies its time."""
        return self.status in LIVE_STATUSES


@dataclass(frozen=True)
class Specialist:
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

    def zone(self, business: Business) -> str:
        """The specialist's time zone, or the business's."""
        return self.timezone or business.timezone

    def schedule(self, business: Business, bookings: Iterable[Booking] = ()) -> Schedule:
        """The engine's view: template, overrides, calendars, and busy blocks and bookings."""
        busy = [Interval(block.start, block.end) for block in self.blocks]
        busy += [Interval(b.start, b.end) for b in bookings if b.live and b.specialist == self.id]
        return Schedule(
            specialist=self.id,
            timezone=self.zone(business),
            weekly=self.weekly,
            overrides=self.overrides,
            holidays=business.holidays if self.holidays is None else self.holidays,
            busy=tuple(busy),
        )
