"""Properties the contract implies, over random templates, overrides, busy time and clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from bookbot.engine.intervals import absolute
from bookbot.engine.model import (
    Hours,
    Interval,
    Override,
    OverrideType,
    Rules,
    Schedule,
    Slot,
    WeeklyEntry,
)
from bookbot.engine.search import (
    Refusal,
    dates,
    day_slots,
    free_days,
    free_time,
    holes,
    holes_on,
    microseconds,
    offered,
    offered_in,
    offers,
    slot_at,
    slots,
    soonest_day,
    soonest_days,
    soonest_slot,
)
from bookbot.engine.workday import Plan
from tests.engine.helpers import BERLIN, NEW_YORK, TOKYO

PROPERTY = settings(max_examples=150, deadline=None)
ZONES = (BERLIN, NEW_YORK, TOKYO, "UTC")
# Weeks around both DST changes of Berlin and New York, and around Christmas.
FIRSTS = (
    date(2026, 3, 5),
    date(2026, 3, 26),
    date(2026, 10, 22),
    date(2026, 10, 29),
    date(2026, 12, 21),
)
SPAN = 7
LAST_WALL = 23 * 60 + 55
# The Sundays the clocks change in 2026, and the instants they do.
CHANGES = {
    BERLIN: ((date(2026, 3, 29), "2026-03-29T01:00"), (date(2026, 10, 25), "2026-10-25T01:00")),
    NEW_YORK: ((date(2026, 3, 8), "2026-03-08T07:00"), (date(2026, 11, 1), "2026-11-01T06:00")),
}


def wall(count: int) -> time:
    """A wall time that many minutes after midnight."""
    return time(count // 60, count % 60)


@st.composite
def hours(draw: st.DrawFn, latest: int = 22 * 60) -> Hours:
    """A window starting by `latest` minutes with a grid, or a few single slot times."""
    slot = timedelta(minutes=draw(st.sampled_from([10, 15, 20, 30, 45, 60, 90])))
    if draw(st.booleans()):
        start = draw(st.integers(0, latest // 5)) * 5
        end = min(start + draw(st.integers(3, 96)) * 5, LAST_WALL)
        gap = timedelta(minutes=draw(st.sampled_from([0, 0, 5, 10, 15])))
        return Hours(slot=slot, start=wall(start), end=wall(end), break_after=gap)
    starts = draw(st.lists(st.integers(0, latest // 5), min_size=1, max_size=4, unique=True))
    return Hours(slot=slot, times=tuple(wall(n * 5) for n in sorted(starts)))


@st.composite
def weekly_entries(draw: st.DrawFn, first: date) -> WeeklyEntry:
    """A weekly line, sometimes bounded by dates near `first`."""
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    bound = st.none() | st.integers(-1, SPAN).map(lambda n: first + timedelta(days=n))
    return WeeklyEntry(days, draw(hours()), draw(bound), draw(bound))


@st.composite
def overrides(draw: st.DrawFn, first: date) -> Override:
    """One override on the dates asked about."""
    kind = draw(st.sampled_from(list(OverrideType)))
    on = first + timedelta(days=draw(st.integers(0, SPAN)))
    if kind == OverrideType.DAY_OFF:
        return Override(kind, on, on)
    if kind == OverrideType.VACATION:
        return Override(kind, on, on + timedelta(days=draw(st.integers(0, 2))))
    return Override(kind, on, on, draw(hours()))


def after(instant: datetime, low: int, high: int) -> st.SearchStrategy[datetime]:
    """Instants `low` to `high` minutes after `instant`, on a five-minute grid."""
    return st.integers(low // 5, high // 5).map(lambda n: instant + timedelta(minutes=5 * n))


@st.composite
def busy_intervals(
    draw: st.DrawFn, first: date, zone_name: str, near: datetime | None = None
) -> Interval:
    """Busy time near the dates asked about (or an instant), in UTC or on the local clock."""
    if near is None:
        start = draw(after(datetime.combine(first, time(0), UTC), -12 * 60, (SPAN + 1) * 24 * 60))
    else:
        start = draw(after(near, -4 * 60, 3 * 60))
    end = start + timedelta(minutes=5 * draw(st.integers(1, 48)))
    if draw(st.booleans()):
        tz = ZoneInfo(zone_name)
        return Interval(start.astimezone(tz), end.astimezone(tz))
    return Interval(start, end)


@st.composite
def schedules(draw: st.DrawFn, first: date, specialist: str = "ann") -> Schedule:
    """A specialist's schedule around `first`."""
    zone_name = draw(st.sampled_from(ZONES))
    return Schedule(
        specialist=specialist,
        timezone=zone_name,
        weekly=tuple(draw(st.lists(weekly_entries(first), max_size=3))),
        overrides=tuple(draw(st.lists(overrides(first), max_size=3))),
        holidays=draw(st.sampled_from([(), (), ("DE-BY",), ("US-NY",)])),
        busy=tuple(draw(st.lists(busy_intervals(first, zone_name), max_size=4))),
    )


