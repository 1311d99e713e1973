"""Reading the small text forms users type: durations, times, dates, instants."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bookbot.errors import BadInput

SQLITE_URLS = ("sqlite+aiosqlite:///", "sqlite:///")

# [0-9], not \d: \d takes every script's digits, and int() reads them (`cancel ١` was booking 1).
DURATION = re.compile(r"^(?:(?P<d>[0-9]+)d)?(?:(?P<h>[0-9]+)h)?(?:(?P<m>[0-9]+)m)?$")
TIME = re.compile(r"^(?P<h>[0-9]{1,2}):(?P<m>[0-9]{2})$")
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
LOCAL = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$")
# Six digits of hours or minutes (114 years, 694 days) stay far from timedelta's and
# datetime's limits, and from int()'s 4,300-digit refusal.
LONGEST_COUNT = 6
# Ids of services and specialists (spec/clinic-file.md); they travel in Telegram's 64-byte
# button data, so at most LONGEST_ID characters.
ID = re.compile(r"[a-z0-9_-]+")
LONGEST_ID = 60
PHONE = re.compile(r"^\+?[0-9]{3,20}$")  # E.164 has at most 15 digits; room for extensions
PHONE_PUNCTUATION = re.compile(r"[ ()./-]")
LONGEST_NAME = 100
LONGEST_PHONE = 30  # as typed, with spaces and dashes
LONGEST_TEXT = 500  # a reason
# Control characters, unpaired surrogates (bytes that were not UTF-8) and line or
# paragraph separators: none belongs in a one-line name or reason.
UNPRINTABLE = frozenset({"Cc", "Cs", "Zl", "Zp"})
# The dates spec/cli.md takes in, on the command line and in chat commands.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def format_duration(value: timedelta) -> str:
    """A duration as the clinic file and the chat write it: 1h30m, 45m, 2h.

    Written by the engine (which may not import this module), read here; imported when
    first asked for, as a query that writes none need not load the engine's checks.
    """
    from bookbot.engine.validate import duration_text

    return duration_text(value)


def identifier(value: object) -> str:
    """Reads a service or specialist id: a-z, 0-9, _ and -, at most LONGEST_ID long."""
    if not isinstance(value, str) or not ID.fullmatch(value):
        raise BadInput("error.not_an_id", value=value)
    if len(value) > LONGEST_ID:
        raise BadInput("error.id_too_long", value=value, most=LONGEST_ID)
    return value


def duration(text: str, days: bool = False) -> timedelta:
    """Reads `30m`, `1h`, `1h30m`, `90m`; with `days` (the clinic file) `90d`, `1d12h` too."""
    match = DURATION.match(str(text).strip())
    if not text or not match or not any(match.groups()) or (match["d"] and not days):
        raise BadInput("error.not_a_duration", value=text)
    if max(len(part or "") for part in match.groups()) > LONGEST_COUNT:
        raise BadInput("error.duration_too_long", value=text)
    return timedelta(
        days=int(match["d"] or 0), hours=int(match["h"] or 0), minutes=int(match["m"] or 0)
    )


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
        if not str(text).isascii():
            raise ValueError
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


def in_years(value: date, text: str) -> None:
    """Refuses a date (or a date-time's own date) outside FIRST_DAY..LAST_DAY."""
    day = value.date() if isinstance(value, datetime) else value
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadInput(
            "error.date_out_of_range",
            value=text,
            first=FIRST_DAY.isoformat(),
            last=LAST_DAY.isoformat(),
        )


def bounded_date(text: str) -> date:
    """Reads `YYYY-MM-DD` between FIRST_DAY and LAST_DAY."""
    value = calendar_date(text)
    in_years(value, text)
    return value


def bounded_instant(text: str) -> datetime:
    """Reads an ISO date-time with an offset whose date is between FIRST_DAY and LAST_DAY."""
    value = instant(text)
    in_years(value, text)
    return value


def line_of_text(text: str, most: int = LONGEST_TEXT) -> str:
    """Reads one line of free text (a reason): at most `most` characters, nothing unprintable."""
    value = str(text).strip()
    if len(value) > most:
        raise BadInput("error.text_too_long", most=most, length=len(value))
    if any(unicodedata.category(c) in UNPRINTABLE for c in value):
        raise BadInput("error.unprintable", value=visible(value))
    return value


def visible(text: str) -> str:
    """The text with each unprintable character written as an escape, for error messages."""
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in UNPRINTABLE else c for c in text
    )


def person_name(text: str) -> str:
    """Reads a person's name: one line of 1 to LONGEST_NAME characters."""
    value = line_of_text(text, LONGEST_NAME)
    if not value:
        raise BadInput("error.empty_name")
    return value


def phone(text: str) -> str:
    """Reads a phone number: an optional + and 3 to 20 digits; punctuation between is dropped."""
    value = str(text).strip()
    digits = PHONE_PUNCTUATION.sub("", value)
    if len(value) > LONGEST_PHONE or not PHONE.match(digits):
        raise BadInput("error.not_a_phone", value=visible(value))
    return digits


def sqlite_file(url: str) -> str | None:
    """The file a plain SQLite URL names (`sqlite+aiosqlite:///bookbot.db`), else None.

    Plain: no query, no escapes, not in memory; any other URL is SQLAlchemy's to read.
    """
    prefix = next((p for p in SQLITE_URLS if url.startswith(p)), None)
    path = url[len(prefix) :] if prefix else ""
    if not path or path == ":memory:" or any(c in path for c in "?#%") or path.startswith("file:"):
        return None
    return path
