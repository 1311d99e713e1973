"""Reading the arguments of admin and specialist commands into use-case values.

Every reader raises BadInput naming the bad value (the handler adds the command's one-line
usage); too few arguments raise Missing. Nothing here reads the database or the clock: the
specialist's local `today` is handed in. Deeper rules (ids that exist, holiday calendars,
bookings in the way) are the use cases' to check.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from datetime import date, time, timedelta

from bookbot import i18n, parsing
from bookbot.engine.model import WEEKDAYS, Location, Service
from bookbot.errors import BadInput
from bookbot.parsing import identifier
from bookbot.services import schedules
from bookbot.services.places import Placing
from bookbot.services.schedules import Change

# [0-9], not \d: \d takes every script's digits, and int() reads them.
ISO = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
DOTTED = re.compile(r"^([0-9]{1,2})\.([0-9]{1,2})\.?([0-9]{4})?$")
RANGE = re.compile(r"^([0-9]{1,2}:[0-9]{2})\s*[-–—]\s*([0-9]{1,2}:[0-9]{2})$")
CALENDAR = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,5})?$")
LONGEST_TEXT = 200  # a reason
LONGEST_NAME = 100  # a person's or a service's name, typed in the chat
LONGEST_ADDRESS = 200  # a location's address, as the clinic file's
DEGREES = re.compile(r"^-?[0-9]{1,3}(?:\.[0-9]{1,10})?$")  # bounds are the use case's
HIDDEN = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")  # bidi overrides
# Slot and service lengths: a day's window at most; below five minutes a day of slots
# would outgrow every keyboard and agenda.
SHORTEST_SLOT, LONGEST_SLOT = timedelta(minutes=5), timedelta(hours=24)
LAST_TELEGRAM_ID = 2**53 - 1  # Telegram's ids have at most 52 significant bits
NO_CALENDAR = "none"

# Weekday words in the languages of locales/, each to its number (0 = Monday), and the
# words for today and tomorrow, each to its days ahead.
DAY_WORDS = {word: i for i, name in enumerate(WEEKDAYS) for word in i18n.words(f"weekdays.{name}")}
RELATIVE = {
    word: ahead
    for ahead, name in enumerate(("today", "tomorrow"))
    for word in i18n.words(f"relative_days.{name}")
}


class Missing(BadInput):
    """Too few arguments: the answer is the usage alone."""

    def __init__(self) -> None:
        super().__init__("admin.missing")


# -- single values -----------------------------------------------------------------------


def day(text: str, today: date) -> date:
    """Reads 2026-12-24, 24.12 (the next such date), today, tomorrow, or a weekday (the next).

    A date outside parsing.FIRST_DAY..LAST_DAY is refused.
    """
    found = _day(text, today)
    parsing.in_years(found, text)
    return found


def _day(text: str, today: date) -> date:
    """Reads a date in any of the forms `day` takes, unbounded."""
    word = text.strip().lower()
    if word in RELATIVE:
        return today + timedelta(days=RELATIVE[word])
    if word in DAY_WORDS:
        return today + timedelta(days=(DAY_WORDS[word] - today.weekday()) % 7)
    if ISO.match(word):
        try:
            return date.fromisoformat(word)
        except ValueError:
            pass
    elif match := DOTTED.match(word):
        found = _dotted(int(match[1]), int(match[2]), match[3], today)
        if found is not None:
            return found
    raise BadInput("admin.bad.date", value=text)


def _dotted(dd: int, mm: int, year: str | None, today: date) -> date | None:
    """A day.month date: in the year given, else this year's or, once past, next year's."""
    years = [int(year)] if year else [today.year, today.year + 1]
    for candidate in years:
        try:
            found = date(candidate, mm, dd)
        except ValueError:
            continue
        if year or found >= today:
            return found
    return None


def looks_like_day(text: str) -> bool:
    """Tells whether a word reads as a date (so it is not a specialist id left out)."""
    try:
        _day(text, date(2000, 1, 1))
    except BadInput:
        return False
    return True


def clock(text: str) -> time:
    """Reads HH:MM."""
    try:
        return parsing.clock_time(text)
    except BadInput:
        raise BadInput("admin.bad.time", value=text) from None


def span(text: str) -> tuple[time, time]:
    """Reads HH:MM-HH:MM whose end is after its start."""
    match = RANGE.match(text.strip())
    if not match:
        raise BadInput("admin.bad.range", value=text)
    try:
        start, end = parsing.clock_time(match[1]), parsing.clock_time(match[2])
    except BadInput:
        raise BadInput("admin.bad.range", value=text) from None
    if end <= start:
        raise BadInput("admin.bad.range_backwards", value=text)
    return start, end


def length(text: str, least: timedelta = SHORTEST_SLOT) -> timedelta:
    """Reads a slot or service length from `least` to LONGEST_SLOT: 30m, 1h, 1h30m."""
    try:
        value = parsing.duration(text)
    except BadInput:
        raise BadInput("admin.bad.slot", value=text) from None
    if value <= timedelta(0):
        raise BadInput("admin.bad.slot", value=text)
    if not least <= value <= LONGEST_SLOT:
        raise BadInput(
            "admin.bad.length",
            value=text,
            least=parsing.format_duration(least),
            most=parsing.format_duration(LONGEST_SLOT),
        )
    return value


def pause(text: str) -> timedelta:
    """Reads a break after each slot: 0, or a duration up to LONGEST_SLOT."""
    return timedelta(0) if text in ("0", "0m") else length(text, timedelta(minutes=1))


def is_length(text: str) -> bool:
    """Tells whether a word is a duration like 30m."""
    return bool(parsing.DURATION.match(text)) and any(c.isdigit() for c in text)


def weekdays(text: str) -> frozenset[int]:
    """Reads mon,tue or mon-fri (or several of both, comma-separated)."""
    found: set[int] = set()
    for part in text.lower().split(","):
        first, dash, last = part.strip().partition("-")
        if first not in DAY_WORDS or (dash and last not in DAY_WORDS):
            raise BadInput("admin.bad.days", value=text)
        a, b = DAY_WORDS[first], DAY_WORDS[last] if dash else DAY_WORDS[first]
        found.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(found)


def telegram_id(text: str) -> int:
    """Reads a Telegram user id: ASCII digits, 1 to LAST_TELEGRAM_ID."""
    if (
        not (text.isascii() and text.isdigit())
        or len(text) > len(str(LAST_TELEGRAM_ID))
        or (not 0 < int(text) <= LAST_TELEGRAM_ID)
    ):
        raise BadInput("admin.bad.telegram_id", value=text)
    return int(text)


def calendars(text: str) -> tuple[str, ...]:
    """Reads CC or CC-SUB (several comma-separated), or none; existence is the use case's."""
    if text.lower() == NO_CALENDAR:
        return ()
    codes = [part.strip() for part in text.split(",")]
    for code in codes:
        if not CALENDAR.match(code):
            raise BadInput("error.unknown_calendar", value=code)
    return tuple(code.upper() for code in codes)


