"""Time zones: the grid on the wall clock, skipped and repeated hours, absolute lengths.

Berlin springs forward on 2026-03-29 (02:00 CET becomes 03:00 CEST) and falls back on
2026-10-25 (03:00 CEST becomes 02:00 CET); New York on 2026-03-08 (02:00 EST becomes 03:00
EDT) and 2026-11-01 (02:00 EDT becomes 01:00 EST). All four are Sundays.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bookbot.engine.model import Hours, Interval, Rules
from bookbot.engine.search import Refusal, day_slots, holes, slot_at, slot_length_at, slots
from bookbot.engine.workday import LocalClock, Plan, from_microseconds, microseconds, zone
from tests.engine.helpers import (
    BERLIN,
    EARLY,
    NEW_YORK,
    OPEN,
    at,
    day,
    minutes,
    schedule,
    stamps,
    starts,
    times,
    weekly,
    window,
)

SPRING, FALL = "2026-03-29", "2026-10-25"
NY_SPRING, NY_FALL = "2026-03-08", "2026-11-01"


def sunday(hours: Hours, zone_name: str = BERLIN, busy: Sequence[Interval] = ()) -> Plan:
    """A plan working `hours` on Sundays."""
    return Plan(schedule(weekly=[weekly("sun", hours)], zone=zone_name, busy=busy))


def offered_on(
    plan: Plan, on: str, now: datetime = EARLY, rules: Rules = OPEN, duration: int | None = None
) -> list[str]:
    """Start/end ISO pairs offered on one date."""
    length = None if duration is None else minutes(duration)
    found = day_slots(plan, day(on), now, rules, length)
    return [f"{s.start.isoformat()}/{s.end.isoformat()}" for s in found]


def utc(text: str) -> datetime:
    """A UTC instant written without its zone."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- spring forward --------------------------------------------------------------------


def test_berlin_spring_drops_the_skipped_start() -> None:
    assert offered_on(sunday(window("00:00", "05:00")), SPRING) == [
        "2026-03-29T00:00:00+01:00/2026-03-29T01:00:00+01:00",
        "2026-03-29T01:00:00+01:00/2026-03-29T03:00:00+02:00",
        "2026-03-29T03:00:00+02:00/2026-03-29T04:00:00+02:00",
        "2026-03-29T04:00:00+02:00/2026-03-29T05:00:00+02:00",
    ]


def test_berlin_spring_half_hour_grid_keeps_its_wall_times() -> None:
    plan = sunday(window("01:00", "04:00", slot=30))
    assert starts(day_slots(plan, day(SPRING), EARLY, OPEN)) == ["01:00", "01:30", "03:00", "03:30"]
    # 01:30 CET plus thirty minutes is 03:00 CEST.
    assert offered_on(plan, SPRING)[1] == "2026-03-29T01:30:00+01:00/2026-03-29T03:00:00+02:00"


def test_berlin_spring_grid_with_breaks_stays_on_the_wall_clock() -> None:
    plan = sunday(window("01:00", "05:00", slot=30, brk=30))
    assert starts(day_slots(plan, day(SPRING), EARLY, OPEN)) == ["01:00", "03:00", "04:00"]


def test_skipped_times_entries_are_dropped() -> None:
    plan = sunday(times("01:30", "02:00", "02:30", "03:00", slot=30))
    assert starts(day_slots(plan, day(SPRING), EARLY, OPEN)) == ["01:30", "03:00"]


def test_a_slot_that_fits_the_wall_window_but_not_the_real_one_is_not_offered() -> None:
    # 01:30-03:00 on the wall is thirty real minutes, too short for an hour.
    plan = sunday(window("01:30", "03:00"))
    assert offered_on(plan, SPRING) == []
    assert offered_on(plan, "2026-03-22") == ["2026-03-22T01:30:00+01:00/2026-03-22T02:30:00+01:00"]
    found = holes([plan], day(SPRING), day(SPRING), EARLY, OPEN, timedelta(0))
    assert stamps(found) == ["ann 2026-03-29T01:30:00+01:00/2026-03-29T03:00:00+02:00"]


