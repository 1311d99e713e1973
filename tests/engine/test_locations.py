"""A chain: slots carry their place, holidays by place, one place at a time, asked by place."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bookbot import clinic_file
from bookbot.engine import places, search
from bookbot.engine.workday import Plan
from bookbot.errors import Invalid
from tests.clinics import CHAIN, NOW
from tests.engine.helpers import minutes

now = datetime.fromisoformat(NOW)  # Monday 2026-11-30, 08:00 in Berlin


def chain(text: str = CHAIN) -> dict[str, Plan]:
    """The chain's plans by specialist."""
    clinic = clinic_file.read(text)
    return {s.id: Plan(s.schedule(clinic.business, clinic.bookings)) for s in clinic.specialists}


def seen(slots: list) -> list[tuple[str, str, str | None]]:
    """Slots as (specialist, local start, location)."""
    return [(s.specialist, s.start.strftime("%a %d %H:%M"), s.location) for s in slots]


def slots_of(plan: Plan, first: str, last: str | None = None) -> list:
    clinic = clinic_file.read(CHAIN)
    day, to = date.fromisoformat(first), date.fromisoformat(last or first)
    return search.slots([plan], day, to, now, clinic.business.rules)


def test_a_specialist_works_at_two_branches_in_one_week() -> None:
    assert seen(slots_of(chain()["ann"], "2026-11-30", "2026-12-04")) == [
        ("ann", "Mon 30 09:00", "mitte"),
        ("ann", "Mon 30 09:30", "mitte"),
        ("ann", "Mon 30 10:00", "mitte"),
        ("ann", "Mon 30 10:30", "mitte"),
        ("ann", "Tue 01 09:00", "mitte"),
        ("ann", "Tue 01 09:30", "mitte"),
        ("ann", "Tue 01 10:00", "mitte"),
        ("ann", "Tue 01 10:30", "mitte"),
        ("ann", "Thu 03 09:00", "spandau"),
        ("ann", "Thu 03 09:30", "spandau"),
        ("ann", "Thu 03 10:00", "spandau"),
        ("ann", "Thu 03 10:30", "spandau"),
        ("ann", "Thu 03 11:00", "mitte"),
        ("ann", "Thu 03 11:30", "mitte"),
    ]


def test_a_visit_never_runs_across_two_places_windows_even_where_they_touch() -> None:
    clinic = clinic_file.read(CHAIN)
    plan = chain()["ann"]
    hygiene = search.day_slots(
        plan, date(2026, 12, 3), now, clinic.business.rules, clinic.services[1].duration
    )
    # 09:00-11:00 at Spandau, then 11:00-12:00 at Mitte: no 90 minutes at one place but 09:00.
    assert seen(hygiene) == [("ann", "Thu 03 09:00", "spandau"), ("ann", "Thu 03 09:30", "spandau")]
    rules = clinic.business.rules
    holes = search.holes([plan], date(2026, 12, 3), date(2026, 12, 3), now, rules, minutes(30))
    assert [(h.start.strftime("%H:%M"), h.end.strftime("%H:%M"), h.location) for h in holes] == [
        ("09:00", "11:00", "spandau"),
        ("11:00", "12:00", "mitte"),
    ]


def test_a_branch_holiday_closes_only_that_branchs_windows() -> None:
    # 8 December is a holiday in Austria, not in Berlin.
    assert seen(slots_of(chain()["eva"], "2026-12-08")) == [
        ("eva", "Tue 08 14:00", "mitte"),
        ("eva", "Tue 08 14:30", "mitte"),
    ]
    assert seen(slots_of(chain()["eva"], "2026-12-01")) == [
        ("eva", "Tue 01 09:00", "salzburg"),
        ("eva", "Tue 01 09:30", "salzburg"),
        ("eva", "Tue 01 14:00", "mitte"),
        ("eva", "Tue 01 14:30", "mitte"),
    ]


def test_a_specialists_own_calendar_beats_the_branchs() -> None:
    assert seen(slots_of(chain()["max"], "2026-12-08")) == [
        ("max", "Tue 08 09:00", "salzburg"),
        ("max", "Tue 08 09:30", "salzburg"),
    ]


def test_a_branch_zone_is_the_default_of_its_specialists() -> None:
    plans = chain()
    assert plans["eva"].schedule.timezone == "Europe/Vienna"
    assert plans["ann"].schedule.timezone == "Europe/Berlin"


