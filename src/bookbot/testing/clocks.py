"""Clocks a test moves by hand, to hand to code that asks for the time."""

from __future__ import annotations

from datetime import datetime, timedelta

from msgspec import Struct


class ManualClock(Struct):
    """A clock that says `now` until the test moves it; call it for the time.

    It fits wherever the bot takes a clock (a callable returning an aware datetime).
    """

    now: datetime

    def __call__(self) -> datetime:
        """The time the test set."""
        return self.now

    def advance(self, **delta: float) -> None:
        """Moves the clock on by a timedelta's keywords, e.g. ``advance(hours=2)``."""
        self.now += timedelta(**delta)
