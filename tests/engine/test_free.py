"""Steps 4-5 of the contract: occupied length, busy time, notice, horizon, service length."""

from __future__ import annotations

from datetime import UTC, datetime

from bookbot.engine.model import (
    Block,
    Booking,
    BookingStatus,
    Business,
    Interval,
    Rules,
    Specialist,
)
from bookbot.engine.search import day_slots, slots
from bookbot.engine.workday import Plan
from tests.engine.helpers import (
    BERLIN,
    NEW_YORK,
    at,
    busy,
    by_day,
    day,
    extra,
    minutes,
    offered,
    offered_spans,
    schedule,
    times,
    weekly,
    window,
)

GRID = weekly("mon tue wed thu fri", window("09:00", "13:00", slot=30, brk=10))
HOURLY = weekly("mon tue wed thu fri sat sun", window("09:00", "12:00"))


def test_a_block_removes_every_candidate_it_overlaps() -> None:
    mon = schedule(weekly=[GRID], busy=[busy("2026-12-07", "10:30", "11:00")])
    assert offered(mon, "2026-12-07") == ["09:00", "09:40", "11:00", "11:40", "12:20"]
    assert offered(mon, "2026-12-08") == ["09:00", "09:40", "10:20", "11:00", "11:40", "12:20"]


def test_busy_time_in_a_break_removes_nothing() -> None:
    mon = schedule(weekly=[GRID], busy=[busy("2026-12-07", "09:30", "09:40")])
    assert offered(mon, "2026-12-07") == ["09:00", "09:40", "10:20", "11:00", "11:40", "12:20"]


def test_intervals_are_half_open() -> None:
    before = schedule(weekly=[HOURLY], busy=[busy("2026-12-07", "09:00", "10:00")])
    after = schedule(weekly=[HOURLY], busy=[busy("2026-12-07", "11:00", "11:30")])
    across = schedule(weekly=[HOURLY], busy=[busy("2026-12-07", "10:59", "11:01")])
    assert offered(before, "2026-12-07") == ["10:00", "11:00"]
    assert offered(after, "2026-12-07") == ["09:00", "10:00"]
    assert offered(across, "2026-12-07") == ["09:00"]


def test_busy_time_given_in_another_zone_counts_by_its_instant() -> None:
    # 03:00 in New York is 09:00 in Berlin in December.
    mon = schedule(weekly=[HOURLY], busy=[busy("2026-12-07", "03:00", "04:00", NEW_YORK)])
    assert offered(mon, "2026-12-07") == ["10:00", "11:00"]


def test_overlapping_and_touching_busy_intervals() -> None:
    mon = schedule(
        weekly=[HOURLY],
        busy=[
            busy("2026-12-07", "09:30", "10:00"),
            busy("2026-12-07", "09:00", "09:45"),
            busy("2026-12-07", "10:00", "10:05"),
        ],
    )
    assert offered(mon, "2026-12-07") == ["11:00"]


def booking(start: str, status: BookingStatus, specialist: str = "ann") -> Booking:
    """An hour-long check-up on Monday 2026-12-07."""
    begins = at("2026-12-07", start)
    return Booking(specialist, "checkup", begins, begins + minutes(60), status)


def test_only_blocks_and_live_bookings_of_the_specialist_occupy_time() -> None:
    business = Business(timezone=BERLIN)
    meeting = Block(at("2026-12-07", "11:00"), at("2026-12-07", "12:00"), "meeting")
    ann = Specialist(id="ann", name="Ann", weekly=(HOURLY,), blocks=(meeting,))
    live = [booking("09:00", BookingStatus.CONFIRMED), booking("10:00", BookingStatus.HELD)]
    dead = [
        booking("09:00", BookingStatus.CANCELLED),
        booking("10:00", BookingStatus.EXPIRED),
        booking("09:00", BookingStatus.CONFIRMED, specialist="ben"),
    ]
    assert offered(ann.schedule(business, live + dead), "2026-12-07") == []
    assert offered(ann.schedule(business, dead), "2026-12-07") == ["09:00", "10:00"]
    assert offered(ann.schedule(business), "2026-12-08") == ["09:00", "10:00", "11:00"]