def test_busy_time_is_the_specialists_everywhere() -> None:
    clinic = clinic_file.read(CHAIN)
    ann = clinic.specialists[0]
    booked = CHAIN + (
        "bookings:\n  - {specialist: ann, service: hygiene, start: 2026-12-03T09:00}\n"
    )
    plan = chain(booked)["ann"]
    assert seen(slots_of(plan, "2026-12-03")) == [
        ("ann", "Thu 03 10:30", "spandau"),
        ("ann", "Thu 03 11:00", "mitte"),
        ("ann", "Thu 03 11:30", "mitte"),
    ]
    assert ann.location == "mitte"


def test_a_question_asked_at_one_place_counts_only_its_windows() -> None:
    clinic = clinic_file.read(CHAIN)
    spandau = places.at(clinic.business.places["spandau"])
    plans = [Plan(s.schedule(clinic.business), spandau.places) for s in clinic.specialists]
    found = search.slots(plans, date(2026, 11, 30), date(2026, 12, 4), now, clinic.business.rules)
    assert seen(found) == [
        ("ann", "Thu 03 09:00", "spandau"),
        ("ann", "Thu 03 09:30", "spandau"),
        ("ann", "Thu 03 10:00", "spandau"),
        ("ann", "Thu 03 10:30", "spandau"),
    ]
    soonest = search.soonest_slot(plans, now, clinic.business.rules)
    assert soonest is not None and seen([soonest]) == [("ann", "Thu 03 09:00", "spandau")]


def test_near_a_point_takes_the_places_within_the_distance() -> None:
    business = clinic_file.read(CHAIN).business
    # Alexanderplatz: Mitte is 1.7 km away, Spandau 14.3 km, Salzburg over 500 km.
    near = places.near(business.locations, 52.5219, 13.4132, 10)
    assert near.places == {"mitte"}
    wider = places.near(business.locations, 52.5219, 13.4132, 25)
    assert wider.places == {"mitte", "spandau"}
    assert round(wider.km["mitte"], 1) == 1.7
    assert round(wider.km["spandau"], 1) == 14.3


@pytest.mark.parametrize(
    ("line", "path", "key"),
    [
        (
            '      - {days: [thu], start: "10:00", end: "11:30", slot: 30m, location: mitte}\n',
            "specialists[0].weekly[3]",
            "file.overlaps_elsewhere",
        ),
        (
            '      - {days: [thu], start: "08:00", end: "09:00", slot: 30m, location: nowhere}\n',
            "specialists[0].weekly[3].location",
            "error.unknown_location",
        ),
    ],
)
def test_a_bad_place_is_refused_with_its_path(line: str, path: str, key: str) -> None:
    anchor = '      - {days: [thu], start: "11:00", end: "12:00", slot: 30m}\n'
    with pytest.raises(Invalid) as refused:
        clinic_file.read(CHAIN.replace(anchor, anchor + line))
    assert [(p.path, p.key) for p in refused.value.problems] == [(path, key)]


def test_an_extra_slot_at_another_place_over_a_window_is_refused() -> None:
    anchor = '      - {days: [thu], start: "11:00", end: "12:00", slot: 30m}\n'
    extra = (
        "    overrides:\n"
        "      - {date: 2026-12-01, type: extra_slots, times: ['10:30'], slot: 30m,"
        " location: spandau}\n"
        "      - {date: 2026-12-02, type: extra_slots, times: ['10:30'], slot: 30m,"
        " location: spandau}\n"
    )
    with pytest.raises(Invalid) as refused:
        clinic_file.read(CHAIN.replace(anchor, anchor + extra))
    assert [(p.path, p.key, p.params) for p in refused.value.problems] == [
        (
            "specialists[0].overrides[0]",
            "file.overlaps_elsewhere",
            {"other": "specialists[0].weekly[0]"},
        )
    ]


def test_with_locations_every_working_entry_has_a_place() -> None:
    unplaced = CHAIN.replace("    location: salzburg\n    holidays: none\n", "    holidays: none\n")
    with pytest.raises(Invalid) as refused:
        clinic_file.read(unplaced)
    assert [(p.path, p.key) for p in refused.value.problems] == [
        ("specialists[2].weekly[0].location", "file.no_location")
    ]
