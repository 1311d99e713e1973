"""A small clinic's SQLite file read with the standard library alone: a query's fast start.

A one-shot query of a small clinic needs its catalog and a few specialists' bookings;
importing SQLAlchemy takes longer than answering it (bench/startup.py). So the command
line opens such a file read-only with sqlite3 and reads the rows the repositories read,
made into engine values by the same converters (store/catalog_rows.py, booking_rows.py).
Where it would not answer alike or sooner, `open_reader` gives None and the command takes
the usual path: the file is missing or behind the newest migration (that path upgrades
it), or the clinic has more than SMALL specialists (the day index answers those sooner).
"""

from __future__ import annotations

import os
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from types import SimpleNamespace, TracebackType
from typing import Any, cast

from bookbot.engine.model import Block, Booking, Business, Override, Service, Specialist
from bookbot.engine.model import WeeklyEntry as Weekly
from bookbot.store import holiday_dates
from bookbot.store.booking_rows import booking_of, occupies
from bookbot.store.catalog_rows import (
    block_of,
    business_of,
    location_of,
    override_of,
    service_of,
    specialist_of,
    weekly_of,
)
from bookbot.store.version import HEAD

SMALL = 100  # specialists; a larger clinic's questions are answered from the day index


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# How SQLAlchemy's column types (store/tables.py) store values in SQLite, for the columns
# read here; tests/store/test_reader.py checks the list against the tables' own types.
DECODE: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(("start", "end"), time.fromisoformat),
    **dict.fromkeys(("first", "last", "valid_from", "valid_until"), date.fromisoformat),
    **dict.fromkeys(
        ("start_at", "end_at", "hold_until", "attending_at", "marked_at", "created_at")
        + ("cancelled_at",),
        _instant,
    ),
    "online": bool,
}
TABLES = (  # what is read, each in the repository's order
    ("businesses", "id"),
    ("locations", "position, id"),
    ("services", "position, id"),
    ("specialists", "id"),
    ("specialist_services", "position"),
    ("weekly_entries", "position, id"),
    ("overrides", "id"),
    ("blocks", "id"),
)


class Reader:
    """A read-only SQLite connection standing in for the Database in a one-shot query."""

    indexed = False  # no day index is read: "any specialist" is asked of the engine

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.dialect = "sqlite"
        self.cache: dict = {}  # what a chat's taps share; a one-shot query has none

    def reading(self) -> Reading:
        """A unit of work that only reads, in one read transaction."""
        return Reading(self.connection)

    async def close(self) -> None:
        """Closes the connection."""
        self.connection.close()


