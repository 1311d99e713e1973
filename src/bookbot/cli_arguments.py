"""What the command line takes in: each argument read and bounded where it enters.

Anything outside a bound (spec/cli.md) is a usage error: exit 2 and one localized line,
which `typed` makes of the reader's BadInput.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bookbot import i18n, parsing
from bookbot.engine.model import WEEKDAYS
from bookbot.errors import BadInput

# Bounds of what the command line takes in (spec/cli.md): anything outside is exit 2.
LONGEST_ARGUMENT = 4096  # a path or a database URL; nothing else comes close
MOST_LISTED = 1000  # `search --limit`
MOST_SKIPPED = 100_000  # `search --offset`
LONGEST_HOLE = timedelta(hours=24)  # `holes --min`: a hole lies within one day's windows
FARTHEST_KM = 20_000.0  # `--within`: half the Earth's circumference, every place there is
DEGREES = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{1,10})?", re.ASCII)
DISTANCE = re.compile(r"[0-9]{1,5}(?:\.[0-9]{1,3})?", re.ASCII)
LAST_BOOKING_ID = 2**31 - 1  # bookings.id is INTEGER: 32 bits on PostgreSQL
HOST = re.compile(r"^[A-Za-z0-9.:_-]{1,253}$")  # a host name, IPv4 or IPv6


def typed(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Wraps a parser so argparse reports its localized message as a usage error.

    Every argument is first held to LONGEST_ARGUMENT characters of valid UTF-8, so no
    reader meets a megabyte, and no message echoes one.
    """

    def convert(text: str) -> Any:
        try:
            if len(text) > LONGEST_ARGUMENT:
                raise BadInput("error.argument_too_long", start=text[:20], most=LONGEST_ARGUMENT)
            if any("\ud800" <= c <= "\udfff" for c in text):  # os.fsdecode of bad bytes
                raise BadInput("error.not_utf8", value=parsing.visible(text))
            return parse(text)
        except BadInput as error:
            raise argparse.ArgumentTypeError(i18n.text(error.key, **error.params)) from None

    convert.__name__ = parse.__name__
    return convert


def weekdays(text: str) -> frozenset[int]:
    """Reads `mon,wed`: English weekday abbreviations, comma-separated."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in WEEKDAYS]
    if unknown or not names:
        raise BadInput("error.not_a_weekday", value=",".join(unknown) or text)
    return frozenset(WEEKDAYS.index(name) for name in names)


def least(text: str) -> timedelta:
    """Reads a hole's least length: longer than zero, at most LONGEST_HOLE."""
    value = parsing.duration(text)
    if not value:
        raise BadInput("error.not_positive", value=text)
    if value > LONGEST_HOLE:
        raise BadInput(
            "error.too_long_a_hole", value=text, most=parsing.format_duration(LONGEST_HOLE)
        )
    return value


def _whole(text: str, least: int, most: int) -> int:
    """Reads ASCII digits making a number from `least` to `most`."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(most)):
        raise BadInput("error.not_in_range", value=text, least=least, most=most)
    value = int(text)
    if not least <= value <= most:
        raise BadInput("error.not_in_range", value=text, least=least, most=most)
    return value


def point(text: str) -> tuple[float, float]:
    """Reads `--near LAT,LON`: decimal degrees, latitude within ±90, longitude within ±180."""
    lat, _, lon = text.replace(" ", "").partition(",")
    if not (DEGREES.fullmatch(lat) and DEGREES.fullmatch(lon)):
        raise BadInput("error.not_a_point", value=text)
    if not (-90 <= float(lat) <= 90 and -180 <= float(lon) <= 180):
        raise BadInput("error.not_a_point", value=text)
    return float(lat), float(lon)


def within(text: str) -> float:
    """Reads `--within KM`: a distance in kilometres, more than 0 and at most FARTHEST_KM."""
    if not DISTANCE.fullmatch(text) or not 0 < float(text) <= FARTHEST_KM:
        raise BadInput("error.not_a_distance", value=text, most=int(FARTHEST_KM))
    return float(text)


def limit(text: str) -> int:
    """Reads `search --limit`: 1 to MOST_LISTED."""
    return _whole(text, 1, MOST_LISTED)


def offset(text: str) -> int:
    """Reads `search --offset`: 0 to MOST_SKIPPED."""
    return _whole(text, 0, MOST_SKIPPED)


def port(text: str) -> int:
    """Reads a TCP port: 1 to 65535."""
    return _whole(text, 1, 65535)


def booking_id(text: str) -> int:
    """Reads a booking id: ASCII digits; one no booking can have is not found, not an error."""
    if not (text.isascii() and text.isdigit()):
        raise BadInput("error.not_a_booking_id", value=text)
    if len(text.lstrip("0")) > len(str(LAST_BOOKING_ID)) or not (0 < int(text) <= LAST_BOOKING_ID):
        raise BadInput("error.unknown_booking", id=text)
    return int(text)


def start(text: str) -> str:
    """Checks `book --start`: a local or an offset date-time within the years taken in.

    The text itself is kept: cli.py's `_book` places a local time in the specialist's zone.
    """
    value = (
        parsing.local_datetime(text) if parsing.LOCAL.match(text.strip()) else parsing.instant(text)
    )
    parsing.in_years(value, text)
    return text


def language(text: str) -> str:
    """Reads a language that has a locale file."""
    if text not in i18n.languages():
        raise BadInput("error.unknown_language", value=text, known=", ".join(i18n.languages()))
    return text


def host(text: str) -> str:
    """Reads an address to listen on: a host name or an IP address."""
    if not HOST.match(text):
        raise BadInput("error.not_a_host", value=text)
    return text


def database_url(text: str) -> str:
    """Checks a database URL before it is opened: its form, its port, a SQLite file's folder.

    A plain SQLite file's URL is read here; any other is SQLAlchemy's to read.
    """
    database = parsing.sqlite_file(text)
    if database is None:
        database = _other_database(text)
    if database is not None:
        folder = os.path.dirname(database) or "."  # os.path: pathlib would slow every start
        if not os.path.isdir(folder):
            raise BadInput("error.no_database_folder", url=text, folder=folder)
        if os.path.isdir(database):
            raise BadInput("error.database_is_a_folder", url=text, path=database)
    return text


def _other_database(text: str) -> str | None:
    """The SQLite file another form of URL names, else None; refuses a malformed URL."""
    from sqlalchemy.engine import make_url

    try:
        url = make_url(text)
        port = url.port
    except Exception as error:  # SQLAlchemy names many kinds of bad URL differently
        raise BadInput("error.bad_database_url", url=text, detail=str(error)) from None
    if port is not None and not 0 < port <= 65535:
        raise BadInput("error.bad_database_port", url=text, port=port)
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database == ":memory:":
        return None
    return None if database.startswith("file:") or not database else database