def plain(text: str) -> str:
    """A typed text as one clean line: no control or bidi-override characters, single spaces."""
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or (unicodedata.category(ch) not in ("Cc", "Cs") and ch not in HIDDEN)
    )
    return " ".join(kept.split())


def words(args: Sequence[str], required: bool = False, most: int = LONGEST_TEXT) -> str | None:
    """The rest of the arguments as one line of text (a reason or a name), refused past `most`."""
    text = plain(" ".join(args))
    if required and not text:
        raise Missing
    if len(text) > most:
        raise BadInput("limits.too_long", length=len(text), most=most)
    return text or None


def need(args: Sequence[str], count: int) -> None:
    """Raises Missing when fewer than `count` arguments were given."""
    if len(args) < count:
        raise Missing


# -- whose schedule ----------------------------------------------------------------------


def target(
    args: Sequence[str], known: Collection[str], own: str | None, admin: bool
) -> tuple[str, list[str]]:
    """Splits the specialist id off the arguments; a specialist may leave out their own."""
    if args and args[0] in known:
        return args[0], list(args[1:])
    if own is not None and (not admin or not args or looks_like_day(args[0])):
        return own, list(args)
    need(args, 1)
    return identifier(args[0]), list(args[1:])


# -- one reader per schedule command -----------------------------------------------------


