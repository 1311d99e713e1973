"""Steps 1-3 of the contract: closed days, working windows and candidate starts."""

from __future__ import annotations

from bookbot.engine.workday import Plan, holiday_dates
from tests.engine.helpers import (
    custom,
    day,
    day_off,
    extra,
    offered,
    offered_spans,
    schedule,
    times,
    vacation,
    weekly,
    window,
)

# Monday 2026-12-07 .. Sunday 2026-12-13 is the week most tests stand in.
WEEKDAYS = "mon tue wed thu fri sat sun"
EVERY_DAY = weekly(WEEKDAYS, window("09:00", "11:00"))


def test_window_grid_steps_by_slot_plus_break() -> None:
    mon = schedule(weekly=[weekly("mon", window("09:00", "13:00", slot=30, brk=10))])
    assert offered_spans(mon, "2026-12-07") == [
        "09:00-09:30",
        "09:40-10:10",
        "10:20-10:50",
        "11:00-11:30",
        "11:40-12:10",
        "12:20-12:50",
    ]


def test_last_start_must_end_by_the_window_end() -> None:
    exact = schedule(weekly=[weekly("mon", window("09:00", "11:00", slot=30))])
    short = schedule(weekly=[weekly("mon", window("09:00", "10:59", slot=30))])
    assert offered(exact, "2026-12-07") == ["09:00", "09:30", "10:00", "10:30"]
    assert offered(short, "2026-12-07") == ["09:00", "09:30", "10:00"]


def test_a_window_shorter_than_its_slot_yields_nothing() -> None:
    tiny = schedule(weekly=[weekly("mon", window("09:00", "09:45", slot=60))])
    assert offered(tiny, "2026-12-07") == []


def test_slot_defaults_to_an_hour_and_break_to_nothing() -> None:
    mon = schedule(weekly=[weekly("mon", window("09:00", "12:00"))])
    assert offered_spans(mon, "2026-12-07") == ["09:00-10:00", "10:00-11:00", "11:00-12:00"]


def test_times_entry_yields_exactly_its_times() -> None:
    fri = schedule(weekly=[weekly("fri", times("08:00", "08:30", "10:30", slot=30))])
    assert offered_spans(fri, "2026-12-11") == ["08:00-08:30", "08:30-09:00", "10:30-11:00"]


def test_weekly_entry_applies_only_on_its_days() -> None:
    mon_wed = schedule(weekly=[weekly("mon wed", window("09:00", "10:00"))])
    assert offered(mon_wed, "2026-12-07") == ["09:00"]
    assert offered(mon_wed, "2026-12-08") == []
    assert offered(mon_wed, "2026-12-09") == ["09:00"]
    assert offered(mon_wed, "2026-12-13") == []


def test_validity_bounds_are_inclusive() -> None:
    thu = schedule(
        weekly=[
            weekly(
                "thu",
                window("14:00", "16:00"),
                valid_from="2026-12-10",
                valid_until="2026-12-17",
            )
        ]
    )
    assert offered(thu, "2026-12-03") == []
    assert offered(thu, "2026-12-10") == ["14:00", "15:00"]
    assert offered(thu, "2026-12-17") == ["14:00", "15:00"]
    assert offered(thu, "2026-12-24") == []


def test_open_ended_validity() -> None:
    since = schedule(weekly=[weekly("thu", window("14:00", "15:00"), valid_from="2026-12-10")])
    until = schedule(weekly=[weekly("thu", window("14:00", "15:00"), valid_until="2026-12-10")])
    assert [offered(since, d) for d in ("2026-12-03", "2026-12-10", "2027-06-03")] == [
        [],
        ["14:00"],
        ["14:00"],
    ]
    assert [offered(until, d) for d in ("2026-01-01", "2026-12-10", "2026-12-17")] == [
        ["14:00"],
        ["14:00"],
        [],
    ]


def test_entries_on_the_same_day_add_up() -> None:
    mon = schedule(
        weekly=[
            weekly("mon", window("14:00", "15:00", slot=30)),
            weekly("mon tue", window("09:00", "11:00")),
            weekly("mon", times("12:15", slot=45)),
        ]
    )
    assert offered_spans(mon, "2026-12-07") == [
        "09:00-10:00",
        "10:00-11:00",
        "12:15-13:00",
        "14:00-14:30",
        "14:30-15:00",
    ]
    assert offered(mon, "2026-12-08") == ["09:00", "10:00"]


def test_one_entry_out_of_validity_leaves_the_others() -> None:
    mon = schedule(
        weekly=[
            weekly("mon", window("09:00", "10:00")),
            weekly("mon", window("14:00", "15:00"), valid_until="2026-11-30"),
        ]
    )
    assert offered(mon, "2026-11-30") == ["09:00", "14:00"]
    assert offered(mon, "2026-12-07") == ["09:00"]


