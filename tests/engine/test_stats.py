"""How a cancellation counts, and the booked share of the working windows."""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction

from msgspec.structs import replace

from bookbot.engine import stats
from bookbot.engine.bookings import ADMIN, CLIENT, MOVED, OPERATOR, SPECIALIST
from bookbot.engine.model import BookingStatus, Interval

START = datetime.fromisoformat("2026-12-01T09:00:00+00:00")


def cancelled(by: str, hours_ahead: float) -> stats.Record:
    return stats.Record(
        "ann",
        "checkup",
        START,
        START + timedelta(hours=1),
        BookingStatus.CANCELLED,
        cancelled_at=START - timedelta(hours=hours_ahead),
        cancelled_by=by,
    )


def test_a_clients_cancellation_is_timed_against_the_cutoff() -> None:
    cutoff = START - timedelta(hours=24)
    assert stats.cancel_timing(cancelled(CLIENT, 25), cutoff) == stats.BEFORE
    assert stats.cancel_timing(cancelled(CLIENT, 24), cutoff) == stats.AFTER  # at it: too late
    assert stats.cancel_timing(cancelled(CLIENT, 1), cutoff) == stats.AFTER


def test_without_a_cutoff_the_start_is_the_limit() -> None:
    assert stats.cancel_timing(cancelled(CLIENT, 0.5), None) == stats.BEFORE
    assert stats.cancel_timing(cancelled(CLIENT, 0), None) == stats.AFTER


def test_staff_cancellations_count_apart_whenever_they_came() -> None:
    cutoff = START - timedelta(hours=24)
    for by in (SPECIALIST, ADMIN, OPERATOR):
        assert stats.cancel_timing(cancelled(by, 48), cutoff) == stats.BY_STAFF
        assert stats.cancel_timing(cancelled(by, 1), cutoff) == stats.BY_STAFF


def hour(h: int, minutes: int = 0) -> datetime:
    return START.replace(hour=h, minute=minutes)


def test_only_a_clients_move_is_a_move() -> None:
    assert stats.moved(replace(cancelled(CLIENT, 48), reason=MOVED))
    assert not stats.moved(cancelled(CLIENT, 48))
    assert not stats.moved(replace(cancelled(ADMIN, 48), reason=MOVED))  # staff's own words


def test_the_booked_share_counts_only_time_inside_the_windows() -> None:
    windows = [Interval(hour(9), hour(13)), Interval(hour(14), hour(16))]
    visits = [
        Interval(hour(9), hour(10)),
        Interval(hour(12, 30), hour(14, 30)),  # half in, half out, half in again
        Interval(hour(17), hour(18)),  # outside: not counted
    ]
    assert stats.booked_share(windows, visits) == (120, 360)
    assert stats.share(120, 360) == Fraction(1, 3)


def test_no_open_minutes_have_no_share() -> None:
    assert stats.booked_share([], [Interval(hour(9), hour(10))]) == (0, 0)
    assert stats.share(0, 0) is None