def test_a_long_service_runs_across_the_skipped_hour_in_real_minutes() -> None:
    plan = sunday(window("00:00", "05:00", slot=30))
    found = offered_on(plan, SPRING, duration=90)
    assert found[:4] == [
        "2026-03-29T00:00:00+01:00/2026-03-29T01:30:00+01:00",
        "2026-03-29T00:30:00+01:00/2026-03-29T03:00:00+02:00",
        "2026-03-29T01:00:00+01:00/2026-03-29T03:30:00+02:00",
        "2026-03-29T01:30:00+01:00/2026-03-29T04:00:00+02:00",
    ]
    assert found[-1] == "2026-03-29T03:30:00+02:00/2026-03-29T05:00:00+02:00"


def test_new_york_spring_drops_the_skipped_start() -> None:
    assert offered_on(sunday(window("00:00", "04:00"), NEW_YORK), NY_SPRING) == [
        "2026-03-08T00:00:00-05:00/2026-03-08T01:00:00-05:00",
        "2026-03-08T01:00:00-05:00/2026-03-08T03:00:00-04:00",
        "2026-03-08T03:00:00-04:00/2026-03-08T04:00:00-04:00",
    ]


def test_notice_counts_real_minutes_across_the_skipped_hour() -> None:
    plan = sunday(window("00:00", "06:00", slot=30))
    rules = Rules(min_notice=minutes(90), horizon_days=60)
    # 01:45 CET plus ninety minutes is 04:15 CEST.
    for now in (at(SPRING, "01:45"), utc("2026-03-29T00:45")):
        assert starts(day_slots(plan, day(SPRING), now, rules)) == ["04:30", "05:00", "05:30"]


def test_holes_measure_real_time_on_the_short_day() -> None:
    plan = sunday(window("00:00", "05:00"))
    found = holes([plan], day(SPRING), day(SPRING), EARLY, OPEN, minutes(240))
    assert stamps(found) == ["ann 2026-03-29T00:00:00+01:00/2026-03-29T05:00:00+02:00"]
    assert holes([plan], day(SPRING), day(SPRING), EARLY, OPEN, minutes(241)) == []


# -- fall back -------------------------------------------------------------------------


def test_berlin_fall_offers_the_repeated_hour_once_at_its_first_occurrence() -> None:
    assert offered_on(sunday(window("00:00", "04:00")), FALL) == [
        "2026-10-25T00:00:00+02:00/2026-10-25T01:00:00+02:00",
        "2026-10-25T01:00:00+02:00/2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+02:00/2026-10-25T02:00:00+01:00",
        "2026-10-25T03:00:00+01:00/2026-10-25T04:00:00+01:00",
    ]


def test_berlin_fall_hour_slot_at_half_past_one_ends_at_the_first_half_past_two() -> None:
    plan = sunday(times("01:30", "02:30"))
    assert offered_on(plan, FALL) == [
        "2026-10-25T01:30:00+02:00/2026-10-25T02:30:00+02:00",
        "2026-10-25T02:30:00+02:00/2026-10-25T02:30:00+01:00",
    ]


def test_berlin_fall_wall_hour_window_is_two_real_hours() -> None:
    plan = sunday(window("02:00", "03:00", slot=30))
    assert offered_on(plan, FALL) == [
        "2026-10-25T02:00:00+02:00/2026-10-25T02:30:00+02:00",
        "2026-10-25T02:30:00+02:00/2026-10-25T02:00:00+01:00",
    ]
    assert offered_on(plan, FALL, duration=120) == [
        "2026-10-25T02:00:00+02:00/2026-10-25T03:00:00+01:00"
    ]
    assert offered_on(plan, FALL, duration=121) == []
    found = holes([plan], day(FALL), day(FALL), EARLY, OPEN, minutes(120))
    assert stamps(found) == ["ann 2026-10-25T02:00:00+02:00/2026-10-25T03:00:00+01:00"]


def test_busy_time_in_the_repeated_hour_counts_by_its_instant() -> None:
    # The second 02:00-02:30 (CET) is 01:00-01:30 UTC, inside the hour from the first 02:30.
    second = Interval(at(FALL, "02:00", fold=1), at(FALL, "02:30", fold=1))
    plan = sunday(window("00:30", "04:00"), busy=[second])
    assert [s.split("/")[0] for s in offered_on(plan, FALL)] == [
        "2026-10-25T00:30:00+02:00",
        "2026-10-25T01:30:00+02:00",
    ]
    first = Interval(at(FALL, "02:30"), at(FALL, "02:45"))
    plan = sunday(window("00:00", "04:00"), busy=[first])
    assert [s.split("/")[0] for s in offered_on(plan, FALL)] == [
        "2026-10-25T00:00:00+02:00",
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T03:00:00+01:00",
    ]