@st.composite
def worlds(draw: st.DrawFn, many: bool = False) -> tuple[list[Schedule], datetime, Rules]:
    """Schedules of one or more specialists, a clock and the rules."""
    first = draw(st.sampled_from(FIRSTS))
    count = draw(st.integers(1, 3)) if many else 1
    found = [draw(schedules(first, specialist)) for specialist in ("ann", "bob", "cid")[:count]]
    now = draw(after(datetime.combine(first, time(0), UTC), -24 * 60, SPAN * 24 * 60))
    if draw(st.booleans()):
        now = now.astimezone(ZoneInfo(found[0].timezone))
    rules = Rules(
        min_notice=timedelta(minutes=draw(st.sampled_from([0, 30, 90, 26 * 60]))),
        horizon_days=draw(st.integers(0, SPAN + 1)),
    )
    return found, now, rules


@st.composite
def night_worlds(draw: st.DrawFn, many: bool = False) -> tuple[list[Schedule], datetime, Rules]:
    """Specialists of one zone working the night its clocks change, and a clock before."""
    zone_name = draw(st.sampled_from([BERLIN, NEW_YORK]))
    on, text = draw(st.sampled_from(CHANGES[zone_name]))
    change = datetime.fromisoformat(text).replace(tzinfo=UTC)
    count = draw(st.integers(1, 3)) if many else 1
    found = [
        Schedule(
            specialist=specialist,
            timezone=zone_name,
            weekly=tuple(
                WeeklyEntry(frozenset({6}), hours)
                for hours in draw(st.lists(hours(latest=4 * 60), min_size=1, max_size=3))
            ),
            busy=tuple(draw(st.lists(busy_intervals(on, zone_name, change), max_size=4))),
        )
        for specialist in ("ann", "bob", "cid")[:count]
    ]
    now = draw(after(change, -8 * 60, 2 * 60))
    if draw(st.booleans()):
        now = now.astimezone(ZoneInfo(zone_name))
    rules = Rules(
        min_notice=timedelta(minutes=draw(st.sampled_from([0, 30, 60, 90, 120]))),
        horizon_days=draw(st.integers(0, 2)),
    )
    return found, now, rules


def window_of_dates(now: datetime) -> tuple[date, date]:
    """Local dates wide enough for every zone's today and horizon."""
    today = now.astimezone(UTC).date()
    return today - timedelta(days=2), today + timedelta(days=SPAN + 3)


ONE = worlds() | night_worlds()
MANY = worlds(many=True) | night_worlds(many=True)
durations = st.none() | st.sampled_from([15, 30, 60, 90, 150]).map(lambda n: timedelta(minutes=n))


def key(slot: Slot) -> tuple[str, datetime, datetime]:
    """A slot as comparable absolute values."""
    return (slot.specialist, absolute(slot.start), absolute(slot.end))


def all_slots(
    found: list[Schedule | Plan], now: datetime, rules: Rules, length: timedelta | None = None
) -> list[Slot]:
    """Every slot any of them offers."""
    first, last = window_of_dates(now)
    return slots(found, first, last, now, rules, length)


@PROPERTY
@given(ONE, durations)
def test_offered_slots_overlap_no_busy_time(world, length) -> None:
    (schedule,), now, rules = world
    for slot in all_slots([schedule], now, rules, length):
        for start, end in schedule.busy:
            assert not (
                absolute(slot.start) < absolute(end) and absolute(start) < absolute(slot.end)
            )


@PROPERTY
@given(ONE, durations)
def test_offered_slots_obey_windows_grid_notice_and_horizon(world, length) -> None:
    (schedule,), now, rules = world
    plan = Plan(schedule)
    earliest = absolute(now) + rules.min_notice
    last = now.astimezone(plan.tz).date() + timedelta(days=rules.horizon_days)
    for slot in all_slots([plan], now, rules, length):
        on = slot.start.astimezone(plan.tz).date()
        work = plan.work_day(on)
        assert str(slot.start.tzinfo) == schedule.timezone
        assert absolute(slot.start) >= earliest
        assert on <= last
        assert not plan.is_closed(on)
        candidate = next(c for c in work.candidates if c.start == absolute(slot.start))
        assert absolute(slot.end) - absolute(slot.start) == (length or candidate.slot)
        assert any(s <= absolute(slot.start) and absolute(slot.end) <= e for s, e in work.windows)
        # The grid is on the wall clock: the start is a wall time the hours yield.
        local = slot.start.astimezone(plan.tz)
        assert local.fold == 0


