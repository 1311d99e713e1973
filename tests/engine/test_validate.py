"""Schedule invariants checked on engine values, each problem named by its literal path."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bookbot.engine import validate
from bookbot.engine.model import (
    Block,
    Booking,
    BookingStatus,
    Hours,
    Override,
    OverrideType,
    Service,
    Specialist,
    WeeklyEntry,
)
from bookbot.engine.problems import Problem

WINDOW = Hours(timedelta(minutes=30), time(9), time(13))
ANN = Specialist("ann", "Ann", services=("checkup",), weekly=(WeeklyEntry(frozenset({0}), WINDOW),))


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 2, hour, minute, tzinfo=UTC)


def named(problems: list[Problem]) -> list[tuple[str, str, dict[str, object]]]:
    return [(p.path, p.key, p.params) for p in problems]


def test_a_sound_specialist_and_catalog_have_no_problems() -> None:
    assert validate.specialist(ANN, {"checkup"}, "specialists[0]") == []
    assert validate.services([Service("checkup", "Check-up", timedelta(minutes=30))]) == []


def test_every_part_of_a_specialist_is_named_by_its_path() -> None:
    broken = Specialist(
        "ann",
        "Ann",
        services=("checkup", "xray", "checkup"),
        weekly=(
            WeeklyEntry(frozenset({0}), WINDOW),
            WeeklyEntry(
                frozenset({1}),
                Hours(timedelta(minutes=1), time(13), time(9)),
                valid_from=date(2026, 6, 1),
                valid_until=date(2026, 5, 1),
            ),
        ),
        overrides=(
            Override(OverrideType.DAY_OFF, date(2026, 1, 5), date(2026, 1, 5)),
            Override(OverrideType.VACATION, date(2026, 8, 10), date(2026, 8, 1)),
            Override(
                OverrideType.CUSTOM_HOURS,
                date(2126, 1, 1),
                date(2126, 1, 1),
                Hours(timedelta(minutes=30), time(9), time(10), break_after=timedelta(hours=25)),
            ),
        ),
        blocks=(Block(at(10), at(12)), Block(at(12), at(12))),
        timezone="Mars/Olympus",
        holidays=("XX-YY",),
    )
    assert named(validate.specialist(broken, {"checkup"}, "specialists[1]")) == [
        ("specialists[1].timezone", "error.unknown_timezone", {"value": "Mars/Olympus"}),
        ("specialists[1].services[1]", "error.unknown_service", {"id": "xray"}),
        ("specialists[1].services[2]", "file.offered_twice", {"id": "checkup"}),
        (
            "specialists[1].weekly[1].slot",
            "file.duration_out_of_range",
            {"value": "1m", "least": "5m", "most": "24h"},
        ),
        ("specialists[1].weekly[1].end", "error.not_after", {"other": "start"}),
        ("specialists[1].weekly[1].valid_until", "error.before", {"other": "valid_from"}),
        ("specialists[1].overrides[1].to", "error.before", {"other": "from"}),
        (
            "specialists[1].overrides[2].date",
            "file.date_out_of_range",
            {"value": "2126-01-01", "first": "2000-01-01", "last": "2099-12-31"},
        ),
        (
            "specialists[1].overrides[2].break_after",
            "file.duration_out_of_range",
            {"value": "25h", "least": "0m", "most": "24h"},
        ),
        ("specialists[1].blocks[1].end", "error.not_after", {"other": "start"}),
        ("specialists[1].holidays", "error.unknown_calendar", {"value": "XX-YY"}),
    ]


def test_too_many_slot_times_and_calendars() -> None:
    starts = tuple(time(hour, minute) for hour in range(8) for minute in range(0, 60, 5))
    many = Hours(timedelta(minutes=5), times=starts)
    assert named(validate.hours(many, "overrides[0]")) == [
        ("overrides[0].times", "file.too_many", {"most": 80})
    ]
    crowded = Specialist("ann", "Ann", holidays=("DE",) * 11)
    assert named(validate.specialist(crowded, set(), "")) == [
        ("holidays", "file.too_many", {"most": 10})
    ]


def test_ids_given_twice_and_services_too_long() -> None:
    catalog = [Service("a", "A"), Service("b", "B", timedelta(days=91)), Service("a", "A again")]
    assert named(validate.services(catalog)) == [
        ("services[2].id", "error.duplicate_id", {"id": "a"}),
        (
            "services[1].duration",
            "file.duration_out_of_range",
            {"value": "2184h", "least": "1m", "most": "2160h"},
        ),
    ]
    assert validate.unique_ids([("bookings[0]", None), ("bookings[1]", None)]) == []


def test_one_telegram_account_links_one_specialist() -> None:
    assert named(
        validate.linked_once(
            [("specialists[0]", 7), ("specialists[1]", None), ("specialists[2]", 7)]
        )
    ) == [("specialists[2].telegram_id", "file.linked_twice", {"id": 7, "other": "specialists[0]"})]


def test_live_bookings_of_one_specialist_may_not_overlap() -> None:
    def visit(who: str, hour: int, status: BookingStatus = BookingStatus.CONFIRMED) -> Booking:
        return Booking(who, "checkup", at(hour), at(hour, 45), status)

    placed = [
        ("bookings[0]", visit("ann", 10)),
        ("bookings[3]", visit("ben", 10)),
        ("bookings[4]", visit("ann", 10, BookingStatus.CANCELLED)),
        ("bookings[7]", visit("ann", 9)),
    ]
    assert named(validate.overlaps(placed)) == []
    placed.append(("bookings[9]", Booking("ann", "checkup", at(9, 30), at(10, 15))))
    assert named(validate.overlaps(placed)) == [
        ("bookings[9].start", "error.overlaps_booking", {"other": "bookings[7]"}),
        ("bookings[9].start", "error.overlaps_booking", {"other": "bookings[0]"}),
    ]


def test_a_line_without_an_id_naming_another_booking_is_named() -> None:
    first = Booking("ann", "checkup", at(10), at(11), id=5)
    again = Booking("ann", "checkup", at(10), at(11))
    assert named(validate.named_twice([("bookings[0]", first), ("bookings[2]", again)])) == [
        ("bookings[2]", "file.booking_twice", {"other": "bookings[0]"})
    ]
    assert named(validate.named_twice([("bookings[0]", again), ("bookings[2]", first)])) == [
        ("bookings[0]", "file.booking_twice", {"other": "bookings[2]"})
    ]
