"""The collaborators every entry point is handed: database, settings, clock and sender.

Its own module, not wiring.py's: bot/ reads Deps in every handler, and wiring.py imports
bot/ to build it, so Deps living in wiring.py would make an import cycle. Entry points
take the database handle from here (`open_database`, `Database` for their signatures):
they import nothing of store/ (tests/test_layers.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bookbot.config import Settings
from bookbot.notify.sender import Sender
from bookbot.store.db import DEFAULT_URL, Database

# cli.py imports this module to start; Policy's module would bring the outbox and every table.
if TYPE_CHECKING:
    from bookbot.notify.messages import Policy

__all__ = ["DEFAULT_URL", "Clock", "Database", "Deps", "open_database", "system_clock"]

Clock = Callable[[], datetime]


def open_database(url: str) -> Database:
    """The database at `url`; its first unit of work brings the schema up to date. Close it."""
    return Database(url)


def system_clock() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
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