def test_busy_times_on_the_local_clock_in_both_occurrences_all_count() -> None:
    # Given in the specialist's own zone, a fold=1 time sorts by its instant, not its wall.
    busy = [
        Interval(at(FALL, "02:15", fold=1), at(FALL, "02:45", fold=1)),
        Interval(at(FALL, "02:30"), at(FALL, "02:45")),
    ]
    plan = sunday(window("00:00", "05:00", slot=30), busy=busy)
    assert starts(day_slots(plan, day(FALL), EARLY, OPEN)) == [
        "00:00",
        "00:30",
        "01:00",
        "01:30",
        "02:00",
        "03:00",
        "03:30",
        "04:00",
        "04:30",
    ]
    found = holes([plan], day(FALL), day(FALL), EARLY, OPEN, timedelta(0))
    assert stamps(found) == [
        "ann 2026-10-25T00:00:00+02:00/2026-10-25T02:30:00+02:00",
        "ann 2026-10-25T02:45:00+02:00/2026-10-25T02:15:00+01:00",
        "ann 2026-10-25T02:45:00+01:00/2026-10-25T05:00:00+01:00",
    ]
    # Between the two bookings lie thirty real minutes. Output times share the local zone,
    # so Python subtracts them on the wall clock (minus thirty minutes here): use UTC.
    middle = found[1]
    assert middle.end.astimezone(UTC) - middle.start.astimezone(UTC) == timedelta(minutes=30)
    assert middle.end - middle.start == timedelta(minutes=-30)
    assert len(holes([plan], day(FALL), day(FALL), EARLY, OPEN, minutes(30))) == 3
    assert len(holes([plan], day(FALL), day(FALL), EARLY, OPEN, minutes(31))) == 2


def test_new_york_fall_offers_the_repeated_hour_once() -> None:
    assert offered_on(sunday(window("00:00", "03:00", slot=30), NEW_YORK), NY_FALL) == [
        "2026-11-01T00:00:00-04:00/2026-11-01T00:30:00-04:00",
        "2026-11-01T00:30:00-04:00/2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-04:00/2026-11-01T01:30:00-04:00",
        "2026-11-01T01:30:00-04:00/2026-11-01T01:00:00-05:00",
        "2026-11-01T02:00:00-05:00/2026-11-01T02:30:00-05:00",
        "2026-11-01T02:30:00-05:00/2026-11-01T03:00:00-05:00",
    ]


def test_notice_counts_real_minutes_across_the_repeated_hour() -> None:
    plan = sunday(window("00:00", "06:00", slot=30))
    rules = Rules(min_notice=minutes(90), horizon_days=60)
    # 01:45 CEST plus ninety minutes is 02:15 CET: 03:00 CET is the first start after.
    for now in (at(FALL, "01:45"), utc("2026-10-24T23:45")):
        assert starts(day_slots(plan, day(FALL), now, rules))[:2] == ["03:00", "03:30"]


# -- the same instants asked for again -------------------------------------------------


@pytest.mark.parametrize(
    ("zone_name", "on", "duration"),
    [
        (BERLIN, SPRING, None),
        (BERLIN, SPRING, 90),
        (BERLIN, FALL, None),
        (BERLIN, FALL, 90),
        (NEW_YORK, NY_SPRING, 90),
        (NEW_YORK, NY_FALL, None),
        (NEW_YORK, NY_FALL, 90),
    ],
)
def test_slot_at_takes_back_every_offered_slot_on_a_transition_day(
    zone_name: str, on: str, duration: int | None
) -> None:
    plan = sunday(window("00:00", "05:00", slot=60), zone_name)
    length = None if duration is None else minutes(duration)
    offered = day_slots(plan, day(on), EARLY, OPEN, length)
    assert offered
    for slot in offered:
        for start in (slot.start, slot.start.astimezone(UTC)):
            again = slot_at(plan, start, EARLY, OPEN, length)
            assert (again.start.isoformat(), again.end.isoformat()) == (
                slot.start.isoformat(),
                slot.end.isoformat(),
            )
            assert slot_length_at(plan, start) == minutes(60)


