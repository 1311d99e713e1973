"""The day summary the index keeps: what it holds is the engine's answer, however asked.

Slots computed from a summary's holes equal the slots computed from busy time, at any
clock, rules and service length; its start mask marks just the buckets that hold a free
start; the dates `touched` names are the only ones busy time can change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from bookbot.engine.intervals import absolute
from bookbot.engine.model import Interval, Rules
from bookbot.engine.search import dates, day_slots, free_time, holes, holes_on, offered, slot_at
from bookbot.engine.summary import (
    BUCKET,
    BUCKETS,
    DaySummary,
    FreeDay,
    bucket,
    bucket_start,
    free_days,
    summarize,
    touched,
)
from bookbot.engine.workday import Plan, microseconds
from tests.engine.helpers import BERLIN, schedule, times, weekly, window
from tests.engine.test_properties import ONE, durations, window_of_dates

PROPERTY = settings(max_examples=150, deadline=None)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
OPEN = Rules(min_notice=timedelta(0), horizon_days=40_000)


@PROPERTY
@given(ONE, durations)
def test_slots_from_the_summary_equal_slots_from_busy_time(world, length) -> None:
    (found,), now, rules = world
    plan = Plan(found)
    for day in dates(*window_of_dates(now)):
        work = plan.work_day(day)
        summary = summarize(plan, work)
        assert offered(plan, work, summary.holes, now, rules, length) == day_slots(
            plan, day, now, rules, length
        )


@PROPERTY
@given(ONE)
def test_the_summary_counts_the_free_slots_and_holds_the_holes(world) -> None:
    (found,), now, _ = world
    plan = Plan(found)
    for day in dates(*window_of_dates(now)):
        summary = summarize(plan, plan.work_day(day))
        free = day_slots(plan, day, LONG_AGO, OPEN)
        assert summary.free_slots == len(free)
        assert summary.first_free == (absolute(free[0].start) if free else None)
        expected = holes([plan], day, day, LONG_AGO, OPEN, timedelta.resolution)
        assert summary.holes == tuple(
            Interval(absolute(h.start), absolute(h.end)) for h in expected
        )
        lengths = [absolute(h.end) - absolute(h.start) for h in expected]  # real time
        assert summary.free_minutes == sum(lengths, timedelta(0)) // timedelta(minutes=1)
        assert summary.longest_hole_minutes == max(lengths, default=timedelta(0)) // timedelta(
            minutes=1
        )


@PROPERTY
@given(ONE)
def test_free_days_tell_what_summarize_does(world) -> None:
    (found,), now, _ = world
    plan = Plan(found)
    days = list(dates(*window_of_dates(now)))
    assert free_days(plan, days) == [
        FreeDay.of(summarize(plan, plan.work_day(day))) for day in days
    ]


@PROPERTY
@given(ONE)
def test_the_start_mask_marks_the_buckets_that_hold_a_free_start(world) -> None:
    (found,), now, _ = world
    plan = Plan(found)
    for day in dates(*window_of_dates(now)):
        summary = summarize(plan, plan.work_day(day))
        if summary.first_free is None:
            assert summary.start_mask == 0
            continue
        base = bucket(summary.first_free)
        marked = {k for k in range(BUCKETS) if summary.start_mask >> k & 1}
        assert marked == {min(bucket(start) - base, BUCKETS - 1) for start in summary.starts}
        for k in marked - {BUCKETS - 1}:
            assert (
                bucket_start(base + k)
                <= max(s for s in summary.starts if bucket(s) == base + k)
                < bucket_start(base + k + 1)
            )


def test_the_last_bit_of_the_mask_stands_for_every_later_bucket() -> None:
    first = datetime(2026, 11, 30, 8, 10, tzinfo=UTC)
    summary = DaySummary(first.date(), (), (first, first + 70 * BUCKET, first + 90 * BUCKET))
    assert summary.start_mask == 1 | 1 << (BUCKETS - 1)
    assert summary.start_mask < 2**63  # a positive signed 64-bit integer in SQL
    assert bucket_start(bucket(first)) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@PROPERTY
@given(ONE, st.integers(0, 9 * 24 * 60), st.sampled_from([10, 45, 120, 24 * 60 + 30]))
def test_busy_time_changes_only_the_dates_touched_names(world, offset, minutes) -> None:
    (found,), now, _ = world
    first, last = window_of_dates(now)
    start = datetime.combine(first, datetime.min.time(), UTC) + timedelta(minutes=offset)
    end = start + timedelta(minutes=minutes)
    before = Plan(found)
    after = Plan(replace(found, busy=(*found.busy, Interval(start, end))))
    named = set(touched(before, start, end))
    for day in dates(first - timedelta(days=2), last):
        if day not in named:
            assert summarize(before, before.work_day(day)) == summarize(
                after, after.work_day(day)
            ), day


def test_a_window_starting_in_the_skipped_hour_offers_what_slot_at_takes() -> None:
    # Berlin's spring change: a window from 02:45 comes out reversed in real time.
    plan = Plan(
        schedule(
            weekly=[
                weekly("sun", window("02:45", "03:00", slot=10)),
                weekly("sun", window("02:45", "03:55", slot=10)),
            ],
            zone=BERLIN,
        )
    )
    day = datetime(2026, 3, 29).date()
    now = datetime(2026, 3, 28, tzinfo=UTC)
    work = plan.work_day(day)
    found = offered(plan, work, summarize(plan, work).holes, now, OPEN)
    assert found == day_slots(plan, day, now, OPEN)
    for slot in found:
        assert slot_at(plan, slot.start, now, OPEN) == slot


def test_a_late_single_slot_reaches_into_the_next_date() -> None:
    plan = Plan(schedule(weekly=[weekly("mon", times("23:30", slot=60))], zone=BERLIN))
    monday = datetime(2026, 11, 30).date()
    busy_after_midnight = datetime(2026, 12, 1, 0, 0, tzinfo=UTC) - timedelta(hours=1)
    assert monday in touched(
        plan,
        busy_after_midnight + timedelta(minutes=10),
        busy_after_midnight + timedelta(minutes=20),
    )


@PROPERTY
@given(ONE, st.integers(0, 4))
def test_busy_time_handed_over_as_numbers_summarizes_as_the_same_time_given_as_instants(
    world, kept: int
) -> None:
    (found,), now, _ = world
    own, handed = found.busy[:kept], found.busy[kept:]
    booked = (
        [microseconds(absolute(start)) for start, _ in handed],
        [microseconds(absolute(end)) for _, end in handed],
    )
    plan = Plan(found)
    days = list(dates(*window_of_dates(now)))
    # Each day's free time, from the part of the numbers near it made instants alone.
    sliced = Plan(replace(found, busy=own), booked=booked)
    for day in days:
        windows = plan.work_day(day).windows
        assert free_time(sliced, windows) == free_time(plan, windows)
    assert "busy" not in sliced.__dict__  # no instant was made of the rest
    given_as_numbers = Plan(replace(found, busy=own), booked=booked)
    assert given_as_numbers.busy == plan.busy
    assert given_as_numbers.busy_micro == plan.busy_micro
    assert free_days(given_as_numbers, days) == free_days(plan, days)
    # The same time added to a plan that has laid out its days already: its shapes shared.
    base = Plan(replace(found, busy=own))
    before = free_days(base, days)
    added = base.with_booked(booked)
    assert added.shapes is base.shapes
    assert added.busy == plan.busy
    assert free_days(added, days) == free_days(plan, days)
    earliest = absolute(now)
    assert holes_on(added, days, earliest, MINUTE) == holes_on(plan, days, earliest, MINUTE)
    assert free_days(base, days) == before  # the plan it was made from is as it was
