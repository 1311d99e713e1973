"""Free holes: maximal free working time, clipped by notice, not by grid or horizon."""

from __future__ import annotations

from datetime import datetime, timedelta

from bookbot.engine.model import Hole, Rules, Schedule
from bookbot.engine.search import holes
from tests.engine.helpers import (
    EARLY,
    NEW_YORK,
    OPEN,
    at,
    busy,
    custom,
    day,
    day_off,
    extra,
    minutes,
    schedule,
    spans,
    stamps,
    times,
    vacation,
    weekly,
    window,
)

RULES = Rules(min_notice=minutes(30), horizon_days=60)
ZERO = timedelta(0)
# Windows that touch (merged), a separate one, a booking and a block on Monday 2026-12-07.
MONDAY = schedule(
    weekly=[
        weekly("mon", window("09:00", "12:00", slot=30)),
        weekly("mon", window("12:00", "14:00", slot=60)),
        weekly("mon", window("15:00", "16:00", slot=30)),
    ],
    busy=[busy("2026-12-07", "10:00", "10:30"), busy("2026-12-07", "13:00", "13:15")],
)


def holes_on(
    of: Schedule,
    first: str,
    least: int = 0,
    *,
    last: str | None = None,
    now: datetime = EARLY,
    rules: Rules = OPEN,
    weekdays: frozenset[int] | None = None,
) -> list[Hole]:
    """Holes of at least `least` minutes of one schedule on first..last."""
    return holes([of], day(first), day(last or first), now, rules, minutes(least), weekdays)


def test_holes_are_the_maximal_free_stretches_of_merged_windows() -> None:
    assert spans(holes_on(MONDAY, "2026-12-07")) == [
        "09:00-10:00",
        "10:30-13:00",
        "13:15-14:00",
        "15:00-16:00",
    ]


def test_holes_shorter_than_asked_are_left_out() -> None:
    assert spans(holes_on(MONDAY, "2026-12-07", 60)) == [
        "09:00-10:00",
        "10:30-13:00",
        "15:00-16:00",
    ]
    assert spans(holes_on(MONDAY, "2026-12-07", 150)) == ["10:30-13:00"]
    assert spans(holes_on(MONDAY, "2026-12-07", 151)) == []


def test_holes_ignore_the_grid_and_its_breaks() -> None:
    grid = schedule(
        weekly=[
            weekly("mon", window("09:00", "13:00", slot=30, brk=10)),
            weekly("tue", window("09:00", "10:59", slot=60)),
            weekly("wed", times("08:00", "08:30", "10:30", slot=30)),
        ]
    )
    assert spans(holes_on(grid, "2026-12-07")) == ["09:00-13:00"]
    assert spans(holes_on(grid, "2026-12-08")) == ["09:00-10:59"]
    assert spans(holes_on(grid, "2026-12-09")) == ["08:00-09:00", "10:30-11:00"]


def test_holes_start_no_sooner_than_now_plus_notice() -> None:
    now = at("2026-12-07", "09:47")  # the notice ends at 10:17, inside a booking
    assert spans(holes_on(MONDAY, "2026-12-07", now=now, rules=RULES)) == [
        "10:30-13:00",
        "13:15-14:00",
        "15:00-16:00",
    ]
    later = at("2026-12-07", "10:43")  # the notice ends at 11:13, inside a hole
    found = holes_on(MONDAY, "2026-12-07", now=later, rules=RULES)
    assert spans(found) == ["11:13-13:00", "13:15-14:00", "15:00-16:00"]
    assert spans(holes_on(MONDAY, "2026-12-07", 107, now=later, rules=RULES)) == ["11:13-13:00"]
    assert spans(holes_on(MONDAY, "2026-12-07", 108, now=later, rules=RULES)) == []


def test_holes_on_dates_already_past_are_none() -> None:
    assert holes_on(MONDAY, "2026-12-07", now=at("2026-12-08", "00:00"), rules=RULES) == []


def test_a_date_behind_utc_and_a_slot_into_the_next_date_keep_their_holes() -> None:
    # Honolulu is ten hours behind UTC: at 05:00 UTC on Tuesday its Monday evening is free.
    honolulu = "Pacific/Honolulu"
    evening = schedule(weekly=[weekly("mon", window("18:00", "22:00"))], zone=honolulu)
    now = datetime.fromisoformat("2026-12-08T05:00+00:00")
    found = holes_on(evening, "2026-12-01", last="2026-12-08", now=now)
    assert stamps(found) == [
        f"ann {at('2026-12-07', '19:00', honolulu).isoformat()}"
        f"/{at('2026-12-07', '22:00', honolulu).isoformat()}"
    ]
    # A 24-hour slot at 23:00 on Sunday runs into Monday's last hour, two UTC dates on.
    night = schedule(weekly=[weekly("sun", times("23:00", slot=24 * 60))], zone=honolulu)
    now = datetime.fromisoformat("2026-12-08T08:00+00:00")  # Monday 22:00 in Honolulu
    found = holes_on(night, "2026-12-06", last="2026-12-07", now=now)
    assert spans(found) == ["22:00-23:00"]