def test_slot_at_refuses_the_second_occurrence_of_a_repeated_start() -> None:
    plan = sunday(window("00:00", "04:00"))
    first = slot_at(plan, at(FALL, "02:00"), EARLY, OPEN)
    assert (first.start.isoformat(), first.end.isoformat()) == (
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
    )
    with pytest.raises(Refusal) as refused:
        slot_at(plan, at(FALL, "02:00", fold=1), EARLY, OPEN)
    assert refused.value.reason == Refusal.NOT_OFFERED
    assert slot_length_at(plan, at(FALL, "02:00", fold=1)) is None


def test_slots_across_zones_on_days_only_one_of_them_has_moved() -> None:
    # Between 2026-03-08 and 2026-03-29 New York is on summer time and Berlin is not:
    # 09:00 in New York is 14:00 in Berlin, not 15:00.
    ann = schedule(weekly=[weekly("mon", times("14:00"))], specialist="ann")
    bob = schedule(weekly=[weekly("mon", times("09:00"))], zone=NEW_YORK, specialist="bob")
    found = slots([bob, ann], day("2026-03-16"), day("2026-03-16"), EARLY, OPEN)
    assert stamps(found) == [
        "ann 2026-03-16T14:00:00+01:00/2026-03-16T15:00:00+01:00",
        "bob 2026-03-16T09:00:00-04:00/2026-03-16T10:00:00-04:00",
    ]
    assert found[0].start == found[1].start


def test_local_clock_maps_wall_times_to_instants() -> None:
    spring = LocalClock(day(SPRING), zone(BERLIN))
    fall = LocalClock(day(FALL), zone(BERLIN))
    plain = LocalClock(day("2026-06-01"), zone(BERLIN))
    assert spring.start(timedelta(hours=2, minutes=30)) is None
    assert spring.start(timedelta(hours=3)) == utc("2026-03-29T01:00")
    # A skipped wall time maps as if the clocks had not moved yet (a window's end there).
    assert spring.instant(timedelta(hours=2, minutes=30)) == utc("2026-03-29T01:30")
    assert fall.start(timedelta(hours=2, minutes=30)) == utc("2026-10-25T00:30")
    assert fall.instant(timedelta(hours=3)) == utc("2026-10-25T02:00")
    assert plain.start(timedelta(hours=9)) == utc("2026-06-01T07:00")
    assert plain.instant(timedelta(hours=24, minutes=30)) == utc("2026-06-01T22:30")


def test_holes_in_one_zone_sort_by_instant_across_the_repeated_hour() -> None:
    # Ann is free from the second 02:45 (01:45 UTC), Bob from the first 02:50 (00:50 UTC).
    ann = schedule(
        weekly=[weekly("sun", window("00:00", "05:00"))],
        busy=[Interval(at(FALL, "00:00"), at(FALL, "02:45", fold=1))],
        specialist="ann",
    )
    bob = schedule(weekly=[weekly("sun", window("02:50", "05:00"))], specialist="bob")
    found = holes([ann, bob], day(FALL), day(FALL), EARLY, OPEN, timedelta(0))
    assert stamps(found) == [
        "bob 2026-10-25T02:50:00+02:00/2026-10-25T05:00:00+01:00",
        "ann 2026-10-25T02:45:00+01:00/2026-10-25T05:00:00+01:00",
    ]


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
def test_a_local_time_made_from_microseconds_is_the_instants_local_time(name: str) -> None:
    plan = Plan(schedule(weekly=[], zone=name))
    for first in (
        "2026-03-27",
        "2026-04-03",
        "2026-10-03",
        "2026-10-23",
        "2026-11-01",
        "1969-12-30",
    ):
        start = microseconds(datetime.fromisoformat(f"{first}T00:00:00+00:00"))
        for step in range(0, 4 * 24 * 3 * 4):  # three days in steps of 15 minutes and 7 µs
            micro = start + step * (15 * 60 * 1_000_000 + 7)
            expected = plan.local(from_microseconds(micro))
            found = plan.local_micro(micro)
            assert (found, found.fold, found.utcoffset()) == (
                expected,
                expected.fold,
                expected.utcoffset(),
            )
            assert found.replace(tzinfo=None) == expected.replace(tzinfo=None)
