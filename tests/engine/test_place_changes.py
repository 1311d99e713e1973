"""Putting time at a place (engine/changes.py): lines split by day, dates, visits that move."""

from __future__ import annotations

from datetime import date, datetime, time

from bookbot import clinic_file
from bookbot.engine import changes, validate
from bookbot.engine.model import Booking, BookingStatus, Hours, OverrideType
from tests.clinics import CHAIN

CLINIC = clinic_file.read(CHAIN)
ANN = next(s for s in CLINIC.specialists if s.id == "ann")  # Mon/Tue at home (Mitte), Thu both
THU_11 = datetime.fromisoformat("2026-12-03T11:00:00+01:00")
TUE_9 = datetime.fromisoformat("2026-12-01T09:00:00+01:00")


def visit(start: datetime, status: BookingStatus = BookingStatus.CONFIRMED) -> Booking:
    return Booking("ann", "checkup", start, start.replace(minute=30), status, location="mitte")


def test_a_line_on_other_days_too_is_split_and_only_the_asked_days_move() -> None:
    moved = changes.placed_weekly(ANN, "spandau", frozenset({1}))  # Tuesday
    assert [(sorted(e.days), e.hours.location) for e in moved.weekly] == [
        ([0], None),
        ([1], "spandau"),
        ([3], "spandau"),
        ([3], None),
    ]
    again = changes.placed_weekly(moved, "spandau", frozenset({1, 3}))
    assert [(sorted(e.days), e.hours.location) for e in again.weekly] == [
        ([0], None),
        ([1], "spandau"),
        ([3], "spandau"),  # named Spandau already: left whole, not split
        ([3], "spandau"),
    ]
    assert changes.works_on(ANN, frozenset({3})) and not changes.works_on(ANN, frozenset({5}))


def test_a_dates_hours_move_and_a_clash_with_the_weekly_hours_is_found() -> None:
    day = date(2026, 11, 30)
    extra = changes.extra_slots(ANN, day, Hours(slot=ANN.weekly[0].hours.slot, times=(time(10),)))
    assert [o.type for o in changes.dated_hours(extra, day)] == [OverrideType.EXTRA_SLOTS]
    assert changes.dated_hours(extra, date(2026, 12, 1)) == []
    moved = changes.placed_on(extra, "spandau", day)
    assert moved.overrides[-1].hours is not None
    assert moved.overrides[-1].hours.location == "spandau"
    problems = validate.places(moved, CLINIC.business, "")
    assert [p.key for p in problems] == ["file.overlaps_elsewhere"]  # Monday 09-11 at Mitte


def test_live_visits_in_windows_now_elsewhere_move_and_others_stay() -> None:
    after = changes.placed_weekly(ANN, "spandau", frozenset({3}))
    coming = [visit(THU_11), visit(TUE_9), visit(THU_11, BookingStatus.CANCELLED)]
    assert changes.moved(CLINIC.business, ANN, after, coming) == [(coming[0], "spandau")]
    based = changes.based(ANN, "salzburg")
    assert based.location == "salzburg"
    assert changes.moved(CLINIC.business, ANN, based, coming) == [
        (coming[0], "salzburg"),
        (coming[1], "salzburg"),
    ]