def open_reader(path: str) -> Reader | None:
    """A reader of the SQLite file at `path`, or None where the usual path must answer.

    `path` holds no `?`, `#` or `%` (parsing.sqlite_file), so it names the file as a URI.
    """
    if not os.path.isfile(path):
        return None
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        connection.execute("PRAGMA busy_timeout=30000")
        (version,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        (count,) = connection.execute("SELECT count(*) FROM specialists").fetchone()
    except (sqlite3.Error, TypeError):  # not a bookbot file yet, or one being created
        connection.close()
        return None
    if version != HEAD or count > SMALL:
        connection.close()
        return None
    connection.isolation_level = None  # Reading begins and ends its own transaction
    connection.row_factory = _row
    return Reader(connection)


def _row(cursor: sqlite3.Cursor, values: Sequence[Any]) -> SimpleNamespace:
    """A row as the converters read one: attributes by column, values decoded."""
    names = [column[0] for column in cursor.description]
    return SimpleNamespace(
        **{
            name: value if value is None or name not in DECODE else DECODE[name](value)
            for name, value in zip(names, values, strict=True)
        }
    )


class Reading:
    """One read transaction: the catalog and the bookings, as a read-only unit of work."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.catalog = Catalog(connection)
        self.bookings = Bookings(connection)

    async def __aenter__(self) -> Reading:
        self.connection.execute("BEGIN")  # every read sees one state of the file
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.connection.execute("ROLLBACK")


class Catalog:
    """The business, its services and specialists, read once per unit."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.loaded: tuple[Business | None, list[Service], list[Specialist]] | None = None

    def _load(self) -> tuple[Business | None, list[Service], list[Specialist]]:
        if self.loaded is None:
            self.loaded = self._read()
        return self.loaded

    def _read(self) -> tuple[Business | None, list[Service], list[Specialist]]:
        read = {t: self.connection.execute(f"SELECT * FROM {t} ORDER BY {o}") for t, o in TABLES}
        plain = self.connection.cursor()
        plain.row_factory = None  # tuples, as a DB-API cursor gives them
        holiday_dates.hand_in(plain.execute(holiday_dates.SELECT_ALL))
        row = read["businesses"].fetchone()
        places = tuple(location_of(place) for place in read["locations"])
        business = None if row is None else business_of(row, places)
        services = [service_of(r) for r in read["services"]]
        offers: dict[str, list[str]] = defaultdict(list)
        weekly: dict[str, list[Weekly]] = defaultdict(list)
        overrides: dict[str, list[Override]] = defaultdict(list)
        blocks: dict[str, list[Block]] = defaultdict(list)
        for offer in read["specialist_services"]:
            offers[offer.specialist_id].append(offer.service_id)
        for line in read["weekly_entries"]:
            weekly[line.specialist_id].append(weekly_of(line))
        for change in read["overrides"]:
            overrides[change.specialist_id].append(override_of(change))
        for block in read["blocks"]:
            blocks[block.specialist_id].append(block_of(block))
        found = [specialist_of(r, offers, weekly, overrides, blocks) for r in read["specialists"]]
        return business, services, found

    async def business(self) -> Business | None:
        """The business defaults, or None before anything was imported."""
        return self._load()[0]

    async def service(self, service_id: str) -> Service | None:
        """One service by id."""
        return next((s for s in self._load()[1] if s.id == service_id), None)

    async def specialist(self, specialist_id: str) -> Specialist | None:
        """One specialist by id."""
        found = await self.specialists([specialist_id])
        return found[0] if found else None

    async def specialists(
        self, ids: Sequence[str] | None = None, *, offering: str | None = None
    ) -> list[Specialist]:
        """Specialists by id: all, those ids, those offering a service."""
        return [
            s
            for s in self._load()[2]
            if (ids is None or s.id in ids) and (offering is None or offering in s.services)
        ]


class Bookings:
    """The bookings of some specialists."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    async def bookings(
        self,
        *,
        specialists: Sequence[str] | None = None,
        since: datetime | None = None,
        live_at: datetime | None = None,
    ) -> list[Booking]:
        """Bookings by start, filtered; with `live_at`, only those occupying time then."""
        where: list[str] = ["1 = 1"]  # every filter is a fixed text; values are bound
        values: list[str] = []
        if specialists is not None:
            where.append(f"b.specialist_id IN ({','.join('?' * len(specialists))})")
            values.extend(specialists)
        if since is not None:
            where.append("b.end_at > ?")
            values.append(_stored(since))
        rows = self.connection.execute(
            "SELECT b.*, c.name AS client_name, c.phone AS client_phone, "
            "c.telegram_id AS client_telegram_id FROM bookings b "
            "LEFT JOIN clients c ON c.id = b.client_id "
            f"WHERE {' AND '.join(where)} ORDER BY b.start_at, b.id",
            values,
        )
        found = [booking_of(row, cast(Any, _client(row))) for row in rows]
        return found if live_at is None else [b for b in found if occupies(b, live_at)]


def _stored(value: datetime) -> str:
    """An instant as SQLite holds it (store/tables.py UTCDateTime): UTC text, microseconds."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _client(row: SimpleNamespace) -> SimpleNamespace | None:
    if row.client_id is None:
        return None
    return SimpleNamespace(
        name=row.client_name, phone=row.client_phone, telegram_id=row.client_telegram_id
    )
