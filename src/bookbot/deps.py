"""The collaborators every entry point is handed: database, settings, clock and sender.

Its own module, not wiring.py's: bot/ reads Deps in every handler, and wiring.py imports
bot/ to build it, so Deps living in wiring.py would make an import cycle. Entry points
take the database handle from here (`open_database`, `Database` for their signatures):
they import nothing of store/ (tests/test_layers.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from msgspec import Struct

from bookbot.parsing import sqlite_file
from bookbot.store.version import DEFAULT_URL

# cli.py imports this module to start; Policy's module would bring the outbox and every
# table, and Database's SQLAlchemy, which a query on the plain reader never loads.
if TYPE_CHECKING:
    from bookbot.config import Settings
    from bookbot.notify.messages import Policy
    from bookbot.notify.sender import Sender
    from bookbot.store.db import Database
    from bookbot.store.reader import Reader

__all__ = [
    "DEFAULT_URL",
    "Clock",
    "Database",
    "Deps",
    "open_database",
    "open_reader",
    "Reader",
    "system_clock",
]

Clock = Callable[[], datetime]


def __getattr__(name: str) -> Any:
    """`Database` and `Reader`, imported when first named (PEP 562): Database brings SQLAlchemy."""
    if name == "Database":
        from bookbot.store.db import Database

        return Database
    if name == "Reader":
        from bookbot.store.reader import Reader

        return Reader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_database(url: str) -> Database:
    """The database at `url`; its first unit of work brings the schema up to date. Close it."""
    from bookbot.store.db import Database

    return Database(url)


def open_reader(url: str) -> Reader | None:
    """A small clinic's current SQLite file, read with sqlite3 alone; else None. Close it."""
    from bookbot.store.reader import open_reader

    path = sqlite_file(url)
    return None if path is None else open_reader(path)


def system_clock() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


class Deps(Struct, frozen=True):
    """The collaborators, passed in by wiring.py so tests can hand in their own."""

    db: Database
    settings: Settings
    clock: Clock = system_clock
    sender: Sender | None = None  # None where nothing is sent (the web pages alone)

    @property
    def policy(self) -> Policy:
        """When reminders and review requests go out, from the settings."""
        from bookbot.notify.messages import Policy

        return Policy(self.settings.reminders, self.settings.review_after)
