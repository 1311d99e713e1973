"""The callback-data codec: short, typed button data, and a strict reader for taps.

Button data is at most 64 bytes (Telegram's limit). A tap carries only the step's own
argument; the rest of the flow (service, specialist) is in the database, so a restart
between taps loses nothing. Anything that does not decode is answered, never obeyed.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from enum import StrEnum, unique

from msgspec import Struct

from bookbot.parsing import FIRST_DAY, LAST_DAY

LIMIT = 64
ID = r"[a-z0-9_-]{1,60}"
ROW_ID = r"[1-9][0-9]{0,9}"  # a booking's or a schedule change's id


@unique
class Action(StrEnum):
    """What a button asks for: a name, its one-letter code on the wire, its argument's shape.

    The letter is the member's value. Buttons already sent carry these letters, so a letter
    is never changed or given to another action. Who may press each, and what it runs, is
    bot/actions.py.
    """

    shape: re.Pattern[str]

    def __new__(cls, letter: str, shape: str) -> Action:
        action = str.__new__(cls, letter)
        action._value_ = letter
        action.shape = re.compile(rf"^(?:{shape})$")
        return action

    SERVICE = "s", ID  # a service chosen
    SPECIALIST = "p", rf"{ID}|\*"  # a specialist chosen, * for any available
    MONTH = "m", r"[0-9]{6}"  # show a month
    DAY = "d", r"[0-9]{8}"  # a day chosen
    TIME = "t", r"[0-9a-z]{1,10}"  # a time chosen: UTC minutes since epoch, base 36
    CONFIRM = "c", ROW_ID  # confirm a hold
    CHANGE_CONTACT = "k", ""  # change the remembered contact
    ASK_CANCEL = "x", ROW_ID  # ask to cancel a booking
    CANCEL = "y", ROW_ID  # cancel it, confirmed
    KEEP = "v", ROW_ID  # keep a booking after all
    RESCHEDULE = "r", ROW_ID  # reschedule a booking
    LANGUAGE = "l", r"[a-z]{2}"  # a language chosen
    BACK = "b", r"services|places|specialists|calendar|times"  # go back to a step
    RATE = "w", rf"{ROW_ID}-[1-5]"  # rate a visit: booking id, then stars
    # another page of a list: services, places, specialists, /my, or a day's times; the page
    PAGE = "q", r"(?:s|o|p|x|t[0-9]{8})\.[1-9][0-9]{0,3}"
    NOTHING = "n", ""  # a button that does nothing (greyed day, blank cell)
    CONFIRM_CHANGE = "g", ROW_ID  # confirm a schedule change that cancels bookings
    KEEP_CHANGE = "h", ROW_ID  # keep everything: drop that pending change
    SPECIALIST_CANCEL = "z", ROW_ID  # a specialist cancels a booking: ask the reason
    SPECIALIST_KEEP = "e", ROW_ID  # a specialist keeps the booking after all
    ATTEND = "A", ROW_ID  # a client says "I'll come" (from the first reminder)
    MARK = "M", rf"{ROW_ID}-[an]"  # staff mark a visit: booking id, then arrived or no-show
    # the waitlist: an offer's buttons (booking id), joining from /my (booking id), leaving
    TAKE_OFFER = "T", ROW_ID  # take a waitlist offer
    PASS_OFFER = "N", ROW_ID  # "Not this one": pass the offer on
    LEAVE_OFFERED = "L", ROW_ID  # leave the waitlist from an offer
    SOONER = "S", ROW_ID  # "Want it sooner?" on a booking under /my
    LEAVE_ENTRY = "U", ROW_ID  # leave one waitlist entry (entry id) under /my
    # joining from the calendar or a full day: the dates offered (first, last), which of
    # them are chosen (0 all, 1 the first week, 2 the first two), parts of the day (bits)
    WAIT = "W", r"[0-9]{16}[0-2][0-7]"
    JOIN = "J", r"[0-9]{16}[0-7]"  # join the waitlist: first and last date, parts (bits)
    # a chain's Where?: a place chosen (* for any), or "Nearest to me" (asks the location)
    PLACE = "a", rf"{ID}|\*"
    NEAREST = "f", ""


LETTERS = {action.value: action for action in Action}

# Booking and change ids are PostgreSQL INTEGERs: a forged larger one is not looked up.
NUMBER = re.compile(rf"^{ROW_ID}$")
LAST_ID = 2**31 - 1


class Tap(Struct, frozen=True):
    """A decoded button press: the action and its one argument."""

    action: Action
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

    def span(self) -> tuple[date, date]:
        """The first and last date (from `W:` and `J:`, YYYYMMDDYYYYMMDD first).

        Dates outside 2000-2099 are refused (ValueError), so no date sum overflows.
        """
        first = datetime.strptime(self.argument[:8], "%Y%m%d").date()
        last = datetime.strptime(self.argument[8:16], "%Y%m%d").date()
        if not FIRST_DAY <= first <= LAST_DAY or not FIRST_DAY <= last <= LAST_DAY:
            raise ValueError(self.argument)
        return first, last

    def parts(self) -> int:
        """The parts of the day as bits (the last digit of `W:` and `J:`): 1, 2, 4; 0 any."""
        return int(self.argument[-1])

    def option(self) -> int:
        """Which dates of a waitlist form are chosen (the 17th digit of `W:`)."""
        return int(self.argument[16])

    def paged(self) -> tuple[str, int]:
        """The list and the page number (from `q:LIST.PAGE`); a day's times list as `t`."""
        listed, _, number = self.argument.partition(".")
        return listed[:1], int(number)

    def paged_day(self) -> date:
        """The day whose times are paged (from `q:tYYYYMMDD.PAGE`)."""
        return datetime.strptime(self.argument[1:9], "%Y%m%d").date()


