"""Builders for the engine tests: hours, overrides, schedules, wall-clock instants, renderings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bookbot.engine.model import (
    WEEKDAYS,
    Hole,
    Hours,
    Interval,
    Override,
    OverrideType,
    Rules,
    Schedule,
    Slot,
    WeeklyEntry,
)
from bookbot.engine.search import day_slots
from bookbot.engine.workday import Plan

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
TOKYO = "Asia/Tokyo"

# A clock long before every date the tests ask about, and rules that limit nothing.
EARLY = datetime(2026, 1, 1, tzinfo=UTC)
OPEN = Rules(min_notice=timedelta(0), horizon_days=3650)


def minutes(count: int) -> timedelta:
    """A duration of that many minutes."""
    return timedelta(minutes=count)


def day(text: str) -> date:
    """A date written YYYY-MM-DD."""
    return date.fromisoformat(text)


def window(start: str, end: str, slot: int = 60, brk: int = 0) -> Hours:
    """A window [start, end) cut into `slot`-minute slots with `brk` minutes after each."""
    return Hours(
        slot=minutes(slot),
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
        break_after=minutes(brk),
    )


def times(*starts: str, slot: int = 60) -> Hours:
    """Single slots of `slot` minutes at the given wall times."""
    return Hours(slot=minutes(slot), times=tuple(time.fromisoformat(t) for t in starts))


def weekly(
    days: str, hours: Hours, valid_from: str | None = None, valid_until: str | None = None
) -> WeeklyEntry:
    """A weekly line on space-separated day names ("mon tue"), optionally bounded."""
    return WeeklyEntry(
        days=frozenset(WEEKDAYS.index(name) for name in days.split()),
        hours=hours,
        valid_from=day(valid_from) if valid_from else None,
        valid_until=day(valid_until) if valid_until else None,
    )


def day_off(on: str) -> Override:
    """A day off on one date."""
    return Override(OverrideType.DAY_OFF, day(on), day(on))


def vacation(first: str, last: str) -> Override:
    """A vacation over first..last inclusive."""
    return Override(OverrideType.VACATION, day(first), day(last))


def custom(on: str, hours: Hours) -> Override:
    """Custom hours on one date."""
    return Override(OverrideType.CUSTOM_HOURS, day(on), day(on), hours)


def extra(on: str, hours: Hours) -> Override:
    """Extra slots on one date."""
    return Override(OverrideType.EXTRA_SLOTS, day(on), day(on), hours)


def at(on: str, wall: str, zone: str = BERLIN, fold: int = 0) -> datetime:
    """A wall time on a local date as an aware instant; fold=1 picks a repeated hour's second."""
    return datetime.combine(day(on), time.fromisoformat(wall), ZoneInfo(zone)).replace(fold=fold)


def busy(on: str, start: str, end: str, zone: str = BERLIN) -> Interval:
    """Busy time between two wall times of one local date."""
    return Interval(at(on, start, zone), at(on, end, zone))


def schedule(
    *,
    weekly: Iterable[WeeklyEntry] = (),
    overrides: Iterable[Override] = (),
    busy: Iterable[Interval] = (),
    holidays: Iterable[str] = (),
    zone: str = BERLIN,
    specialist: str = "ann",
) -> Schedule:
    """A specialist's schedule from its parts."""
    return Schedule(
        specialist=specialist,
        timezone=zone,
        weekly=tuple(weekly),
        overrides=tuple(overrides),
        holidays=tuple(holidays),
        busy=tuple(busy),
    )


def starts(found: Iterable[Slot | Hole]) -> list[str]:
    """Local start times, "HH:MM"."""
    return [item.start.strftime("%H:%M") for item in found]


def spans(found: Iterable[Slot | Hole]) -> list[str]:
    """Local spans, "HH:MM-HH:MM"."""
    return [f"{item.start:%H:%M}-{item.end:%H:%M}" for item in found]


def stamps(found: Iterable[Slot | Hole]) -> list[str]:
    """Who and when, as "id start/end" with ISO times and UTC offsets."""
    return [f"{item.specialist} {item.start.isoformat()}/{item.end.isoformat()}" for item in found]


def offered(
    of: Schedule,
    on: str,
    now: datetime = EARLY,
    rules: Rules = OPEN,
    duration: int | None = None,
) -> list[str]:
    """Local starts a schedule offers on one date."""
    return starts(day_slots(Plan(of), day(on), now, rules, _length(duration)))


def offered_spans(
    of: Schedule,
    on: str,
    now: datetime = EARLY,
    rules: Rules = OPEN,
    duration: int | None = None,
) -> list[str]:
    """Local spans a schedule offers on one date."""
    return spans(day_slots(Plan(of), day(on), now, rules, _length(duration)))


def by_day(found: Sequence[Slot | Hole]) -> dict[str, list[str]]:
    """Local starts grouped by local date."""
    grouped: dict[str, list[str]] = {}
    for item in found:
        grouped.setdefault(item.start.date().isoformat(), []).append(f"{item.start:%H:%M}")
    return grouped


def _length(duration: int | None) -> timedelta | None:
    """A service duration in minutes, or None for "the slot itself"."""
    return None if duration is None else minutes(duration)