@PROPERTY
@given(ONE, durations)
def test_kept_candidates_offer_what_the_day_offers(world, length) -> None:
    (schedule,), now, rules = world
    plan = Plan(schedule)
    first, last = window_of_dates(now)
    for on in dates(first, min(last, plan.today(now) + timedelta(days=rules.horizon_days))):
        work = plan.work_day(on)
        free = free_time(plan, work.windows)
        starts = [microseconds(start) for start, _ in free]
        ends = [microseconds(end) for _, end in free]
        # Also as notice reaches a candidate's start exactly: it is offered.
        for at in [now] + [c.start - rules.min_notice for c in work.candidates[1:2]]:
            if on > plan.today(at) + timedelta(days=rules.horizon_days):
                continue  # past the horizon: the caller asks no more
            expected = offered(plan, work, free, at, rules, length)
            since = microseconds(absolute(at) + rules.min_notice)
            found = offered_in(offers(plan, work, length), starts, ends, since)
            assert found == expected


@PROPERTY
@given(MANY, durations)
def test_slots_come_sorted_by_instant_then_id_without_repeats(world, length) -> None:
    found, now, rules = world
    offered = all_slots(found, now, rules, length)
    keys = [(absolute(s.start), s.specialist) for s in offered]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


@PROPERTY
@given(ONE, st.data(), durations)
def test_more_busy_time_never_adds_a_slot(world, data, length) -> None:
    (schedule,), now, rules = world
    near = now.astimezone(UTC).date() - timedelta(days=1)
    more = data.draw(busy_intervals(near, schedule.timezone))
    before = {key(s) for s in all_slots([schedule], now, rules, length)}
    busier = replace(schedule, busy=(*schedule.busy, more))
    after = {key(s) for s in all_slots([busier], now, rules, length)}
    assert after <= before
    for slot in before - after:
        assert absolute(more.start) < slot[2] and slot[1] < absolute(more.end)


@PROPERTY
@given(ONE, st.integers(0, SPAN), durations)
def test_a_day_off_removes_that_days_slots_and_no_others(world, offset, length) -> None:
    (schedule,), now, rules = world
    first, _ = window_of_dates(now)
    off = first + timedelta(days=2 + offset)
    closed = replace(
        schedule, overrides=(*schedule.overrides, Override(OverrideType.DAY_OFF, off, off))
    )
    before = all_slots([schedule], now, rules, length)
    after = all_slots([closed], now, rules, length)
    tz = ZoneInfo(schedule.timezone)
    assert after == [s for s in before if s.start.astimezone(tz).date() != off]


@PROPERTY
@given(ONE, st.integers(0, SPAN), durations)
def test_extra_slots_never_take_a_start_away(world, offset, length) -> None:
    (schedule,), now, rules = world
    first, _ = window_of_dates(now)
    on = first + timedelta(days=2 + offset)
    more = Hours(slot=timedelta(minutes=30), start=time(8), end=time(18))
    wider = replace(
        schedule, overrides=(*schedule.overrides, Override(OverrideType.EXTRA_SLOTS, on, on, more))
    )
    before = {absolute(s.start) for s in all_slots([schedule], now, rules, length)}
    after = {absolute(s.start) for s in all_slots([wider], now, rules, length)}
    assert before <= after


@PROPERTY
@given(ONE, st.sampled_from([15, 30, 60]), st.sampled_from([0, 30, 90]))
def test_a_longer_service_fits_in_fewer_starts(world, shorter, more) -> None:
    (schedule,), now, rules = world
    short = timedelta(minutes=shorter)
    long = short + timedelta(minutes=more)
    fewer = {absolute(s.start) for s in all_slots([schedule], now, rules, long)}
    assert fewer <= {absolute(s.start) for s in all_slots([schedule], now, rules, short)}


@PROPERTY
@given(MANY, durations)
def test_soonest_slot_is_the_first_slot_of_all(world, length) -> None:
    found, now, rules = world
    offered = all_slots(found, now, rules, length)
    best = soonest_slot(found, now, rules, duration=length)
    assert best == (offered[0] if offered else None)


