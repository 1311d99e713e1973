"""A booking's life: which visits may be reviewed, and when."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bookbot.engine.life import may_review
from bookbot.engine.model import Booking, BookingStatus

START = datetime.fromisoformat("2026-12-01T10:20:00+01:00")
END = START + timedelta(minutes=30)


def visit(status: BookingStatus = BookingStatus.CONFIRMED) -> Booking:
    return Booking("ann", "checkup", START, END, status, id=7)


def test_a_visit_that_ended_may_be_reviewed_from_its_end_on() -> None:
    assert may_review(visit(), END) is None
    assert may_review(visit(), END + timedelta(days=30)) is None


@pytest.mark.parametrize("now", [START - timedelta(days=1), START, END - timedelta(seconds=1)])
def test_a_visit_not_ended_yet_is_refused(now: datetime) -> None:
    assert may_review(visit(), now) == "review.too_soon"


@pytest.mark.parametrize("status", [BookingStatus.CANCELLED, BookingStatus.HELD,
                                    BookingStatus.EXPIRED])
def test_a_visit_that_did_not_take_place_is_refused_even_long_after(status) -> None:
    assert may_review(visit(status), END + timedelta(days=1)) == "review.no_visit"


def test_no_booking_is_refused_as_unknown() -> None:
    assert may_review(None, END) == "review.unknown"
