"""Half-open absolute intervals: merge, subtract (also in microseconds), contains, overlaps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bookbot.engine.intervals import (
    absolute,
    contains,
    merge,
    overlaps,
    subtract,
    subtract_micro,
)
from bookbot.engine.model import Interval
from bookbot.engine.search import day_slots, holes, slot_at
from bookbot.engine.workday import Plan
from bookbot.engine.workday import microseconds as micro
from tests.engine.helpers import OPEN, at, day, schedule, times, weekly


def t(hhmm: str) -> datetime:
    """An instant on 2026-12-07 UTC."""
    return datetime.fromisoformat(f"2026-12-07T{hhmm}").replace(tzinfo=UTC)


def span(start: str, end: str) -> Interval:
    """An interval between two UTC wall times of 2026-12-07."""
    return Interval(t(start), t(end))


def test_merge_sorts_and_joins_overlapping_and_touching_intervals() -> None:
    got = merge(
        [
            span("12:00", "14:00"),
            span("09:00", "10:00"),
            span("10:00", "11:00"),
            span("09:30", "09:45"),
            span("13:00", "15:00"),
            span("16:00", "17:00"),
        ]
    )
    assert got == [span("09:00", "11:00"), span("12:00", "15:00"), span("16:00", "17:00")]
    assert merge([]) == []


def test_merge_compares_instants_across_zones() -> None:
    # 10:00 in Berlin in December is 09:00 UTC: the two touch.
    berlin = Interval(at("2026-12-07", "10:00"), at("2026-12-07", "11:00"))
    assert merge([berlin, span("08:00", "09:00")]) == [Interval(t("08:00"), berlin.end)]


def test_subtract_cuts_holes_and_keeps_the_rest() -> None:
    base = [span("09:00", "12:00"), span("13:00", "15:00")]
    cuts = [
        span("08:00", "09:30"),
        span("10:00", "10:30"),
        span("11:30", "13:30"),
        span("14:00", "14:15"),
    ]
    assert subtract(base, cuts) == [
        span("09:30", "10:00"),
        span("10:30", "11:30"),
        span("13:30", "14:00"),
        span("14:15", "15:00"),
    ]
    assert subtract(base, []) == base
    assert subtract(base, [span("00:00", "23:00")]) == []
    assert subtract([], cuts) == []


def test_subtract_with_touching_cuts_leaves_nothing_empty() -> None:
    assert subtract([span("09:00", "10:00")], [span("09:00", "09:30")]) == [span("09:30", "10:00")]
    assert subtract([span("09:00", "10:00")], [span("10:00", "11:00")]) == [span("09:00", "10:00")]


def test_contains_needs_one_interval_to_hold_it_all() -> None:
    merged = [span("09:00", "11:00"), span("12:00", "13:00")]
    assert contains(merged, t("09:00"), t("11:00"))
    assert contains(merged, t("12:00"), t("12:30"))
    assert contains(merged, t("10:30"), t("11:00"))
    assert not contains(merged, t("10:30"), t("11:01"))
    assert not contains(merged, t("10:30"), t("12:30"))
    assert not contains(merged, t("08:59"), t("09:30"))
    assert not contains([], t("09:00"), t("09:30"))


def test_overlaps_is_half_open() -> None:
    merged = [span("09:00", "10:00"), span("12:00", "13:00")]
    assert not overlaps(merged, t("10:00"), t("12:00"))
    assert not overlaps(merged, t("08:00"), t("09:00"))
    assert overlaps(merged, t("09:59"), t("10:30"))
    assert overlaps(merged, t("11:00"), t("12:01"))
    assert overlaps(merged, t("08:00"), t("14:00"))
    assert overlaps(merged, t("09:15"), t("09:30"))
    assert not overlaps([], t("09:00"), t("10:00"))


def test_subtract_in_microseconds_is_subtract_of_instants() -> None:
    base = [span("08:00", "10:00"), span("11:00", "12:00"), span("13:00", "17:00")]
    cuts = [span("07:00", "08:30"), span("09:00", "09:15"), span("09:45", "11:30")]
    cuts += [span("13:00", "13:05"), span("16:59", "18:00")]
    for n in range(len(cuts) + 1):
        for k in range(len(base) + 1):
            expected = subtract(base[k:], cuts[:n])
            got = subtract_micro(
                [(micro(s), micro(e)) for s, e in base[k:]],
                [micro(s) for s, _ in cuts[:n]],
                [micro(e) for _, e in cuts[:n]],
            )
            assert got == [(micro(s), micro(e)) for s, e in expected]
            moved = subtract_micro(
                [(micro(s) - 3_600_000_000, micro(e) - 3_600_000_000) for s, e in base[k:]],
                [micro(s) for s, _ in cuts[:n]],
                [micro(e) for _, e in cuts[:n]],
                3_600_000_000,
            )
            assert moved == got


def test_absolute_is_the_same_instant_in_utc() -> None:
    berlin = at("2026-10-25", "02:30", fold=1)
    assert absolute(berlin) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert absolute(berlin).tzinfo is UTC


def test_a_naive_time_is_refused_not_guessed() -> None:
    plan = Plan(schedule(weekly=[weekly("mon", times("09:00"))]))
    naive = datetime(2026, 12, 1, 8, 0)
    with pytest.raises(ValueError, match="no UTC offset"):
        absolute(naive)
    with pytest.raises(ValueError):
        day_slots(plan, day("2026-12-07"), naive, OPEN)
    with pytest.raises(ValueError):
        holes([plan], day("2026-12-07"), day("2026-12-07"), naive, OPEN, OPEN.min_notice)
    with pytest.raises(ValueError):
        slot_at(plan, datetime(2026, 12, 7, 9, 0), at("2026-12-01", "08:00"), OPEN)
    with pytest.raises(ValueError):
        Plan(schedule(busy=[Interval(naive, datetime(2026, 12, 1, 9, 0))]))
