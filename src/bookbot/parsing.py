"""Reading the small text forms users type: durations, times, dates, instants."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bookbot.errors import BadInput

DURATION = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?$")
TIME = re.compile(r"^(?P<h>\d{1,2}):(?P<m>\d{2})$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")


def duration(text: str) -> timedelta:
    """Reads `30m`, `1h`, `1h30m`, `90m`."""
    match = DURATION.match(str(text).strip())
    if not text or not match or not (match["h"] or match["m"]):
        raise BadInput("error.not_a_duration", value=text)
    return timedelta(hours=int(match["h"] or 0), minutes=int(match["m"] or 0))


def format_duration(value: timedelta) -> str:
    """Writes a duration the way `duration` reads it."""
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours}h{minutes}m"
    return f"{hours}h" if hours else f"{minutes}m"


def clock_time(text: str) -> time:
    """Reads `HH:MM`."""
    match = TIME.match(str(text).strip())
    if not match or int(match["h"]) > 23 or int(match["m"]) > 59:
        raise BadInput("error.not_a_time", value=text)
    return time(int(match["h"]), int(match["m"]))


def calendar_date(text: str) -> date:
    """Reads `YYYY-MM-DD`."""
    try:
        if not DATE.match(str(text).strip()):
            raise ValueError
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise BadInput("error.not_a_date", value=text) from None


def local_datetime(text: str) -> datetime:
    """Reads a local `YYYY-MM-DDTHH:MM` into a naive wall time."""
    try:
        if not LOCAL.match(str(text).strip()):
            raise ValueError
        return datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise BadInput("error.not_a_local_datetime", value=text) from None


def instant(text: str) -> datetime:
    """Reads an ISO date-time with an offset (`2026-12-01T09:00:00+01:00`)."""
    try:
        value = datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise BadInput("error.not_an_instant", value=text) from None
    if value.tzinfo is None:
        raise BadInput("error.not_an_instant", value=text)
    return value


def local_or_instant(text: str, tz: ZoneInfo) -> datetime:
    """Reads a wall time in `tz` or an ISO date-time with an offset; a skipped wall time fails."""
    if LOCAL.match(str(text).strip()):
        return on_wall(local_datetime(text), tz, text)
    return instant(text)


def on_wall(naive: datetime, tz: ZoneInfo, text: str) -> datetime:
    """Places a naive wall time in `tz`: its first occurrence, or an error if it is skipped."""
    aware = naive.replace(tzinfo=tz)
    if aware.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None) != naive:
        raise BadInput("error.skipped_time", value=text, zone=str(tz))
    return aware
