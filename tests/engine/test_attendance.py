"""Attendance: "I'll come", Arrived / No-show marks and until when, and what no-shows bring."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from msgspec.structs import replace

from bookbot.engine.bookings import (
    ADMIN,
    BLOCK,
    CLIENT,
    OPERATOR,
    PREPAY,
    SPECIALIST,
    after_no_shows,
    marks_close,
    may_attend,
    may_book_online,
    may_mark,
    may_review,
    no_shows,
)
from bookbot.engine.model import Booking, BookingStatus, Mark

BERLIN = "Europe/Berlin"
START = datetime.fromisoformat("2026-12-01T10:20:00+01:00")
END = START + timedelta(minutes=30)


def visit(
    status: BookingStatus = BookingStatus.CONFIRMED, start: datetime = START, **marks: object
) -> Booking:
    booked = Booking("ann", "checkup", start, start + timedelta(minutes=30), status, id=7)
    return replace(booked, **marks)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


# -- "I'll come" ---------------------------------------------------------------------------


def test_the_client_says_they_will_come_to_a_confirmed_visit_until_it_begins() -> None:
    assert may_attend(visit(), CLIENT, START - timedelta(days=2)) is None
    assert may_attend(visit(), CLIENT, START - timedelta(seconds=1)) is None
    assert may_attend(visit(), CLIENT, START) == "refused.begun"
    assert may_attend(visit(), CLIENT, END + timedelta(hours=1)) == "refused.begun"


def test_saying_it_twice_is_no_error() -> None:
    said = visit(attending_at=START - timedelta(days=1))
    assert may_attend(said, CLIENT, START - timedelta(hours=1)) is None


@pytest.mark.parametrize(
    "status", [BookingStatus.HELD, BookingStatus.CANCELLED, BookingStatus.EXPIRED]
)
def test_only_a_confirmed_visit_is_attended(status: BookingStatus) -> None:
    assert may_attend(visit(status), CLIENT, START - timedelta(days=1)) == "refused.not_live"


@pytest.mark.parametrize("actor", [SPECIALIST, ADMIN, OPERATOR])
def test_only_the_client_says_they_will_come(actor: str) -> None:
    assert may_attend(visit(), actor, START - timedelta(days=1)) == "refused.clients_only"


# -- marks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [SPECIALIST, ADMIN, OPERATOR])
def test_staff_mark_from_the_start_until_the_end_of_the_next_local_day(actor: str) -> None:
    assert may_mark(visit(), actor, START - timedelta(seconds=1), BERLIN) == "refused.not_begun"
    assert may_mark(visit(), actor, START, BERLIN) is None
    # The visit is on Tuesday 1 December: marks close at Thursday 00:00 in Berlin.
    assert may_mark(visit(), actor, utc("2026-12-02T22:59:59"), BERLIN) is None
    assert may_mark(visit(), actor, utc("2026-12-02T23:00:00"), BERLIN) == "refused.marks_closed"


def test_a_mark_may_be_changed_within_that_time() -> None:
    marked = visit(mark=Mark.NO_SHOW, marked_at=START + timedelta(minutes=15))
    assert may_mark(marked, SPECIALIST, START + timedelta(days=1), BERLIN) is None


def test_a_client_never_marks() -> None:
    assert may_mark(visit(), CLIENT, START + timedelta(hours=1), BERLIN) == "refused.staff_only"


@pytest.mark.parametrize(
    "status", [BookingStatus.HELD, BookingStatus.CANCELLED, BookingStatus.EXPIRED]
)
def test_only_a_confirmed_visit_is_marked(status: BookingStatus) -> None:
    assert may_mark(visit(status), ADMIN, START + timedelta(hours=1), BERLIN) == "refused.not_live"


def test_the_next_day_is_the_specialists_local_one() -> None:
    """00:30 on 2 December in Tokyo is still 1 December in UTC: marks close 4 December, Tokyo."""
    start = datetime.fromisoformat("2026-12-02T00:30:00+09:00")
    assert marks_close(visit(start=start), "Asia/Tokyo") == utc("2026-12-03T15:00:00")
    assert marks_close(visit(start=start), BERLIN) == utc("2026-12-02T23:00:00")


def test_marks_close_on_a_day_that_is_25_hours_long() -> None:
    """Berlin leaves summer time on Sunday 25 October 2026: that Sunday lasts 25 hours."""
    saturday = datetime.fromisoformat("2026-10-24T10:00:00+02:00")
    closes = utc("2026-10-25T23:00:00")  # Monday 00:00 CET, 49 hours after Saturday 00:00 CEST
    assert marks_close(visit(start=saturday), BERLIN) == closes
    assert may_mark(visit(start=saturday), ADMIN, utc("2026-10-25T22:30:00"), BERLIN) is None
    assert may_mark(visit(start=saturday), ADMIN, closes, BERLIN) == "refused.marks_closed"


def test_marks_close_on_a_day_that_is_23_hours_long() -> None:
    """Berlin enters summer time on Sunday 29 March 2026: that Sunday lasts 23 hours."""
    saturday = datetime.fromisoformat("2026-03-28T10:00:00+01:00")
    closes = utc("2026-03-29T22:00:00")  # Monday 00:00 CEST, 47 hours after Saturday 00:00 CET
    assert marks_close(visit(start=saturday), BERLIN) == closes
    assert may_mark(visit(start=saturday), ADMIN, closes - timedelta(seconds=1), BERLIN) is None
    assert may_mark(visit(start=saturday), ADMIN, closes, BERLIN) == "refused.marks_closed"


def test_marks_close_when_the_clocks_skip_midnight() -> None:
    """Santiago skips from 00:00 to 01:00 on 6 September 2026: that day begins at 01:00 -03."""
    friday = datetime.fromisoformat("2026-09-04T10:00:00-04:00")
    assert marks_close(visit(start=friday), "America/Santiago") == utc("2026-09-06T04:00:00")


# -- reviews -------------------------------------------------------------------------------


def test_a_no_show_is_not_reviewed_and_an_arrived_visit_is() -> None:
    later = END + timedelta(days=1)
    assert may_review(visit(mark=Mark.NO_SHOW, marked_at=END), later) == "review.no_show"
    assert may_review(visit(mark=Mark.ARRIVED, marked_at=END), later) is None
    assert may_review(visit(), later) is None  # never marked: counts as arrived


# -- counting no-shows ---------------------------------------------------------------------

NOW = utc("2026-12-01T12:00:00")
MARKS = [utc("2026-09-01T09:00:00"), utc("2026-09-02T12:00:00"), utc("2026-11-30T09:00:00")]


def test_no_shows_count_within_the_window_back_from_now() -> None:
    assert no_shows(MARKS, NOW, timedelta(days=90)) == 1  # 2 September 12:00 is exactly 90d
    assert no_shows(MARKS, NOW, timedelta(days=91)) == 2
    assert no_shows(MARKS, NOW, timedelta(days=92)) == 3
    assert no_shows(MARKS, NOW, timedelta(hours=1)) == 0


def test_without_a_window_every_no_show_counts() -> None:
    assert no_shows(MARKS, NOW, None) == 3
    assert no_shows([], NOW, None) == 0


@pytest.mark.parametrize("action", [BLOCK, PREPAY])
def test_reaching_the_limit_brings_the_action(action: str) -> None:
    assert after_no_shows(1, 2, action) is None
    assert after_no_shows(2, 2, action) == action
    assert after_no_shows(5, 2, action) == action


def test_without_a_limit_or_an_action_nothing_follows() -> None:
    assert after_no_shows(50, None, BLOCK) is None
    assert after_no_shows(50, 2, None) is None
    assert after_no_shows(0, 1, BLOCK) is None


@pytest.mark.parametrize("action", [BLOCK, PREPAY])
def test_online_booking_is_refused_from_the_limit_on_prepay_too_until_payments_exist(
    action: str,
) -> None:
    assert may_book_online(1, 2, action) is None
    assert may_book_online(2, 2, action) == "refused.no_shows"
    assert may_book_online(9, None, action) is None