def test_same_start_from_two_entries_is_one_candidate_with_the_shorter_slot() -> None:
    hour = weekly("mon", window("09:00", "11:00", slot=60))
    half = weekly("mon", window("09:30", "10:30", slot=30))
    expected = ["09:00-10:00", "09:30-10:00", "10:00-10:30"]
    assert offered_spans(schedule(weekly=[hour, half]), "2026-12-07") == expected
    assert offered_spans(schedule(weekly=[half, hour]), "2026-12-07") == expected


def test_times_and_window_on_the_same_start_keep_the_shorter_slot() -> None:
    mon = schedule(
        weekly=[
            weekly("mon", times("09:00", slot=20)),
            weekly("mon", window("09:00", "10:00", slot=60)),
        ]
    )
    assert offered_spans(mon, "2026-12-07") == ["09:00-09:20"]


def test_day_off_closes_the_day_only() -> None:
    daily = schedule(weekly=[EVERY_DAY], overrides=[day_off("2026-12-08")])
    assert offered(daily, "2026-12-07") == ["09:00", "10:00"]
    assert offered(daily, "2026-12-08") == []
    assert offered(daily, "2026-12-09") == ["09:00", "10:00"]


def test_vacation_covers_both_ends() -> None:
    daily = schedule(weekly=[EVERY_DAY], overrides=[vacation("2026-12-08", "2026-12-10")])
    got = {f"2026-12-{d}": offered(daily, f"2026-12-{d}") for d in ("07", "08", "09", "10", "11")}
    assert got == {
        "2026-12-07": ["09:00", "10:00"],
        "2026-12-08": [],
        "2026-12-09": [],
        "2026-12-10": [],
        "2026-12-11": ["09:00", "10:00"],
    }


def test_custom_hours_replace_the_weekly_entries() -> None:
    daily = schedule(
        weekly=[EVERY_DAY, weekly("tue", times("15:00"))],
        overrides=[custom("2026-12-08", window("10:00", "12:00", slot=30))],
    )
    assert offered(daily, "2026-12-08") == ["10:00", "10:30", "11:00", "11:30"]
    assert offered(daily, "2026-12-15") == ["09:00", "10:00", "15:00"]


def test_custom_hours_on_a_day_without_weekly_entries() -> None:
    sunday = schedule(
        weekly=[weekly("mon", window("09:00", "10:00"))],
        overrides=[custom("2026-12-13", window("10:00", "11:00", slot=20, brk=10))],
    )
    assert offered_spans(sunday, "2026-12-13") == ["10:00-10:20", "10:30-10:50"]


def test_several_custom_hours_on_one_date_add_up() -> None:
    daily = schedule(
        weekly=[EVERY_DAY],
        overrides=[
            custom("2026-12-08", window("14:00", "15:00", slot=30)),
            custom("2026-12-08", window("08:00", "09:00", slot=30)),
        ],
    )
    assert offered(daily, "2026-12-08") == ["08:00", "08:30", "14:00", "14:30"]


def test_the_holiday_calendars_know_the_dates_these_tests_use() -> None:
    assert day("2026-12-25") in holiday_dates("DE-BY", 2026)
    assert day("2026-12-24") not in holiday_dates("DE-BY", 2026)
    assert day("2026-09-21") in holiday_dates("IL", 2026)  # Yom Kippur, a Monday
    assert day("2026-09-21") not in holiday_dates("DE-BY", 2026)
    assert day("2026-11-26") in holiday_dates("US-NY", 2026)  # Thanksgiving


def test_a_holiday_removes_the_weekly_entries() -> None:
    fridays = weekly("fri", window("09:00", "11:00"))
    bavarian = schedule(weekly=[fridays], holidays=["DE-BY"])
    without = schedule(weekly=[fridays])
    assert offered(bavarian, "2026-12-25") == []
    assert offered(bavarian, "2026-12-18") == ["09:00", "10:00"]
    assert offered(without, "2026-12-25") == ["09:00", "10:00"]


def test_the_specialists_own_calendar_decides() -> None:
    mondays = weekly("mon", window("09:00", "10:00"))
    israeli = schedule(weekly=[mondays], holidays=["IL"])
    bavarian = schedule(weekly=[mondays], holidays=["DE-BY"])
    both = schedule(weekly=[mondays], holidays=["DE-BY", "IL"])
    assert offered(israeli, "2026-09-21") == []
    assert offered(israeli, "2026-09-28") == ["09:00"]
    assert offered(bavarian, "2026-09-21") == ["09:00"]
    assert offered(both, "2026-09-21") == []
    assert offered(both, "2026-09-28") == ["09:00"]


