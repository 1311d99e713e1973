"""Questions over several schedules: sorted slots, soonest days and slots, slot_at."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bookbot.engine.model import DayResult, Rules, Schedule
from bookbot.engine.search import (
    Refusal,
    day_slots,
    shortest_slot,
    slot_at,
    slot_length_at,
    slots,
    soonest_day,
    soonest_days,
    soonest_slot,
)
from bookbot.engine.workday import Plan
from tests.engine.helpers import (
    BERLIN,
    EARLY,
    NEW_YORK,
    OPEN,
    TOKYO,
    at,
    busy,
    by_day,
    custom,
    day,
    day_off,
    extra,
    minutes,
    schedule,
    spans,
    stamps,
    starts,
    times,
    weekly,
    window,
)

WORKDAYS = "mon tue wed thu fri"
RULES = Rules(min_notice=minutes(30), horizon_days=60)
# Monday 2026-12-07, 08:00 in Berlin.
NOW = at("2026-12-07", "08:00")


def test_slots_of_several_specialists_sort_by_instant_then_id() -> None:
    # In December Berlin is UTC+1, New York UTC-5 and Tokyo UTC+9.
    ann = schedule(weekly=[weekly("mon", times("09:00", "10:00"))], specialist="ann")
    bob = schedule(weekly=[weekly("mon", times("03:30", "03:00"))], zone=NEW_YORK, specialist="bob")
    cid = schedule(weekly=[weekly("mon", times("17:00"))], zone=TOKYO, specialist="cid")
    found = slots([cid, bob, ann], day("2026-12-07"), day("2026-12-07"), EARLY, OPEN)
    assert stamps(found) == [
        "ann 2026-12-07T09:00:00+01:00/2026-12-07T10:00:00+01:00",
        "bob 2026-12-07T03:00:00-05:00/2026-12-07T04:00:00-05:00",
        "cid 2026-12-07T17:00:00+09:00/2026-12-07T18:00:00+09:00",
        "bob 2026-12-07T03:30:00-05:00/2026-12-07T04:30:00-05:00",
        "ann 2026-12-07T10:00:00+01:00/2026-12-07T11:00:00+01:00",
    ]


def test_slots_span_the_local_dates_asked_inclusive() -> None:
    daily = schedule(weekly=[weekly(WORKDAYS, times("09:00"))])
    found = slots([daily], day("2026-12-08"), day("2026-12-10"), EARLY, OPEN)
    assert by_day(found) == {
        "2026-12-08": ["09:00"],
        "2026-12-09": ["09:00"],
        "2026-12-10": ["09:00"],
    }
    assert slots([daily], day("2026-12-10"), day("2026-12-08"), EARLY, OPEN) == []


def test_local_dates_are_each_specialists_own() -> None:
    # Monday in Tokyo and Monday in New York are 14 hours apart.
    ny = schedule(weekly=[weekly("mon", times("09:00"))], zone=NEW_YORK, specialist="ny")
    tk = schedule(weekly=[weekly("mon", times("09:00"))], zone=TOKYO, specialist="tk")
    found = slots([ny, tk], day("2026-12-07"), day("2026-12-07"), EARLY, OPEN)
    assert stamps(found) == [
        "tk 2026-12-07T09:00:00+09:00/2026-12-07T10:00:00+09:00",
        "ny 2026-12-07T09:00:00-05:00/2026-12-07T10:00:00-05:00",
    ]


def test_any_available_specialist_for_a_long_service() -> None:
    ann = schedule(weekly=[weekly("mon", window("09:00", "12:00", slot=30))], specialist="ann")
    ben = schedule(
        weekly=[weekly("mon", window("09:00", "12:00", slot=30))],
        busy=[busy("2026-12-07", "10:00", "10:30")],
        specialist="ben",
    )
    found = slots([ben, ann], day("2026-12-07"), day("2026-12-07"), NOW, RULES, minutes(90))
    assert [f"{s.specialist} {s.start:%H:%M}-{s.end:%H:%M}" for s in found] == [
        "ann 09:00-10:30",
        "ann 09:30-11:00",
        "ann 10:00-11:30",
        "ann 10:30-12:00",
        "ben 10:30-12:00",
    ]


def test_soonest_day_is_the_first_date_with_a_free_slot_and_all_its_slots() -> None:
    ann = Plan(
        schedule(
            weekly=[weekly(WORKDAYS, window("09:00", "12:00"))],
            overrides=[day_off("2026-12-08")],
            busy=[busy("2026-12-07", "09:00", "12:00"), busy("2026-12-09", "10:00", "11:00")],
        )
    )
    result = soonest_day(ann, NOW, RULES)
    assert result.specialist == "ann"
    assert result.day == day("2026-12-09")
    assert spans(result.slots) == ["09:00-10:00", "11:00-12:00"]
    assert list(result.slots) == day_slots(ann, day("2026-12-09"), NOW, RULES)


def test_soonest_day_today_when_a_slot_is_still_ahead() -> None:
    ann = Plan(schedule(weekly=[weekly(WORKDAYS, window("09:00", "12:00"))]))
    result = soonest_day(ann, at("2026-12-07", "10:00"), RULES)
    assert (result.day, starts(result.slots)) == (day("2026-12-07"), ["11:00"])
    late = soonest_day(ann, at("2026-12-07", "10:31"), RULES)
    assert (late.day, starts(late.slots)) == (day("2026-12-08"), ["09:00", "10:00", "11:00"])


def test_soonest_day_honours_the_service_duration() -> None:
    ann = Plan(
        schedule(
            weekly=[
                weekly("mon", window("09:00", "10:00")),
                weekly("tue", window("09:00", "11:00")),
            ]
        )
    )
    assert soonest_day(ann, NOW, RULES, duration=minutes(90)).day == day("2026-12-08")
    assert starts(soonest_day(ann, NOW, RULES, duration=minutes(90)).slots) == ["09:00"]


def test_soonest_day_from_a_first_date() -> None:
    ann = Plan(schedule(weekly=[weekly(WORKDAYS, times("09:00"))]))
    assert soonest_day(ann, NOW, RULES, first=day("2026-12-10")).day == day("2026-12-10")
    assert soonest_day(ann, NOW, RULES, first=day("2026-12-12")).day == day("2026-12-14")
    # A first date in the past means today.
    assert soonest_day(ann, NOW, RULES, first=day("2026-11-01")).day == day("2026-12-07")


def test_soonest_day_none_within_the_horizon() -> None:
    ann = Plan(schedule(weekly=[weekly("fri", times("09:00"))]))
    short = Rules(min_notice=minutes(30), horizon_days=3)
    assert soonest_day(ann, NOW, short) == DayResult("ann", None, ())
    assert soonest_day(ann, NOW, Rules(horizon_days=4)).day == day("2026-12-11")
    assert soonest_day(ann, NOW, RULES, first=day("2027-02-06")).day is None
    empty = Plan(schedule(specialist="nobody"))
    assert soonest_day(empty, NOW, RULES) == DayResult("nobody", None, ())


def test_soonest_days_sort_by_date_then_id_and_none_last() -> None:
    def on(days: str, specialist: str) -> Schedule:
        return schedule(weekly=[weekly(days, times("09:00"))], specialist=specialist)

    found = soonest_days(
        [
            schedule(specialist="zed"),
            on("wed", "ann"),
            on("tue", "dan"),
            schedule(specialist="cid"),
            on("tue", "bob"),
            on("mon", "eve"),
        ],
        NOW,
        RULES,
    )
    assert [(r.specialist, r.day and r.day.isoformat()) for r in found] == [
        ("eve", "2026-12-07"),
        ("bob", "2026-12-08"),
        ("dan", "2026-12-08"),
        ("ann", "2026-12-09"),
        ("cid", None),
        ("zed", None),
    ]


def test_soonest_days_from_a_first_date() -> None:
    ann = schedule(weekly=[weekly("mon thu", times("09:00"))], specialist="ann")
    bob = schedule(weekly=[weekly("tue wed", times("09:00"))], specialist="bob")
    found = soonest_days([ann, bob], NOW, RULES, first=day("2026-12-09"))
    assert [(r.specialist, r.day) for r in found] == [
        ("bob", day("2026-12-09")),
        ("ann", day("2026-12-10")),
    ]


def test_soonest_slot_is_the_first_slot_of_the_soonest_day() -> None:
    ann = schedule(
        weekly=[weekly(WORKDAYS, window("09:00", "12:00"))],
        busy=[busy("2026-12-07", "09:00", "12:00"), busy("2026-12-08", "09:00", "10:00")],
    )
    best = soonest_slot([ann], NOW, RULES)
    assert best == day_slots(Plan(ann), day("2026-12-08"), NOW, RULES)[0]
    assert best is not None and best.start == at("2026-12-08", "10:00")


def test_soonest_slot_tie_goes_to_the_first_id() -> None:
    def twin(specialist: str) -> Schedule:
        return schedule(weekly=[weekly(WORKDAYS, times("09:00"))], specialist=specialist)

    best = soonest_slot([twin("cid"), twin("bob"), twin("dan")], NOW, RULES)
    assert best is not None and (best.specialist, best.start) == ("bob", at("2026-12-07", "09:00"))


def test_soonest_slot_compares_instants_across_zones() -> None:
    # Tuesday 06:00 in Tokyo (21:00 UTC Monday) is sooner than Monday 17:00 in New York
    # (22:00 UTC), though its local date is later.
    ny = schedule(weekly=[weekly("mon", times("17:00"))], zone=NEW_YORK, specialist="ny")
    tk = schedule(weekly=[weekly("tue", times("06:00"))], zone=TOKYO, specialist="tk")
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert [r.specialist for r in soonest_days([ny, tk], now, RULES)] == ["ny", "tk"]
    best = soonest_slot([ny, tk], now, RULES)
    assert best is not None
    assert (best.specialist, best.start.isoformat()) == ("tk", "2026-12-08T06:00:00+09:00")


def test_soonest_slot_none_when_nobody_has_time() -> None:
    assert soonest_slot([schedule(specialist="a"), schedule(specialist="b")], NOW, RULES) is None
    assert soonest_slot([], NOW, RULES) is None


def test_soonest_slot_with_a_first_date_and_duration() -> None:
    ann = schedule(
        weekly=[
            weekly(WORKDAYS, window("09:00", "10:00")),
            weekly("thu", times("14:00", "14:30", slot=30)),
        ]
    )
    best = soonest_slot([ann], NOW, RULES, first=day("2026-12-09"), duration=minutes(60))
    assert best is not None and best.start == at("2026-12-09", "09:00")
    best = soonest_slot([ann], NOW, RULES, first=day("2026-12-10"), duration=minutes(60))
    assert best is not None and best.start == at("2026-12-10", "09:00")
    assert best.end == at("2026-12-10", "10:00")


def test_slot_at_returns_the_offered_slot() -> None:
    ann = Plan(schedule(weekly=[weekly("mon", window("09:00", "13:00", slot=30, brk=10))]))
    slot = slot_at(ann, at("2026-12-07", "09:40"), NOW, RULES)
    assert slot in day_slots(ann, day("2026-12-07"), NOW, RULES)
    assert (slot.start.isoformat(), slot.end.isoformat()) == (
        "2026-12-07T09:40:00+01:00",
        "2026-12-07T10:10:00+01:00",
    )
    long = slot_at(ann, at("2026-12-07", "09:40"), NOW, RULES, minutes(90))
    assert long.end == at("2026-12-07", "11:10")


def test_slot_at_accepts_the_instant_in_any_zone() -> None:
    ann = Plan(schedule(weekly=[weekly("mon", times("09:00"))]))
    slot = slot_at(ann, datetime(2026, 12, 7, 8, 0, tzinfo=UTC), NOW, RULES)
    assert slot.start.isoformat() == "2026-12-07T09:00:00+01:00"


def refusal(
    plan: Plan,
    start: datetime,
    now: datetime = NOW,
    rules: Rules = RULES,
    duration: int | None = None,
) -> str:
    """The reason slot_at refuses a start."""
    with pytest.raises(Refusal) as refused:
        slot_at(plan, start, now, rules, None if duration is None else minutes(duration))
    return refused.value.reason


def test_slot_at_refuses_a_start_off_the_grid() -> None:
    ann = Plan(
        schedule(
            weekly=[weekly("mon", window("09:00", "13:00", slot=30, brk=10))],
            overrides=[day_off("2026-12-14")],
        )
    )
    assert refusal(ann, at("2026-12-07", "09:30")) == Refusal.NOT_OFFERED
    assert refusal(ann, at("2026-12-07", "12:50")) == Refusal.NOT_OFFERED
    assert refusal(ann, at("2026-12-08", "09:00")) == Refusal.NOT_OFFERED
    assert refusal(ann, at("2026-12-14", "09:00")) == Refusal.NOT_OFFERED
    assert refusal(ann, at("2026-12-07", "09:00:30")) == Refusal.NOT_OFFERED


def test_slot_at_refuses_a_service_running_past_the_window() -> None:
    ann = Plan(schedule(weekly=[weekly("mon", window("09:00", "13:00", slot=30, brk=10))]))
    assert refusal(ann, at("2026-12-07", "11:40"), duration=90) == Refusal.NOT_OFFERED
    assert slot_at(ann, at("2026-12-07", "11:00"), NOW, RULES, minutes(90))


def test_slot_at_refuses_a_start_too_soon() -> None:
    ann = Plan(schedule(weekly=[weekly("mon", times("09:00", "10:00"))]))
    now = at("2026-12-07", "08:31")
    assert refusal(ann, at("2026-12-07", "09:00"), now) == Refusal.TOO_SOON
    assert slot_at(ann, at("2026-12-07", "09:00"), at("2026-12-07", "08:30"), RULES)


def test_slot_at_refuses_a_start_beyond_the_horizon() -> None:
    ann = Plan(schedule(weekly=[weekly("mon", times("09:00"))]))
    short = Rules(min_notice=minutes(30), horizon_days=7)
    assert slot_at(ann, at("2026-12-14", "09:00"), NOW, short)
    assert refusal(ann, at("2026-12-21", "09:00"), rules=short) == Refusal.BEYOND_HORIZON


def test_slot_at_refuses_a_taken_start() -> None:
    ann = Plan(
        schedule(
            weekly=[weekly("mon", window("09:00", "12:00"))],
            busy=[busy("2026-12-07", "09:30", "10:00"), busy("2026-12-07", "11:30", "12:00")],
        )
    )
    assert refusal(ann, at("2026-12-07", "09:00")) == Refusal.TAKEN
    assert slot_at(ann, at("2026-12-07", "10:00"), NOW, RULES).end == at("2026-12-07", "11:00")
    assert slot_at(ann, at("2026-12-07", "10:00"), NOW, RULES, minutes(90))
    assert refusal(ann, at("2026-12-07", "10:00"), duration=91) == Refusal.TAKEN


def test_slot_at_agrees_with_day_slots() -> None:
    ann = Plan(
        schedule(
            weekly=[weekly("mon", window("09:00", "13:00", slot=30, brk=10))],
            busy=[busy("2026-12-07", "10:30", "11:00")],
        )
    )
    offered = day_slots(ann, day("2026-12-07"), at("2026-12-07", "09:15"), RULES)
    assert [slot_at(ann, s.start, at("2026-12-07", "09:15"), RULES) for s in offered] == offered


def test_slot_length_at_is_the_candidates_slot_whatever_is_busy() -> None:
    ann = Plan(
        schedule(
            weekly=[
                weekly("mon", window("09:00", "11:00", slot=60)),
                weekly("mon", window("09:30", "10:30", slot=30)),
            ],
            busy=[busy("2026-12-07", "09:00", "11:00")],
            overrides=[extra("2026-12-14", times("16:00", slot=45))],
        )
    )
    assert slot_length_at(ann, at("2026-12-07", "09:00")) == minutes(60)
    assert slot_length_at(ann, at("2026-12-07", "10:00")) == minutes(30)
    assert slot_length_at(ann, at("2026-12-07", "09:15")) is None
    assert slot_length_at(ann, at("2026-12-14", "16:00")) == minutes(45)
    assert slot_length_at(ann, at("2026-12-08", "09:00")) is None


def test_shortest_slot_looks_at_the_template_and_the_overrides() -> None:
    plain = Plan(schedule(weekly=[weekly("mon", window("09:00", "12:00", slot=45))]))
    with_extra = Plan(
        schedule(
            weekly=[weekly("mon", window("09:00", "12:00", slot=45))],
            overrides=[
                custom("2026-12-08", window("09:00", "10:00", slot=20)),
                day_off("2026-12-09"),
            ],
        )
    )
    assert shortest_slot(plain) == minutes(45)
    assert shortest_slot(with_extra) == minutes(20)
    assert shortest_slot(Plan(schedule())) == minutes(60)


def test_a_plan_and_its_schedule_answer_alike() -> None:
    ann = schedule(weekly=[weekly(WORKDAYS, window("09:00", "12:00"))], zone=BERLIN)
    first, last = day("2026-12-07"), day("2026-12-11")
    assert slots([ann], first, last, NOW, RULES) == slots([Plan(ann)], first, last, NOW, RULES)
