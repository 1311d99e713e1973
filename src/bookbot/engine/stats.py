"""The figures of a stretch of days: how each cancellation counts, and a specialist's booked share.

Pure: the records come from the store, the cut-offs from engine/policy.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from fractions import Fraction

from msgspec import Struct

from bookbot.engine.bookings import CLIENT, MOVED
from bookbot.engine.intervals import merge
from bookbot.engine.model import BookingStatus, Interval, Mark

BEFORE, AFTER, BY_STAFF = "before", "after", "by_staff"  # how a cancellation counts


class Record(Struct, frozen=True):
    """What the figures need of one booking (store/bookings.py `Bookings.records`)."""

    specialist: str
    service: str
    start: datetime
    end: datetime
    status: BookingStatus
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    mark: Mark | None = None
    refilled: bool = False  # confirmed from a waitlist offer (`offer_of` set)
    reason: str | None = None  # why it was cancelled (MOVED: its client moved it)


def moved(record: Record) -> bool:
    """Tells whether a cancelled booking is one its client moved to another time.

    A move (in the chat, or by taking a waitlist offer) is no cancellation: the visit
    goes on at its new time, which counts as booked.
    """
    return record.cancelled_by == CLIENT and record.reason == MOVED


def cancel_timing(record: Record, cutoff: datetime | None) -> str:
    """How a cancellation counts: BEFORE or AFTER its cut-off, or BY_STAFF.

    Only a client's own cancellation is timed: one by a specialist, an admin or the
    operator is BY_STAFF whenever it came. A client's counts BEFORE when it came strictly
    before the cut-off (without one, before the start: engine/policy.py
    `client_may_change`), else AFTER (a staff-side cut-off never binds the client's own
    late cancellations, which staff may have let through).
    """
    if record.cancelled_by != CLIENT:
        return BY_STAFF
    limit = cutoff or record.start
    return BEFORE if record.cancelled_at is not None and record.cancelled_at < limit else AFTER


def booked_share(windows: Iterable[Interval], visits: Iterable[Interval]) -> tuple[int, int]:
    """Booked and open minutes: the visits' time inside the working windows, and the windows'.

    Time booked outside the windows (an extra visit put in by hand) is not counted, so the
    booked minutes never exceed the open ones.
    """
    open_ = merge(windows)
    booked = merge(visits)
    inside = sum(
        (
            min(w.end, b.end) - max(w.start, b.start)
            for w in open_
            for b in booked
            if b.start < w.end and w.start < b.end
        ),
        timedelta(0),
    )
    total = sum((w.end - w.start for w in open_), timedelta(0))
    return _minutes(inside), _minutes(total)


def share(booked: int, open_: int) -> Fraction | None:
    """The booked fraction of the open minutes, exactly; None without open minutes."""
    return Fraction(booked, open_) if open_ else None


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds()) // 60