def dayoff(who: str, args: Sequence[str], today: date) -> Change:
    """`DATE [reason]`."""
    need(args, 1)
    return Change(schedules.DAY_OFF, who, first=day(args[0], today), reason=words(args[1:]))


def vacation(who: str, args: Sequence[str], today: date) -> Change:
    """`FROM TO [reason]`."""
    need(args, 2)
    first, last = day(args[0], today), day(args[1], today)
    if last < first:
        raise BadInput("error.range_backwards", first=first.isoformat(), last=last.isoformat())
    return Change(schedules.VACATION, who, first=first, last=last, reason=words(args[2:]))


def hours(who: str, args: Sequence[str], today: date) -> Change:
    """`DATE HH:MM-HH:MM [SLOT] [BREAK]`."""
    need(args, 2)
    if len(args) > 4:
        raise BadInput("admin.bad.extra", value=args[4])
    start, end = span(args[1])
    return Change(
        schedules.HOURS,
        who,
        first=day(args[0], today),
        start=start,
        end=end,
        slot=length(args[2]) if len(args) > 2 else None,
        break_after=pause(args[3]) if len(args) > 3 else timedelta(0),
    )


def extra(who: str, args: Sequence[str], today: date) -> Change:
    """`DATE HH:MM… [SLOT]`."""
    need(args, 2)
    rest = list(args[1:])
    slot = length(rest.pop()) if len(rest) > 1 and is_length(rest[-1]) else None
    times = tuple(sorted({clock(t) for t in rest}))
    return Change(schedules.EXTRA, who, first=day(args[0], today), times=times, slot=slot)


def block(who: str, args: Sequence[str], today: date) -> Change:
    """`DATE HH:MM-HH:MM [reason]`."""
    need(args, 2)
    start, end = span(args[1])
    return Change(
        schedules.BLOCK,
        who,
        first=day(args[0], today),
        start=start,
        end=end,
        reason=words(args[2:]),
    )


def unblock(who: str, args: Sequence[str], today: date) -> Change:
    """`DATE HH:MM`."""
    need(args, 2)
    return Change(schedules.UNBLOCK, who, first=day(args[0], today), start=clock(args[1]))


def holidays(who: str, args: Sequence[str], today: date) -> Change:
    """`CC[-SUB]|none`."""
    need(args, 1)
    if len(args) > 1:
        raise BadInput("admin.bad.extra", value=args[1])
    return Change(schedules.HOLIDAYS, who, calendars=calendars(args[0]))


def weekly(who: str, args: Sequence[str], today: date) -> Change:
    """`DAYS HH:MM-HH:MM [SLOT] [BREAK]`."""
    need(args, 2)
    if len(args) > 4:
        raise BadInput("admin.bad.extra", value=args[4])
    start, end = span(args[1])
    return Change(
        schedules.WEEKLY,
        who,
        days=weekdays(args[0]),
        start=start,
        end=end,
        slot=length(args[2]) if len(args) > 2 else None,
        break_after=pause(args[3]) if len(args) > 3 else timedelta(0),
    )


CHANGES = {
    schedules.DAY_OFF: dayoff,
    schedules.VACATION: vacation,
    schedules.HOURS: hours,
    schedules.EXTRA: extra,
    schedules.BLOCK: block,
    schedules.UNBLOCK: unblock,
    schedules.HOLIDAYS: holidays,
    schedules.WEEKLY: weekly,
}


# -- the catalog -------------------------------------------------------------------------


def new_service(args: Sequence[str]) -> Service:
    """`ID DURATION|- NAME…`."""
    need(args, 3)
    duration = None if args[1] == "-" else length(args[1])
    return Service(
        identifier(args[0]), words(args[2:], required=True, most=LONGEST_NAME) or "", duration
    )


