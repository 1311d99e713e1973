"""The callback-data codec: short, typed button data, and a strict reader for taps.

Button data is at most 64 bytes (Telegram's limit). A tap carries only the step's own
argument; the rest of the flow (service, specialist) is in the database, so a restart
between taps loses nothing. Anything that does not decode is answered, never obeyed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

LIMIT = 64
ID = r"[a-z0-9_-]{1,60}"
SHAPES = {
    "s": re.compile(rf"^({ID})$"),  # service chosen
    "p": re.compile(rf"^({ID}|\*)$"),  # specialist chosen, * for any available
    "m": re.compile(r"^([0-9]{6})$"),  # show a month
    "d": re.compile(r"^([0-9]{8})$"),  # day chosen
    "t": re.compile(r"^([0-9a-z]{1,10})$"),  # time chosen: UTC minutes since epoch, base 36
    "c": re.compile(r"^([1-9][0-9]{0,9})$"),  # confirm a hold
    "x": re.compile(r"^([1-9][0-9]{0,9})$"),  # ask to cancel a booking
    "y": re.compile(r"^([1-9][0-9]{0,9})$"),  # cancel it, confirmed
    "v": re.compile(r"^([1-9][0-9]{0,9})$"),  # keep a booking after all
    "r": re.compile(r"^([1-9][0-9]{0,9})$"),  # reschedule a booking
    "l": re.compile(r"^([a-z]{2})$"),  # language chosen
    "b": re.compile(r"^(services|specialists|calendar|times)$"),  # go back to a step
    "w": re.compile(r"^([1-9][0-9]{0,9}-[1-5])$"),  # rate a visit: booking id, then stars
    "k": re.compile(r"^()$"),  # change the remembered contact
    "n": re.compile(r"^()$"),  # a button that does nothing (greyed day, blank cell)
    "g": re.compile(r"^([1-9][0-9]{0,9})$"),  # confirm a schedule change that cancels bookings
    "h": re.compile(r"^([1-9][0-9]{0,9})$"),  # keep everything: drop that pending change
    "z": re.compile(r"^([1-9][0-9]{0,9})$"),  # a specialist cancels a booking: ask the reason
    "e": re.compile(r"^([1-9][0-9]{0,9})$"),  # a specialist keeps the booking after all
    # another page of a list: services, specialists, /my, or a day's times; then the page
    "q": re.compile(r"^(?:s|p|x|t[0-9]{8})\.[1-9][0-9]{0,3}$"),
}

# Booking and change ids are PostgreSQL INTEGERs: a forged larger one is not looked up.
NUMBER = re.compile(r"^[1-9][0-9]{0,9}$")
LAST_ID = 2**31 - 1


@dataclass(frozen=True)
class Tap:
    """A decoded button press: the action letter and its one argument."""

    action: str
    argument: str

    def day(self) -> date:
        """The argument as a date (from `d:YYYYMMDD`)."""
        return datetime.strptime(self.argument, "%Y%m%d").date()

    def month(self) -> date:
        """The argument as the first of a month (from `m:YYYYMM`)."""
        return datetime.strptime(self.argument, "%Y%m").date()

    def instant(self) -> datetime:
        """The argument as a UTC instant (from `t:<base-36 minutes>`)."""
        return datetime.fromtimestamp(int(self.argument, 36) * 60, UTC)

    def number(self) -> int:
        """The argument as a booking id."""
        return int(self.argument)

    def paged(self) -> tuple[str, int]:
        """The list and the page number (from `q:LIST.PAGE`); a day's times list as `t`."""
        listed, _, number = self.argument.partition(".")
        return listed[:1], int(number)

    def paged_day(self) -> date:
        """The day whose times are paged (from `q:tYYYYMMDD.PAGE`)."""
        return datetime.strptime(self.argument[1:9], "%Y%m%d").date()


def encode(action: str, argument: str | int = "") -> str:
    """Button data for an action and its argument."""
    data = f"{action}:{argument}"
    assert action in SHAPES and len(data.encode()) <= LIMIT, data
    return data


def day(value: date) -> str:
    """Button data for choosing a day."""
    return encode("d", value.strftime("%Y%m%d"))


def month(value: date) -> str:
    """Button data for showing a month."""
    return encode("m", value.strftime("%Y%m"))


def instant(value: datetime) -> str:
    """Button data for choosing a start time."""
    return encode("t", _base36(int(value.timestamp()) // 60))


def page(listed: str, number: int, day: date | None = None) -> str:
    """Button data for page `number` of a list (`s`, `p`, `x`, or `t` with its day)."""
    return encode("q", f"{listed}{day.strftime('%Y%m%d') if day else ''}.{number}")


def decode(data: str | None) -> Tap | None:
    """The tap a button's data stands for, or None for anything malformed."""
    if not data or len(data.encode()) > LIMIT or ":" not in data:
        return None
    action, _, argument = data.partition(":")
    shape = SHAPES.get(action)
    if shape is None or not shape.match(argument):
        return None
    tap = Tap(action, argument)
    try:
        if action == "d":
            tap.day()
        elif action == "m":
            tap.month()
        elif action == "t":
            tap.instant()
        elif action == "q" and tap.argument.startswith("t"):
            tap.paged_day()
        elif NUMBER.match(argument.partition("-")[0]) and int(argument.partition("-")[0]) > LAST_ID:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    return tap


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text
