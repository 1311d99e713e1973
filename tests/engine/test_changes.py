"""Schedule changes as pure functions, and which bookings a change displaces."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bookbot.engine import changes
from bookbot.engine.model import (
    Block,
    Booking,
    BookingStatus,
    Business,
    Hours,
    OverrideType,
    Specialist,
    WeeklyEntry,
)

BUSINESS = Business("Europe/Berlin")
ANN = Specialist(
    "ann",
    "Ann",
    weekly=(WeeklyEntry(frozenset({0, 1, 2}), Hours(timedelta(minutes=30), time(9), time(13))),),
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+01:00")


def visit(start: str, status: BookingStatus = BookingStatus.CONFIRMED) -> Booking:
    begin = at(start)
    return Booking("ann", "checkup", begin, begin + timedelta(minutes=30), status, id=1)


def test_a_day_off_twice_on_one_date_keeps_one_with_the_new_reason() -> None:
    once = changes.day_off(ANN, date(2026, 12, 2), "training")
    twice = changes.day_off(once, date(2026, 12, 2), "ill")
    assert [(o.type, o.reason) for o in twice.overrides] == [(OverrideType.DAY_OFF, "ill")]


def test_custom_hours_replace_those_of_the_same_date_only() -> None:
    first = changes.custom_hours(ANN, date(2026, 12, 2), Hours(start=time(10), end=time(12)))
    second = changes.custom_hours(first, date(2026, 12, 2), Hours(start=time(14), end=time(16)))
    third = changes.custom_hours(second, date(2026, 12, 3), Hours(start=time(8), end=time(9)))
    assert [(o.first.day, o.hours.start) for o in third.overrides] == [(2, time(14)), (3, time(8))]


def test_displaced_are_live_bookings_that_fit_before_and_not_after() -> None:
    inside, outside = visit("2026-12-02T09:00"), visit("2026-12-02T15:00")
    gone = visit("2026-12-02T10:00", BookingStatus.CANCELLED)
    after = changes.day_off(ANN, date(2026, 12, 2))
    assert changes.displaced(BUSINESS, ANN, after, [inside, outside, gone]) == [inside]
    narrowed = changes.custom_hours(ANN, date(2026, 12, 2), Hours(start=time(9), end=time(9, 30)))
    assert changes.displaced(BUSINESS, ANN, narrowed, [inside]) == []
    blocked = changes.block(ANN, Block(at("2026-12-02T09:15"), at("2026-12-02T09:45")))
    assert changes.displaced(BUSINESS, ANN, blocked, [inside]) == [inside]
    assert changes.displaced(
        BUSINESS, ANN, changes.holidays(ANN, ("DE-BY",)), [visit("2027-01-06T09:00")]
    ) == [visit("2027-01-06T09:00")]


def test_unblock_takes_away_the_block_covering_a_time() -> None:
    lunch = Block(at("2026-12-01T12:00"), at("2026-12-01T13:00"), "lunch")
    with_lunch = changes.block(ANN, lunch)
    assert changes.covering(with_lunch, at("2026-12-01T12:59")) == lunch
    assert changes.covering(with_lunch, at("2026-12-01T13:00")) is None
    assert changes.unblock(with_lunch, lunch).blocks == ()


def test_a_wall_time_becomes_an_instant_of_that_zone() -> None:
    assert changes.wall_instant(date(2026, 7, 1), time(9), "Europe/Berlin").isoformat() == (
        "2026-07-01T09:00:00+02:00"
    )
