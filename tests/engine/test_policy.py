"""The cut-off: the service's notice, else the policy's, else the start itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bookbot.engine import validate
from bookbot.engine.model import Business, Service
from bookbot.engine.policy import AfterNoShows, Policy, client_may_change, cutoff

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
DAY = Policy(cancel_notice=timedelta(hours=24))
CHECKUP = Service("checkup", "Check-up")
SURGERY = Service("surgery", "Surgery", cancel_notice=timedelta(hours=48))


def test_every_setting_is_off_by_default_and_the_holds_are_a_quarter_hour() -> None:
    assert Policy() == Policy(None, None, None, None, None)
    assert Policy().waitlist_hold == Policy().payment_hold == timedelta(minutes=15)
    assert Business("UTC").policy == Policy()
    assert (Business("UTC").currency, Business("UTC").phone) == (None, None)
    assert (CHECKUP.price, CHECKUP.cancel_notice) == (None, None)


def test_the_cutoff_is_the_services_notice_else_the_policys_else_none() -> None:
    assert cutoff(START, CHECKUP, DAY) == datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    assert cutoff(START, SURGERY, DAY) == datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    assert cutoff(START, SURGERY, Policy()) == datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    assert cutoff(START, CHECKUP, Policy()) is None


def test_a_zero_notice_of_the_service_wins_over_the_policys() -> None:
    anytime = Service("walk_in", "Walk-in", cancel_notice=timedelta(0))
    assert cutoff(START, anytime, DAY) == START


def test_a_client_may_change_until_one_instant_before_the_cutoff() -> None:
    cut = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    assert client_may_change(START, CHECKUP, DAY, cut - timedelta(minutes=1))
    assert not client_may_change(START, CHECKUP, DAY, cut)
    assert not client_may_change(START, CHECKUP, DAY, cut + timedelta(minutes=1))


def test_without_a_cutoff_a_client_may_change_until_the_start() -> None:
    assert client_may_change(START, CHECKUP, Policy(), START - timedelta(minutes=1))
    assert not client_may_change(START, CHECKUP, Policy(), START)


def test_the_no_show_rule_takes_a_limit_and_what_follows_it() -> None:
    whole = Policy(no_show_limit=2, after_no_shows=AfterNoShows.BLOCK)
    assert validate.no_shows(whole, "policy") == []
    assert validate.no_shows(Policy(), "policy") == []
    found = validate.no_shows(Policy(no_show_window=timedelta(days=90)), "policy")
    assert [(p.path, p.key, p.params) for p in found] == [
        ("policy.no_show_limit", "file.goes_with", {"other": "no_show_window"}),
        ("policy.after_no_shows", "file.goes_with", {"other": "no_show_window"}),
    ]
    found = validate.no_shows(Policy(after_no_shows=AfterNoShows.PREPAY), "policy")
    assert [(p.path, p.params) for p in found] == [
        ("policy.no_show_limit", {"other": "after_no_shows"})
    ]


def test_holds_and_service_cutoffs_have_bounds() -> None:
    assert validate.hold_length(timedelta(minutes=1)) is None
    assert validate.hold_length(timedelta(days=90)) is None
    assert validate.hold_length(timedelta(0)) is not None
    assert validate.hold_length(timedelta(days=90, minutes=1)) is not None
    too_long = Service("checkup", "Check-up", cancel_notice=timedelta(days=91))
    assert [(p.path, p.key) for p in validate.services([too_long])] == [
        ("services[0].cancel_notice", "file.duration_out_of_range")
    ]
