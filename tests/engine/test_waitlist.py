"""The waitlist's rules: which entries a freed slot matches, and which one it is offered to."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from msgspec.structs import replace

from bookbot.engine.model import Slot
from bookbot.engine.waitlist import (
    AFTERNOON,
    EVENING,
    MORNING,
    Entry,
    expired,
    matches,
    part_of_day,
    pick,
    wanted,
)

BERLIN = "Europe/Berlin"
NOW = datetime.fromisoformat("2026-12-01T08:00:00+00:00")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


def slot(start: str, specialist: str = "ann") -> Slot:
    begins = utc(start)
    return Slot(specialist, begins, begins + timedelta(minutes=30))


def entry(id: int = 1, client: int = 100, **fields: object) -> Entry:
    waiting = Entry(
        id=id,
        client=client,
        service="checkup",
        specialist=None,
        location=None,
        first=date(2026, 12, 1),
        last=date(2026, 12, 10),
        joined_at=utc("2026-11-20T10:00:00"),
    )
    return replace(waiting, **fields)


def matching(waiting: Entry, offered: Slot, location: str | None = None) -> bool:
    return matches(waiting, replace(offered, location=location), BERLIN, service="checkup")


# -- parts of the day ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "part"),
    [
        ("2026-12-01T10:59:00", MORNING),  # 11:59 in Berlin
        ("2026-12-01T11:00:00", AFTERNOON),  # 12:00
        ("2026-12-01T15:59:00", AFTERNOON),  # 16:59
        ("2026-12-01T16:00:00", EVENING),  # 17:00
        ("2026-12-01T22:59:00", EVENING),  # 23:59
        ("2026-12-01T23:00:00", MORNING),  # 00:00 on 2 December
    ],
)
def test_the_part_of_the_day_is_read_on_the_specialists_clock(start: str, part: str) -> None:
    assert part_of_day(utc(start), BERLIN) == part


def test_parts_of_the_day_on_the_days_the_clocks_change() -> None:
    # Sunday 25 October 2026 begins in summer time and ends in winter time (CET, +01:00).
    assert part_of_day(utc("2026-10-25T10:30:00"), BERLIN) == MORNING  # 11:30 CET
    assert part_of_day(utc("2026-10-24T10:30:00"), BERLIN) == AFTERNOON  # 12:30 CEST
    # Sunday 29 March 2026 ends in summer time (CEST, +02:00).
    assert part_of_day(utc("2026-03-29T15:30:00"), BERLIN) == EVENING  # 17:30 CEST
    assert part_of_day(utc("2026-03-28T15:30:00"), BERLIN) == AFTERNOON  # 16:30 CET


# -- matching ------------------------------------------------------------------------------


def test_an_entry_matches_its_service_and_specialist_or_any() -> None:
    offered = slot("2026-12-03T09:00:00")
    assert matching(entry(), offered)
    assert matching(entry(specialist="ann"), offered)
    assert not matching(entry(specialist="bob"), offered)
    assert not matches(entry(), offered, BERLIN, service="hygiene")


def test_an_entry_matches_its_location_or_any() -> None:
    offered = slot("2026-12-03T09:00:00")
    assert matching(entry(location="mitte"), offered, location="mitte")
    assert matching(entry(), offered, location="spandau")
    assert not matching(entry(location="mitte"), offered, location="spandau")
    assert not matching(entry(location="mitte"), offered)


def test_an_entry_matches_its_dates_by_the_local_date() -> None:
    waiting = entry(first=date(2026, 12, 2), last=date(2026, 12, 3))
    assert not matching(waiting, slot("2026-12-01T22:59:00"))  # 23:59 on 1 December
    assert matching(waiting, slot("2026-12-01T23:00:00"))  # 00:00 on 2 December
    assert matching(waiting, slot("2026-12-03T22:30:00"))  # 23:30 on 3 December
    assert not matching(waiting, slot("2026-12-03T23:00:00"))  # 00:00 on 4 December


def test_an_entry_with_parts_of_the_day_matches_only_those() -> None:
    evenings = entry(parts=frozenset({EVENING}))
    assert matching(evenings, slot("2026-12-03T16:00:00"))  # 17:00
    assert not matching(evenings, slot("2026-12-03T15:30:00"))  # 16:30
    mornings_or_evenings = entry(parts=frozenset({MORNING, EVENING}))
    assert matching(mornings_or_evenings, slot("2026-12-03T08:00:00"))
    assert not matching(mornings_or_evenings, slot("2026-12-03T12:00:00"))
    assert matching(entry(), slot("2026-12-03T12:00:00"))  # no parts: any time of day


def test_on_a_dst_day_the_part_follows_the_wall_clock() -> None:
    mornings = entry(first=date(2026, 10, 25), last=date(2026, 10, 25), parts=frozenset({MORNING}))
    assert matching(mornings, slot("2026-10-25T10:30:00"))  # 11:30 CET
    assert not matching(mornings, slot("2026-10-25T11:00:00"))  # 12:00 CET
    # 00:30 CEST on the 25th is 22:30 UTC on the 24th: it is the 25th's slot.
    assert matching(mornings, slot("2026-10-24T22:30:00"))


# -- picking -------------------------------------------------------------------------------

FREED = slot("2026-12-03T09:00:00")


def picked(
    entries: list[Entry],
    offered: Slot = FREED,
    now: datetime = NOW,
    min_notice: timedelta = timedelta(minutes=30),
    busy: frozenset[int] = frozenset(),
) -> Entry | None:
    return pick(entries, offered, BERLIN, now, min_notice, busy, service="checkup")


def test_the_earliest_joined_matching_entry_gets_the_slot() -> None:
    first = entry(1, 100, joined_at=utc("2026-11-20T10:00:00"))
    second = entry(2, 200, joined_at=utc("2026-11-21T10:00:00"))
    third = entry(3, 300, joined_at=utc("2026-11-19T10:00:00"), specialist="bob")
    assert picked([second, third, first]) == first
    assert picked([second]) == second
    assert picked([third]) is None


def test_entries_joined_at_one_instant_go_by_id() -> None:
    assert picked([entry(5, 100), entry(4, 200)]) == entry(4, 200)


def test_a_client_holding_an_offer_is_passed_over() -> None:
    first = entry(1, 100, joined_at=utc("2026-11-20T10:00:00"))
    second = entry(2, 200, joined_at=utc("2026-11-21T10:00:00"))
    assert picked([first, second], busy=frozenset({100})) == second
    assert picked([first, second], busy=frozenset({100, 200})) is None


def test_no_slot_is_offered_inside_the_minimum_notice() -> None:
    soon = slot("2026-12-01T08:30:00")
    assert picked([entry()], soon) == entry()
    assert picked([entry()], soon, min_notice=timedelta(minutes=31)) is None
    assert picked([entry()], soon, now=utc("2026-12-01T08:30:01"), min_notice=timedelta(0)) is None


def test_an_entry_whose_dates_passed_gets_nothing() -> None:
    past = entry(last=date(2026, 11, 30))
    assert picked([past], slot("2026-12-01T09:00:00")) is None
    assert expired(past, date(2026, 12, 1))
    assert not expired(past, date(2026, 11, 30))
    assert not expired(entry(), date(2026, 12, 10))
    assert expired(entry(), date(2026, 12, 11))


def test_nobody_waiting_gets_nothing() -> None:
    assert picked([]) is None


def test_a_calendar_offers_the_waitlist_where_nothing_is_free_soon_enough() -> None:
    today, horizon, far = date(2026, 11, 30), date(2027, 1, 29), timedelta(days=3)
    december, january = date(2026, 12, 1), date(2027, 1, 1)
    soon = {date(2026, 12, 2), date(2027, 1, 4)}

    def calendar(shown: date, free: set[date], soonest: date | None):  # type: ignore[no-untyped-def]
        return wanted(shown, today, horizon, free, soonest, far)

    # nothing free at all: any date up to the horizon
    assert calendar(december, set(), None) == (today, horizon)
    # free time two days off: nothing to wait for, in either month shown
    assert calendar(december, soon, date(2026, 12, 2)) is None
    assert calendar(january, soon, date(2026, 12, 2)) is None
    # a month shown with no free date: that month, from today, cut at the horizon
    assert calendar(date(2026, 11, 1), soon, date(2026, 12, 2)) == (today, date(2026, 11, 30))
    assert calendar(january, {date(2026, 12, 2)}, date(2026, 12, 2)) == (january, horizon)
    # the soonest free date more than three days off: the dates before it
    assert calendar(december, {date(2026, 12, 3)}, date(2026, 12, 3)) is None  # three days
    assert calendar(december, {date(2026, 12, 9)}, date(2026, 12, 9)) == (
        today,
        date(2026, 12, 8),
    )
