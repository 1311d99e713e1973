"""The catalog's rows to engine values and back: business, services, hours, overrides.

Durations are stored as whole minutes, except a service's cut-off, stored in seconds. The
business's policy is one JSON text (`businesses.policy`): each setting by its name, a
duration in seconds, a setting that is off as null; NULL for a policy left at its defaults.
"""

from __future__ import annotations

import json
from datetime import time, timedelta
from typing import TYPE_CHECKING, Any

from bookbot.engine.model import (
    WEEKDAYS,
    Block,
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
from bookbot.engine.policy import AfterNoShows, Policy, Prepay

# Only named: store/reader.py hands in rows of sqlite3 alone with the same attributes.
if TYPE_CHECKING:
    from bookbot.store.tables import (
        BlockRow,
        BusinessRow,
        HoursColumns,
        LocationRow,
        OverrideRow,
        ServiceRow,
        SpecialistRow,
        WeeklyRow,
    )

NO_CALENDAR = "none"
SPANS = ("cancel_notice", "confirm_by", "no_show_window", "waitlist_hold", "payment_hold")


def minutes(value: timedelta) -> int:
    return int(value.total_seconds() // 60)


def seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def calendar_codes(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    if text in ("", NO_CALENDAR):
        return ()
    return tuple(text.split(","))


def calendar_text(codes: tuple[str, ...] | None) -> str | None:
    """Calendars as a column holds them: NULL inherits, `none` is no calendar."""
    return None if codes is None else (",".join(codes) or NO_CALENDAR)


def business_of(row: BusinessRow, locations: tuple[Location, ...] = ()) -> Business:
    return Business(
        timezone=row.timezone,
        rules=Rules(timedelta(minutes=row.min_notice_minutes), row.horizon_days),
        holidays=calendar_codes(row.holidays) or (),
        currency=row.currency,
        phone=row.phone,
        policy=policy_of(row.policy),
        locations=locations,
    )


def location_of(row: LocationRow) -> Location:
    return Location(
        id=row.id,
        name=row.name,
        address=row.address,
        lat=row.lat,
        lon=row.lon,
        timezone=row.timezone,
        holidays=calendar_codes(row.holidays),
        phone=row.phone,
    )


def location_values(place: Location, business_id: int, position: int) -> dict:
    return {
        "id": place.id,
        "business_id": business_id,
        "name": place.name,
        "address": place.address,
        "lat": place.lat,
        "lon": place.lon,
        "timezone": place.timezone,
        "holidays": calendar_text(place.holidays),
        "phone": place.phone,
        "position": position,
    }


def policy_text(policy: Policy) -> str | None:
    """The policy as the column holds it; None when every setting is at its default."""
    if policy == Policy():
        return None
    settings: dict[str, Any] = {name: seconds(getattr(policy, name)) for name in SPANS}
    settings["no_show_limit"] = policy.no_show_limit
    settings["after_no_shows"] = policy.after_no_shows and str(policy.after_no_shows)
    return json.dumps(settings, sort_keys=True)


def policy_of(text: str | None) -> Policy:
    """The policy a column holds; a setting it does not name keeps its default."""
    if text is None:
        return Policy()
    settings = json.loads(text)
    found: dict[str, Any] = {
        name: None if settings[name] is None else timedelta(seconds=settings[name])
        for name in SPANS
        if name in settings
    }
    if settings.get("no_show_limit") is not None:
        found["no_show_limit"] = settings["no_show_limit"]
    if settings.get("after_no_shows") is not None:
        found["after_no_shows"] = AfterNoShows(settings["after_no_shows"])
    return Policy(**found)


def service_of(row: ServiceRow) -> Service:
    duration = timedelta(minutes=row.duration_minutes) if row.duration_minutes else None
    notice = row.cancel_notice_seconds
    return Service(
        row.id,
        row.name,
        duration,
        price=row.price,
        cancel_notice=None if notice is None else timedelta(seconds=notice),
        prepay=Prepay(row.prepay or Prepay.NONE),
        deposit=row.deposit,
        online=bool(row.online),
    )


def hours_of(row: HoursColumns) -> Hours:
    return Hours(
        slot=timedelta(minutes=row.slot_minutes),
        start=row.start,
        end=row.end,
        times=tuple(time.fromisoformat(t) for t in row.times.split(",") if t),
        break_after=timedelta(minutes=row.break_minutes),
        location=row.location,
    )


def hours_values(hours: Hours | None) -> dict:
    if hours is None:
        return {
            "start": None,
            "end": None,
            "times": "",
            "slot_minutes": 60,
            "break_minutes": 0,
            "location": None,
        }
    return {
        "start": hours.start,
        "end": hours.end,
        "times": ",".join(t.strftime("%H:%M") for t in hours.times),
        "slot_minutes": minutes(hours.slot),
        "break_minutes": minutes(hours.break_after),
        "location": hours.location,
    }


def weekly_of(row: WeeklyRow) -> WeeklyEntry:
    days = frozenset(WEEKDAYS.index(day) for day in row.days.split(","))
    return WeeklyEntry(days, hours_of(row), row.valid_from, row.valid_until)


def block_of(row: BlockRow) -> Block:
    return Block(row.start_at, row.end_at, row.reason)


def specialist_of(
    row: SpecialistRow,
    offers: dict[str, list[str]],
    weekly: dict[str, list[WeeklyEntry]],
    overrides: dict[str, list[Override]],
    blocks: dict[str, list[Block]],
) -> Specialist:
    """A specialist from its row and its lines of each kind, gathered by specialist id."""
    return Specialist(
        id=row.id,
        name=row.name,
        services=tuple(offers.get(row.id, ())),
        weekly=tuple(weekly.get(row.id, ())),
        overrides=tuple(overrides.get(row.id, ())),
        blocks=tuple(blocks.get(row.id, ())),
        timezone=row.timezone,
        holidays=calendar_codes(row.holidays),
        telegram_id=row.telegram_id,
        location=row.location,
    )


def override_of(row: OverrideRow) -> Override:
    kind = OverrideType(row.type)
    worked = kind in (OverrideType.CUSTOM_HOURS, OverrideType.EXTRA_SLOTS)
    return Override(kind, row.first, row.last, hours_of(row) if worked else None, row.reason)