def named(args: Sequence[str]) -> tuple[str, str]:
    """`ID NAME…`."""
    need(args, 2)
    return identifier(args[0]), words(args[1:], required=True, most=LONGEST_NAME) or ""


def offered(args: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """`ID SERVICE…` (spaces or commas between services)."""
    need(args, 2)
    services = [s for part in args[1:] for s in part.split(",") if s]
    return identifier(args[0]), tuple(dict.fromkeys(identifier(s) for s in services))


# -- places (/location) ------------------------------------------------------------------


def _parts(args: Sequence[str]) -> list[str]:
    """The arguments as one line cut at each |, each part trimmed."""
    return [part.strip() for part in " ".join(args).split("|")]


def _point(text: str) -> tuple[float, float]:
    """Reads LAT,LON in decimal degrees (52.52,13.388); their bounds are the use case's."""
    lat, comma, lon = text.replace(" ", "").partition(",")
    if not comma or not DEGREES.match(lat) or not DEGREES.match(lon):
        raise BadInput("location.bad_point", value=text)
    return float(lat), float(lon)


def _address(parts: list[str]) -> tuple[str, tuple[float, float] | None]:
    """`ADDRESS… [| LAT,LON]`: an address not empty, and a point if one is given."""
    if len(parts) > 2:
        raise BadInput("admin.bad.extra", value=parts[2])
    address = words(parts[0].split(), required=True, most=LONGEST_ADDRESS) or ""
    return address, _point(parts[1]) if len(parts) > 1 else None


def new_location(args: Sequence[str]) -> Location:
    """`ID NAME… | ADDRESS… [| LAT,LON]`."""
    parts = _parts(args)
    head = parts[0].split()
    need(head, 2)
    if len(parts) < 2:
        raise Missing
    address, point = _address(parts[1:])
    lat, lon = point if point is not None else (None, None)
    name = words(head[1:], required=True, most=LONGEST_NAME) or ""
    return Location(identifier(head[0]), name, address, lat, lon)


def readdressed(args: Sequence[str]) -> tuple[str, str, tuple[float, float] | None]:
    """`ID ADDRESS… [| LAT,LON]`."""
    parts = _parts(args)
    head = parts[0].split()
    need(head, 2)
    address, point = _address([" ".join(head[1:]), *parts[1:]])
    return identifier(head[0]), address, point


def placing(args: Sequence[str], today: date) -> Placing:
    """`SPECIALIST PLACE [DAYS|DATE]`: weekdays (thu, mon,thu) or a date (2026-12-10)."""
    need(args, 2)
    if len(args) > 3:
        raise BadInput("admin.bad.extra", value=args[3])
    who, where = identifier(args[0]), identifier(args[1])
    if len(args) == 2:
        return Placing(who, where)
    try:
        return Placing(who, where, days=weekdays(args[2]))
    except BadInput:
        pass
    if not looks_like_day(args[2]):
        raise BadInput("location.bad_when", value=args[2])
    return Placing(who, where, day=day(args[2], today))


# -- attendance --------------------------------------------------------------------------

LAST_BOOKING_ID = 2**31 - 1  # booking ids are PostgreSQL INTEGERs


def booking_id(text: str) -> int:
    """Reads a booking id: ASCII digits, 1 to LAST_BOOKING_ID."""
    if (
        not (text.isascii() and text.isdigit())
        or len(text) > len(str(LAST_BOOKING_ID))
        or not 0 < int(text) <= LAST_BOOKING_ID
    ):
        raise BadInput("admin.bad.booking_id", value=text)
    return int(text)


def noshow(args: Sequence[str]) -> int:
    """`/noshow BOOKING_ID`: the booking's id."""
    need(args, 1)
    if len(args) > 1:
        raise BadInput("admin.bad.extra", value=args[1])
    return booking_id(args[0])


def forgive(args: Sequence[str]) -> int:
    """`/forgive TELEGRAM_ID`: the client's Telegram id."""
    need(args, 1)
    if len(args) > 1:
        raise BadInput("admin.bad.extra", value=args[1])
    return telegram_id(args[0])
