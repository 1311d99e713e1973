"""A booking's life: who may confirm, cancel, move or review it, and until when."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bookbot.engine.bookings import (
    ACTORS,
    ADMIN,
    CLIENT,
    OPERATOR,
    SPECIALIST,
    is_live,
    may_ask_reason,
    may_cancel,
    may_confirm,
    may_let_go,
    may_reschedule,
    may_review,
)
from bookbot.engine.model import Booking, BookingStatus, Service
from bookbot.engine.policy import Policy

START = datetime.fromisoformat("2026-12-01T10:20:00+01:00")
END = START + timedelta(minutes=30)
NO_NOTICE = Service("checkup", "Check-up")  # no cut-off of its own
OPEN = Policy()  # no cut-off: clients may change a visit until it starts


def visit(status: BookingStatus = BookingStatus.CONFIRMED) -> Booking:
    return Booking("ann", "checkup", START, END, status, id=7)


def test_a_visit_that_ended_may_be_reviewed_from_its_end_on() -> None:
    assert may_review(visit(), END) is None
    assert may_review(visit(), END + timedelta(days=30)) is None


@pytest.mark.parametrize("now", [START - timedelta(days=1), START, END - timedelta(seconds=1)])
def test_a_visit_not_ended_yet_is_refused(now: datetime) -> None:
    assert may_review(visit(), now) == "review.too_soon"


@pytest.mark.parametrize(
    "status", [BookingStatus.CANCELLED, BookingStatus.HELD, BookingStatus.EXPIRED]
)
def test_a_visit_that_did_not_take_place_is_refused_even_long_after(status) -> None:
    assert may_review(visit(status), END + timedelta(days=1)) == "review.no_visit"


def test_no_booking_is_refused_as_unknown() -> None:
    assert may_review(None, END) == "review.unknown"


# -- confirm, cancel, reschedule: who may, and until when -------------------------------

HOLD_END = START - timedelta(days=1)


def hold(until: datetime | None = HOLD_END) -> Booking:
    return Booking("ann", "checkup", START, END, BookingStatus.HELD, id=7, hold_until=until)


def test_a_hold_is_live_until_its_hold_runs_out() -> None:
    assert is_live(hold(), HOLD_END - timedelta(seconds=1))
    assert not is_live(hold(), HOLD_END)
    assert is_live(visit(), END + timedelta(days=1))
    assert not is_live(visit(BookingStatus.CANCELLED), START - timedelta(days=2))


def test_only_a_live_hold_may_be_confirmed() -> None:
    assert may_confirm(hold(), HOLD_END - timedelta(minutes=1)) is None
    assert may_confirm(hold(), HOLD_END) == "refused.hold_lost"
    assert may_confirm(visit(), START) == "refused.not_held"
    assert may_confirm(visit(BookingStatus.EXPIRED), START) == "refused.not_held"


def test_a_hold_the_asker_saw_that_is_gone_by_now_ran_out() -> None:
    """Swept, or confirmed by a second tap, while the asker waited for the lock."""
    gone = visit(BookingStatus.EXPIRED)
    assert may_confirm(gone, HOLD_END, seen=hold()) == "refused.hold_lost"
    assert may_confirm(visit(), HOLD_END, seen=hold()) == "refused.hold_lost"


@pytest.mark.parametrize("actor", [SPECIALIST, ADMIN, OPERATOR])
def test_staff_and_the_operator_may_cancel_any_live_booking_at_any_time(actor: str) -> None:
    for now in (START - timedelta(days=1), START, END + timedelta(days=30)):
        assert may_cancel(visit(), actor, now, NO_NOTICE, OPEN) is None
        assert may_cancel(hold(), actor, now, NO_NOTICE, OPEN) is None


def test_a_client_may_cancel_only_a_confirmed_visit_not_yet_begun() -> None:
    assert may_cancel(visit(), CLIENT, START - timedelta(seconds=1), NO_NOTICE, OPEN) is None
    assert may_cancel(visit(), CLIENT, START, NO_NOTICE, OPEN) == "refused.not_live"
    assert (
        may_cancel(hold(), CLIENT, START - timedelta(days=2), NO_NOTICE, OPEN) == "refused.not_live"
    )


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("status", [BookingStatus.CANCELLED, BookingStatus.EXPIRED])
def test_nobody_cancels_a_booking_that_is_not_live(actor: str, status: BookingStatus) -> None:
    assert (
        may_cancel(visit(status), actor, START - timedelta(days=1), NO_NOTICE, OPEN)
        == "refused.not_live"
    )


def test_staff_start_cancelling_only_a_coming_visit_from_the_chat() -> None:
    assert may_ask_reason(visit(), START - timedelta(seconds=1)) is None
    assert may_ask_reason(visit(), START) == "refused.not_live"
    assert may_ask_reason(hold(), START - timedelta(days=2)) == "refused.not_live"


def test_a_client_moves_only_a_coming_visit_and_lets_it_go_while_still_confirmed() -> None:
    assert may_reschedule(visit(), CLIENT, START - timedelta(seconds=1), NO_NOTICE, OPEN) is None
    assert may_reschedule(visit(), CLIENT, START, NO_NOTICE, OPEN) == "refused.not_live"
    assert (
        may_reschedule(
            visit(BookingStatus.CANCELLED), CLIENT, START - timedelta(days=1), NO_NOTICE, OPEN
        )
        == "refused.not_live"
    )
    assert may_let_go(visit()) is None  # even once begun: moving it was asked for before
    assert may_let_go(visit(BookingStatus.CANCELLED)) == "refused.not_live"


# -- the cut-off (policy.md "Cancelling and moving") ------------------------------------

DAY_NOTICE = Policy(cancel_notice=timedelta(hours=24))
TWO_DAYS = Service("checkup", "Check-up", cancel_notice=timedelta(hours=48))
# START is Tue 1 Dec 10:20 Berlin: the policy's cut-off is Mon 30 Nov 10:20 (09:20 UTC),
# the service's own Sun 29 Nov 10:20.
BEFORE_DAY = datetime.fromisoformat("2026-11-30T09:19:00+00:00")
AFTER_DAY = datetime.fromisoformat("2026-11-30T09:21:00+00:00")
AT_DAY = datetime.fromisoformat("2026-11-30T10:20:00+01:00")


def test_a_client_cancels_until_the_policy_cut_off_and_not_from_it() -> None:
    assert may_cancel(visit(), CLIENT, BEFORE_DAY, NO_NOTICE, DAY_NOTICE) is None
    assert may_cancel(visit(), CLIENT, AT_DAY, NO_NOTICE, DAY_NOTICE) == "refused.past_cutoff"
    assert may_cancel(visit(), CLIENT, AFTER_DAY, NO_NOTICE, DAY_NOTICE) == "refused.past_cutoff"


def test_a_client_moves_until_the_cut_off_and_not_after() -> None:
    assert may_reschedule(visit(), CLIENT, BEFORE_DAY, NO_NOTICE, DAY_NOTICE) is None
    refused = may_reschedule(visit(), CLIENT, AFTER_DAY, NO_NOTICE, DAY_NOTICE)
    assert refused == "refused.past_cutoff"


def test_the_services_own_notice_replaces_the_policys() -> None:
    sunday_before = datetime.fromisoformat("2026-11-29T10:19:00+01:00")
    sunday_after = datetime.fromisoformat("2026-11-29T10:21:00+01:00")
    assert may_cancel(visit(), CLIENT, sunday_before, TWO_DAYS, DAY_NOTICE) is None
    assert may_cancel(visit(), CLIENT, sunday_after, TWO_DAYS, DAY_NOTICE) == "refused.past_cutoff"
    assert may_cancel(visit(), CLIENT, sunday_after, TWO_DAYS, OPEN) == "refused.past_cutoff"


@pytest.mark.parametrize("actor", [SPECIALIST, ADMIN, OPERATOR])
def test_staff_cancel_and_move_after_the_cut_off(actor: str) -> None:
    assert may_cancel(visit(), actor, AFTER_DAY, TWO_DAYS, DAY_NOTICE) is None
    assert may_reschedule(visit(), actor, AFTER_DAY, TWO_DAYS, DAY_NOTICE) is None


def test_a_begun_visit_is_not_live_for_the_client_whatever_the_cut_off() -> None:
    assert may_cancel(visit(), CLIENT, START, NO_NOTICE, DAY_NOTICE) == "refused.not_live"
    assert may_reschedule(visit(), CLIENT, END, TWO_DAYS, DAY_NOTICE) == "refused.not_live"