def test_holes_ignore_the_horizon() -> None:
    far = Rules(min_notice=minutes(30), horizon_days=0)
    found = holes_on(MONDAY, "2027-03-01", now=at("2026-12-07", "08:00"), rules=far)
    assert spans(found) == ["09:00-14:00", "15:00-16:00"]


def test_holes_follow_the_layers_of_each_day() -> None:
    fri = schedule(
        weekly=[weekly("fri", window("09:00", "12:00"))],
        overrides=[
            day_off("2026-12-11"),
            extra("2026-12-11", times("16:00")),
            custom("2026-12-18", window("10:00", "11:00")),
            extra("2026-12-18", times("11:00", slot=30)),
            extra("2026-12-25", times("16:00", slot=30)),
            vacation("2027-01-01", "2027-01-08"),
        ],
        holidays=["DE-BY"],
    )
    found = holes_on(fri, "2026-12-04", last="2027-01-15")
    assert [f"{h.start:%m-%d %H:%M}-{h.end:%H:%M}" for h in found] == [
        "12-04 09:00-12:00",
        "12-18 10:00-11:30",
        "12-25 16:00-16:30",
        "01-15 09:00-12:00",
    ]


def test_holes_on_chosen_weekdays_only() -> None:
    daily = schedule(weekly=[weekly("mon tue wed thu fri", window("09:00", "11:00"))])
    found = holes_on(daily, "2026-12-07", last="2026-12-20", weekdays=frozenset({2}))
    assert [h.start.date().isoformat() for h in found] == ["2026-12-09", "2026-12-16"]
    assert holes_on(daily, "2026-12-07", last="2026-12-20", weekdays=frozenset({5, 6})) == []


def test_ninety_minute_holes_of_any_hygienist_on_wednesdays() -> None:
    ann = schedule(
        weekly=[weekly("wed", window("09:00", "13:00", slot=30, brk=10))],
        busy=[busy("2026-10-07", "10:00", "11:00"), busy("2026-10-14", "11:30", "12:00")],
        specialist="ann",
    )
    ben = schedule(
        weekly=[weekly("wed", window("08:00", "09:30"))],
        zone=NEW_YORK,
        overrides=[day_off("2026-10-14")],
        specialist="ben",
    )
    found = holes(
        [ben, ann],
        day("2026-10-01"),
        day("2026-10-14"),
        at("2026-09-30", "12:00"),
        RULES,
        minutes(90),
        frozenset({2}),
    )
    assert stamps(found) == [
        "ann 2026-10-07T11:00:00+02:00/2026-10-07T13:00:00+02:00",
        "ben 2026-10-07T08:00:00-04:00/2026-10-07T09:30:00-04:00",
        "ann 2026-10-14T09:00:00+02:00/2026-10-14T11:30:00+02:00",
    ]


def test_holes_sort_by_instant_then_id() -> None:
    # 09:00 in Berlin is 03:00 in New York in December.
    ann = schedule(weekly=[weekly("mon", window("09:00", "10:00"))], specialist="ann")
    bob = schedule(
        weekly=[weekly("mon", window("03:00", "04:00")), weekly("mon", window("02:00", "02:30"))],
        zone=NEW_YORK,
        specialist="bob",
    )
    found = holes([bob, ann], day("2026-12-07"), day("2026-12-07"), EARLY, OPEN, ZERO)
    assert [f"{h.specialist} {h.start.isoformat()}" for h in found] == [
        "bob 2026-12-07T02:00:00-05:00",
        "ann 2026-12-07T09:00:00+01:00",
        "bob 2026-12-07T03:00:00-05:00",
    ]


def test_holes_hold_no_busy_time_even_outside_the_windows() -> None:
    ann = schedule(
        weekly=[weekly("mon", window("09:00", "12:00"))],
        busy=[busy("2026-12-07", "08:00", "09:30"), busy("2026-12-07", "11:45", "13:00")],
    )
    assert spans(holes_on(ann, "2026-12-07")) == ["09:30-11:45"]
    fully = schedule(
        weekly=[weekly("mon", window("09:00", "12:00"))],
        busy=[busy("2026-12-07", "08:00", "13:00")],
    )
    assert holes_on(fully, "2026-12-07") == []