def test_the_specialists_zone_and_calendar_override_the_business() -> None:
    business = Business(timezone=BERLIN, holidays=("DE-BY",))
    own = Specialist(id="ann", name="Ann", timezone=NEW_YORK, holidays=())
    inherits = Specialist(id="ben", name="Ben")
    assert own.schedule(business).timezone == NEW_YORK
    assert own.schedule(business).holidays == ()
    assert inherits.schedule(business).timezone == BERLIN
    assert inherits.schedule(business).holidays == ("DE-BY",)


def test_a_start_exactly_at_the_notice_is_offered_and_a_minute_earlier_is_not() -> None:
    mon = schedule(weekly=[weekly("mon", times("09:59", "10:00", "10:01", slot=30))])
    rules = Rules(min_notice=minutes(30), horizon_days=60)
    assert offered(mon, "2026-12-07", at("2026-12-07", "09:30"), rules) == ["10:00", "10:01"]
    assert offered(mon, "2026-12-07", at("2026-12-07", "09:31"), rules) == ["10:01"]


def test_default_rules_are_thirty_minutes_and_sixty_days() -> None:
    assert Rules() == Rules(min_notice=minutes(30), horizon_days=60)
    mon = schedule(weekly=[HOURLY])
    assert offered(mon, "2026-12-07", at("2026-12-07", "09:30"), Rules()) == ["10:00", "11:00"]
    assert offered(mon, "2026-12-07", at("2026-12-07", "09:30:01"), Rules()) == ["11:00"]


def test_notice_is_measured_in_absolute_time_whatever_zone_now_is_in() -> None:
    mon = schedule(weekly=[HOURLY])
    now = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)  # 09:30 in Berlin
    assert offered(mon, "2026-12-07", now, Rules(min_notice=minutes(30))) == ["10:00", "11:00"]
    assert offered(mon, "2026-12-07", now, Rules(min_notice=minutes(31))) == ["11:00"]


def test_a_long_notice_pushes_into_the_next_days() -> None:
    daily = schedule(weekly=[HOURLY])
    rules = Rules(min_notice=minutes(26 * 60), horizon_days=60)
    now = at("2026-12-07", "09:00")
    assert offered(daily, "2026-12-08", now, rules) == ["11:00"]
    assert offered(daily, "2026-12-09", now, rules) == ["09:00", "10:00", "11:00"]


def test_horizon_offers_today_plus_horizon_days_and_not_the_day_after() -> None:
    daily = schedule(weekly=[HOURLY])
    rules = Rules(min_notice=minutes(30), horizon_days=3)
    now = at("2026-12-07", "08:00")
    found = slots([daily], day("2026-12-01"), day("2026-12-31"), now, rules)
    assert list(by_day(found)) == ["2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10"]
    assert offered(daily, "2026-12-10", now, rules) == ["09:00", "10:00", "11:00"]
    assert offered(daily, "2026-12-11", now, rules) == []


def test_horizon_zero_offers_only_today() -> None:
    daily = schedule(weekly=[HOURLY])
    rules = Rules(min_notice=minutes(0), horizon_days=0)
    found = slots([daily], day("2026-12-07"), day("2026-12-31"), at("2026-12-07", "09:30"), rules)
    assert by_day(found) == {"2026-12-07": ["10:00", "11:00"]}


def test_horizon_counts_from_the_local_today_ahead_of_utc() -> None:
    # 23:30 UTC on Sunday the 6th is already Monday the 7th in Berlin.
    now = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    rules = Rules(min_notice=minutes(0), horizon_days=1)
    found = slots([schedule(weekly=[HOURLY])], day("2026-12-06"), day("2026-12-31"), now, rules)
    assert list(by_day(found)) == ["2026-12-07", "2026-12-08"]


def test_horizon_counts_from_the_local_today_behind_utc() -> None:
    # 02:00 UTC on Tuesday the 8th is still Monday the 7th in New York.
    now = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
    rules = Rules(min_notice=minutes(0), horizon_days=1)
    daily = schedule(weekly=[HOURLY], zone=NEW_YORK)
    found = slots([daily], day("2026-12-06"), day("2026-12-31"), now, rules)
    assert list(by_day(found)) == ["2026-12-08"]
    assert offered(daily, "2026-12-09", now, rules) == []