def encode(action: Action, argument: str | int = "") -> str:
    """Button data for an action and its argument."""
    data = f"{action.value}:{argument}"
    assert len(data.encode()) <= LIMIT, data
    return data


NO_OP = encode(Action.NOTHING)  # the data of every button that does nothing


def day(value: date) -> str:
    """Button data for choosing a day."""
    return encode(Action.DAY, value.strftime("%Y%m%d"))


def month(value: date) -> str:
    """Button data for showing a month."""
    return encode(Action.MONTH, value.strftime("%Y%m"))


def instant(value: datetime) -> str:
    """Button data for choosing a start time."""
    return encode(Action.TIME, _base36(int(value.timestamp()) // 60))


def waiting(first: date, last: date, option: int, parts: int) -> str:
    """Button data for the waitlist form: the dates offered, which are chosen, the parts."""
    return encode(Action.WAIT, f"{first:%Y%m%d}{last:%Y%m%d}{option}{parts}")


def join(first: date, last: date, parts: int) -> str:
    """Button data for joining the waitlist on dates first..last in these parts of the day."""
    return encode(Action.JOIN, f"{first:%Y%m%d}{last:%Y%m%d}{parts}")


def page(listed: str, number: int, day: date | None = None) -> str:
    """Button data for page `number` of a list (`s`, `o`, `p`, `x`, or `t` with its day)."""
    return encode(Action.PAGE, f"{listed}{day.strftime('%Y%m%d') if day else ''}.{number}")


def decode(data: str | None) -> Tap | None:
    """The tap a button's data stands for, or None for anything malformed."""
    if not data or len(data.encode()) > LIMIT or ":" not in data:
        return None
    letter, _, argument = data.partition(":")
    action = LETTERS.get(letter)
    if action is None or not action.shape.match(argument):
        return None
    tap = Tap(action, argument)
    try:
        if action is Action.DAY:
            tap.day()
        elif action is Action.MONTH:
            tap.month()
        elif action is Action.TIME:
            tap.instant()
        elif action is Action.PAGE and tap.argument.startswith("t"):
            tap.paged_day()
        elif action in (Action.WAIT, Action.JOIN):
            tap.span()
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
