"""The collaborators every entry point is handed: database, settings, clock and sender.

Its own module, not wiring.py's: bot/ reads Deps in every handler, and wiring.py imports
bot/ to build it, so Deps living in wiring.py would make an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bookbot.config import Settings
from bookbot.notify.messages import Policy
from bookbot.notify.sender import Sender
from bookbot.store.db import Database

Clock = Callable[[], datetime]


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
        return Policy(self.settings.reminders, self.settings.review_after)