def test_a_subdivision_calendar_has_its_own_holidays() -> None:
    tuesdays = weekly("tue", times("09:00"))
    # Epiphany is a holiday in Bavaria, not in Saxony.
    assert offered(schedule(weekly=[tuesdays], holidays=["DE-BY"]), "2026-01-06") == []
    assert offered(schedule(weekly=[tuesdays], holidays=["DE-SN"]), "2026-01-06") == ["09:00"]


def test_custom_hours_win_over_a_holiday() -> None:
    fri = schedule(
        weekly=[weekly("fri", window("09:00", "11:00"))],
        overrides=[custom("2026-12-25", window("10:00", "11:00", slot=30))],
        holidays=["DE-BY"],
    )
    assert offered(fri, "2026-12-25") == ["10:00", "10:30"]


def test_extra_slots_add_to_the_weekly_entries() -> None:
    mon = schedule(
        weekly=[weekly("mon", window("09:00", "11:00"))],
        overrides=[extra("2026-12-07", times("16:00", "16:30", slot=30))],
    )
    assert offered_spans(mon, "2026-12-07") == [
        "09:00-10:00",
        "10:00-11:00",
        "16:00-16:30",
        "16:30-17:00",
    ]
    assert offered(mon, "2026-12-14") == ["09:00", "10:00"]


def test_extra_slots_survive_a_holiday() -> None:
    fri = schedule(
        weekly=[weekly("fri", window("09:00", "11:00"))],
        overrides=[extra("2026-12-25", times("16:00", slot=30))],
        holidays=["DE-BY"],
    )
    assert offered_spans(fri, "2026-12-25") == ["16:00-16:30"]


def test_extra_slots_add_to_custom_hours() -> None:
    mon = schedule(
        weekly=[weekly("mon", window("09:00", "11:00"))],
        overrides=[
            extra("2026-12-07", times("16:00", slot=30)),
            custom("2026-12-07", window("12:00", "13:00")),
        ],
    )
    assert offered(mon, "2026-12-07") == ["12:00", "16:00"]


def test_extra_slots_on_a_day_without_any_hours() -> None:
    sunday = schedule(overrides=[extra("2026-12-13", times("11:00", slot=45))])
    assert offered_spans(sunday, "2026-12-13") == ["11:00-11:45"]


def test_extra_slot_on_a_grid_start_keeps_the_shorter_slot() -> None:
    mon = schedule(
        weekly=[weekly("mon", window("09:00", "11:00"))],
        overrides=[extra("2026-12-07", times("10:00", slot=15))],
    )
    assert offered_spans(mon, "2026-12-07") == ["09:00-10:00", "10:00-10:15"]


def test_a_closed_day_takes_no_extra_slots_and_no_custom_hours() -> None:
    mon = schedule(
        weekly=[weekly("mon", window("09:00", "11:00"))],
        overrides=[
            day_off("2026-12-07"),
            extra("2026-12-07", times("16:00")),
            custom("2026-12-07", window("12:00", "13:00")),
            vacation("2026-12-14", "2026-12-21"),
            extra("2026-12-14", times("16:00")),
            custom("2026-12-21", window("12:00", "13:00")),
        ],
    )
    assert offered(mon, "2026-12-07") == []
    assert offered(mon, "2026-12-14") == []
    assert offered(mon, "2026-12-21") == []
    assert offered(mon, "2026-12-28") == ["09:00", "10:00"]


def test_a_closed_holiday_with_custom_hours_stays_closed() -> None:
    fri = schedule(
        weekly=[weekly("fri", window("09:00", "11:00"))],
        overrides=[
            vacation("2026-12-24", "2026-12-26"),
            custom("2026-12-25", window("10:00", "11:00")),
            extra("2026-12-25", times("16:00")),
        ],
        holidays=["DE-BY"],
    )
    assert offered(fri, "2026-12-25") == []


def test_plan_hours_follow_the_precedence() -> None:
    plan = Plan(
        schedule(
            weekly=[weekly("fri", window("09:00", "11:00"))],
            overrides=[
                custom("2027-01-01", window("10:00", "11:00")),
                extra("2026-12-25", times("16:00")),
                day_off("2027-01-08"),
            ],
            holidays=["DE-BY"],
        )
    )
    assert plan.hours(day("2026-12-18")) == [window("09:00", "11:00")]
    assert plan.hours(day("2026-12-25")) == [times("16:00")]
    assert plan.hours(day("2027-01-01")) == [window("10:00", "11:00")]
    assert plan.hours(day("2027-01-08")) == []
    assert plan.is_closed(day("2027-01-08"))
    assert plan.is_holiday(day("2026-12-25")) and not plan.is_holiday(day("2026-12-18"))