@PROPERTY
@given(MANY, durations)
def test_soonest_days_hold_each_first_day_and_all_its_slots(world, length) -> None:
    found, now, rules = world
    results = soonest_days(found, now, rules, duration=length)
    order = [(r.day is None, r.day or date.min, r.specialist) for r in results]
    assert order == sorted(order)
    for schedule in found:
        plan = Plan(schedule)
        result = soonest_day(plan, now, rules, duration=length)
        assert result in results
        mine = all_slots([plan], now, rules, length)
        if not mine:
            assert result.day is None and result.slots == ()
            continue
        first_day = mine[0].start.astimezone(plan.tz).date()
        assert result.day == first_day
        assert list(result.slots) == day_slots(plan, first_day, now, rules, length)
        assert result.slots[0] == mine[0]


@PROPERTY
@given(ONE, durations)
def test_slot_at_agrees_with_the_offered_slots(world, length) -> None:
    (schedule,), now, rules = world
    plan = Plan(schedule)
    first, last = window_of_dates(now)
    offered = {key(s): s for s in all_slots([plan], now, rules, length)}
    for on in dates(first, last):
        for candidate in plan.work_day(on).candidates:
            try:
                got = slot_at(plan, candidate.start.astimezone(plan.tz), now, rules, length)
            except Refusal as refusal:
                assert refusal.reason in ("not_offered", "too_soon", "beyond_horizon", "taken")
                assert all(k[1] != candidate.start for k in offered)
            else:
                assert offered.pop(key(got)) == got
    assert offered == {}


@PROPERTY
@given(ONE, st.sampled_from([0, 20, 45, 90]))
def test_holes_are_free_working_time_and_hold_every_slot(world, least) -> None:
    (schedule,), now, rules = world
    plan = Plan(schedule)
    first, last = window_of_dates(now)
    earliest = absolute(now) + rules.min_notice
    offered = all_slots([plan], now, rules)
    for on in dates(first, last):
        found = holes([plan], on, on, now, rules, timedelta(0))
        spans = [(absolute(h.start), absolute(h.end)) for h in found]
        windows = plan.work_day(on).windows
        for start, end in spans:
            assert earliest <= start < end
            assert any(s <= start and end <= e for s, e in windows)
            for b_start, b_end in plan.busy:
                assert not (start < b_end and b_start < end)
        # Maximal: two holes of one day never touch or overlap.
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert end < start
        for slot in offered:
            if slot.start.astimezone(plan.tz).date() == on:
                s, e = absolute(slot.start), absolute(slot.end)
                assert any(start <= s and e <= end for start, end in spans)
        longer = holes([plan], on, on, now, rules, timedelta(minutes=least))
        assert longer == [
            h
            for h in found
            if h.end.astimezone(UTC) - h.start.astimezone(UTC) >= timedelta(minutes=least)
        ]


@PROPERTY
@given(ONE, st.sampled_from([0, 20, 45, 90]))
def test_holes_worked_out_in_microseconds_are_the_free_time_of_instants(world, least) -> None:
    (schedule,), now, rules = world
    plan = Plan(schedule)
    earliest = absolute(now) + rules.min_notice
    length = timedelta(minutes=least)
    for on in dates(*window_of_dates(now)):
        expected = [
            (max(start, earliest), end)
            for start, end in free_time(plan, plan.windows(on))
            if end > earliest and end - max(start, earliest) >= length
        ]
        found = holes_on(plan, [on], earliest, length)
        assert [(absolute(h.start), absolute(h.end)) for h in found] == expected
        for hole in found:
            assert hole.start == hole.start.astimezone(plan.tz)
            assert hole.start.tzinfo is plan.tz and hole.end.tzinfo is plan.tz
            assert hole.location == plan.place(on, absolute(hole.start))


@PROPERTY
@given(MANY, st.frozensets(st.integers(0, 6)))
def test_holes_over_many_days_are_the_days_holes_on_the_weekdays_asked(world, weekdays) -> None:
    found, now, rules = world
    first, last = window_of_dates(now)
    got = holes(found, first, last, now, rules, timedelta(0), weekdays)
    expected = [
        hole
        for on in dates(first, last)
        if on.weekday() in weekdays
        for hole in holes(found, on, on, now, rules, timedelta(0))
    ]
    order = [(absolute(h.start), h.specialist) for h in got]
    assert order == sorted(order)
    assert sorted(got, key=lambda h: (absolute(h.start), h.specialist, absolute(h.end))) == sorted(
        expected, key=lambda h: (absolute(h.start), h.specialist, absolute(h.end))
    )


@PROPERTY
@given(MANY, durations)
def test_free_days_are_the_local_dates_of_the_slots(world, length) -> None:
    found, now, rules = world
    first, last = window_of_dates(now)
    offered = slots(found, first, last, now, rules, length)
    days = free_days(found, first, last, now, rules, length)
    assert days == sorted({slot.start.date() for slot in offered})
