"""Single values of a clinic file: each reader refuses what is not its kind or out of bounds.

Each raises BadInput with a locale key and what the file wrote; the reader records it at
the value's path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from bookbot import parsing
from bookbot.engine import money, validate
from bookbot.engine.model import WEEKDAYS, BookingStatus, OverrideType
from bookbot.engine.policy import AfterNoShows, Prepay
from bookbot.errors import BadInput, Problem

# Bounds on what a file may hold (README, "The clinic file in brief"): each keeps every later
# question fast and every value inside its column and Python's date range.
FARTHEST_HORIZON = 730  # days
LARGEST_TELEGRAM_ID = 2**52 - 1  # the Bot API: user ids have at most 52 significant bits
LARGEST_BOOKING_ID = 2**31 - 1  # the bookings.id column is a 32-bit integer
LONGEST_NAME, LONGEST_REASON, LONGEST_PHONE = 100, 200, 40
LONGEST_ADDRESS = 200
SHOWN = 40  # characters of a value a message repeats
NO_CALENDAR = "none"

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
DIGITS = re.compile(r"[0-9]{1,20}")
DEGREES = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{1,10})?", re.ASCII)
WITH_OFFSET = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?"
    r"(?:Z|[+-]\d{2}:\d{2})",
    re.ASCII,
)


def shown(value: Any, most: int = SHOWN) -> Any:
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


def id_list(value: Any) -> tuple[str, ...]:
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


def name(value: Any) -> str:
    """The name of a service or a specialist: up to LONGEST_NAME characters, not empty."""
    text = _cleaned(value, LONGEST_NAME)
    if not text:
        raise BadInput("file.empty")
    return text


def client_name(value: Any) -> str | None:
    return _cleaned(value, LONGEST_NAME) or None


def reason(value: Any) -> str | None:
    return _cleaned(value, LONGEST_REASON) or None


def phone(value: Any) -> str | None:
    return _cleaned(value, LONGEST_PHONE) or None


def address(value: Any) -> str:
    """A location's address: up to LONGEST_ADDRESS characters, not empty."""
    text = _cleaned(value, LONGEST_ADDRESS)
    if not text:
        raise BadInput("file.empty")
    return text


def degrees(value: Any) -> float:
    """A latitude or longitude as written (`52.52`, `-0.1276`); its bounds are validate's."""
    text = _plain(value, "file.not_degrees")
    if not DEGREES.fullmatch(text):
        raise BadInput("file.not_degrees", value=value)
    return float(text)


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


def telegram_id(value: Any) -> int:
    return _whole(value, 1, LARGEST_TELEGRAM_ID)


def booking_id(value: Any) -> int:
    return _whole(value, 1, LARGEST_BOOKING_ID)


def horizon(value: Any) -> int:
    return _whole(value, 0, FARTHEST_HORIZON)


def _checked(problem: Problem | None, found: Any, **shown: Any) -> Any:
    """`found`, or BadInput with validate's problem, repeating what the file wrote (`shown`)."""
    if problem is not None:
        raise BadInput(problem.key, **{**problem.params, **shown})
    return found


def timezone(value: Any) -> str:
    return _checked(validate.timezone(value), value)


def calendars(value: Any) -> tuple[str, ...]:
    codes = value if isinstance(value, list) else [value]
    if codes == [NO_CALENDAR]:
        return ()
    return _checked(validate.calendars(codes), tuple(codes))


def weekdays(value: Any) -> frozenset[int]:
    names = value if isinstance(value, list) else [value]
    if not names:
        raise BadInput("error.no_days")
    for name in names:
        if not isinstance(name, str) or name.lower() not in WEEKDAYS:
            raise BadInput("error.not_a_weekday", value=name)
    return frozenset(WEEKDAYS.index(name.lower()) for name in names)


def times(value: Any) -> list:
    if not isinstance(value, list) or not value:
        raise BadInput("error.not_a_list")
    _checked(validate.slot_times(value), value)
    return [clock(v) for v in value]


def clock(value: Any) -> time:
    return parsing.clock_time(_plain(value, "error.not_a_time"))


def day(value: Any) -> date:
    """A date within FIRST_DATE..LAST_DATE."""
    found = parsing.calendar_date(_plain(value, "error.not_a_date"))
    return _checked(validate.day(found), found, value=value)


def moment(value: Any) -> datetime:
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
        found = timedelta(0) if text == "0" else parsing.duration(text, days=True)
    except OverflowError:
        found = timedelta.max
    return _checked(bounds(found), found, value=value)


def service_duration(value: Any) -> timedelta:
    return _duration(value, validate.service_length)


def slot(value: Any) -> timedelta:
    return _duration(value, validate.slot_length)


def pause(value: Any) -> timedelta:
    return _duration(value, validate.break_length)


def notice(value: Any) -> timedelta:
    return _duration(value, validate.notice_length)


def hold(value: Any) -> timedelta:
    """A hold, or the window no-shows are counted in: 1m to 90d."""
    return _duration(value, validate.hold_length)


def payment_hold(value: Any) -> timedelta:
    """How long a slot is held while the client pays: 1m to 24h."""
    return _duration(value, validate.payment_hold_length)


def prepay(value: Any) -> Prepay:
    if value not in tuple(Prepay):
        raise BadInput("file.not_prepay", value=value)
    return Prepay(value)


def switch(value: Any) -> bool:
    """A yes/no field: true or false (YAML read as text, JSON as a boolean)."""
    if isinstance(value, bool):
        return value
    if value not in ("true", "false"):
        raise BadInput("file.not_a_switch", value=value)
    return bool(value == "true")


def no_show_limit(value: Any) -> int:
    return _whole(value, 1, validate.MOST_NO_SHOWS)


def after_no_shows(value: Any) -> AfterNoShows:
    if value not in tuple(AfterNoShows):
        raise BadInput("file.not_after_no_shows", value=value)
    return AfterNoShows(value)


def currency(value: Any) -> str:
    return _checked(money.currency_problem(value), value)


def price(value: Any, currency: str) -> int:
    """A price in `currency`, in its minor units: `"60.00"` EUR is 6000.

    The loader leaves a number with a point as the text written, so no float rounds it.
    """
    found = money.parse(_plain(value, "file.not_a_price"), currency)
    return _checked(found, None, value=value) if isinstance(found, Problem) else found


def business_phone(value: Any) -> str:
    """The number clients are asked to call: kept as written, if it is a phone number."""
    text = _cleaned(value, LONGEST_PHONE)
    parsing.phone(text)
    return text


def override_type(value: Any) -> OverrideType:
    if value not in tuple(OverrideType):
        raise BadInput("error.not_an_override_type", value=value)
    return OverrideType(value)


def status(value: Any) -> BookingStatus:
    if value not in (BookingStatus.CONFIRMED, BookingStatus.CANCELLED):
        raise BadInput("error.not_a_status", value=value)
    return BookingStatus(value)