def test_a_service_runs_across_slot_boundaries_and_breaks() -> None:
    mon = schedule(weekly=[GRID])
    assert offered_spans(mon, "2026-12-07", duration=90) == [
        "09:00-10:30",
        "09:40-11:10",
        "10:20-11:50",
        "11:00-12:30",
    ]


def test_a_service_shorter_than_the_slot_occupies_only_its_duration() -> None:
    mon = schedule(weekly=[GRID], busy=[busy("2026-12-07", "09:20", "09:30")])
    assert offered(mon, "2026-12-07")[:1] == ["09:40"]
    assert offered_spans(mon, "2026-12-07", duration=15)[:2] == ["09:00-09:15", "09:40-09:55"]


def test_a_service_may_not_run_into_busy_time() -> None:
    mon = schedule(weekly=[GRID], busy=[busy("2026-12-07", "12:00", "13:00")])
    assert offered(mon, "2026-12-07") == ["09:00", "09:40", "10:20", "11:00"]
    assert offered(mon, "2026-12-07", duration=90) == ["09:00", "09:40", "10:20"]


def test_touching_windows_merge_for_a_long_service() -> None:
    mon = schedule(
        weekly=[
            weekly("mon", window("09:00", "12:00", slot=30)),
            weekly("mon", window("12:00", "14:00", slot=30)),
        ]
    )
    assert offered(mon, "2026-12-07", duration=90) == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
        "12:00",
        "12:30",
    ]


def test_a_gap_between_windows_stops_a_long_service() -> None:
    mon = schedule(
        weekly=[
            weekly("mon", window("09:00", "12:00", slot=30)),
            weekly("mon", window("12:30", "14:00", slot=30)),
        ]
    )
    assert offered(mon, "2026-12-07", duration=90) == ["09:00", "09:30", "10:00", "10:30", "12:30"]


def test_overlapping_windows_merge_for_a_long_service() -> None:
    mon = schedule(
        weekly=[
            weekly("mon", window("09:00", "11:00", slot=60)),
            weekly("mon", window("10:30", "12:00", slot=30)),
        ]
    )
    assert offered(mon, "2026-12-07", duration=120) == ["09:00", "10:00"]


def test_an_extra_slot_extends_the_window_it_touches() -> None:
    mon = schedule(weekly=[GRID], overrides=[extra("2026-12-07", times("13:00", slot=30))])
    assert offered(mon, "2026-12-07", duration=60) == [
        "09:00",
        "09:40",
        "10:20",
        "11:00",
        "11:40",
        "12:20",
    ]
    assert offered(mon, "2026-12-07", duration=70) == [
        "09:00",
        "09:40",
        "10:20",
        "11:00",
        "11:40",
        "12:20",
    ]
    assert offered(mon, "2026-12-07", duration=71) == ["09:00", "09:40", "10:20", "11:00", "11:40"]


def test_times_entries_are_windows_a_service_may_span() -> None:
    fri = schedule(weekly=[weekly("fri", times("08:00", "08:30", "10:30", slot=30))])
    assert offered_spans(fri, "2026-12-11", duration=60) == ["08:00-09:00"]
    assert offered_spans(fri, "2026-12-11", duration=30) == [
        "08:00-08:30",
        "08:30-09:00",
        "10:30-11:00",
    ]


def test_a_service_may_not_run_past_the_window_end() -> None:
    mon = schedule(weekly=[weekly("mon", window("09:00", "11:00"))])
    assert offered(mon, "2026-12-07", duration=61) == ["09:00"]
    assert offered(mon, "2026-12-07", duration=120) == ["09:00"]
    assert offered(mon, "2026-12-07", duration=121) == []


def test_slots_carry_the_specialist_and_local_offsets() -> None:
    mon = Plan(schedule(weekly=[weekly("mon", times("09:00", slot=30))], specialist="zoe"))
    (slot,) = day_slots(mon, day("2026-12-07"), at("2026-12-01", "00:00"), Rules())
    assert slot.specialist == "zoe"
    assert slot.start.isoformat() == "2026-12-07T09:00:00+01:00"
    assert slot.end.isoformat() == "2026-12-07T09:30:00+01:00"
    assert Interval(slot.start, slot.end) == Interval(
        at("2026-12-07", "09:00"), at("2026-12-07", "09:30")
    )
