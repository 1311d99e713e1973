"""The engine's payment rules: what is due, whether it can be paid, the checkout, the file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bookbot.engine import payments
from bookbot.engine.bookings import BLOCK, PREPAY, may_book_online, may_confirm
from bookbot.engine.model import Booking, BookingStatus, Service
from bookbot.engine.policy import Prepay

NOW = datetime(2026, 11, 30, 8, tzinfo=UTC)
DEPOSIT = Service("checkup", "Check-up", price=6000, prepay=Prepay.DEPOSIT, deposit=2000)
FREE = Service("talk", "Talk", price=4000)


def awaiting(due: int | None = 2000, until: timedelta = timedelta(minutes=15)) -> Booking:
    start = NOW + timedelta(days=1)
    return Booking(
        "ann", "checkup", start, start + timedelta(hours=1), BookingStatus.HELD,
        hold_until=NOW + until, due=due,
    )  # fmt: skip


def test_what_is_due_the_deposit_the_price_or_nothing() -> None:
    assert payments.due(DEPOSIT, None) == 2000
    assert payments.due(Service("x", "X", price=6000, prepay=Prepay.FULL), None) == 6000
    assert payments.due(FREE, None) is None
    assert payments.due(FREE, BLOCK) is None
    assert payments.due(DEPOSIT, PREPAY) == 6000  # repeat no-shows pay in full
    assert payments.due(FREE, PREPAY) == 4000


def test_stars_pay_for_online_services_and_money_needs_a_provider() -> None:
    online = Service("talk", "Talk", price=100, online=True)
    assert payments.payable(online, "XTR", provider=False)
    assert not payments.payable(FREE, "XTR", provider=True)
    assert payments.payable(FREE, "EUR", provider=True)
    assert not payments.payable(FREE, "EUR", provider=False)
    assert not payments.payable(FREE, None, provider=True)


def test_prepay_no_shows_are_refused_only_where_nothing_can_be_paid() -> None:
    assert may_book_online(2, 2, PREPAY, payable=True) is None
    assert may_book_online(2, 2, PREPAY, payable=False) == "refused.no_shows"
    assert may_book_online(2, 2, BLOCK, payable=True) == "refused.no_shows"


def test_the_checkout_needs_a_live_awaiting_hold_and_the_amount_asked() -> None:
    assert payments.may_pay(awaiting(), 2000, 2000, NOW) is None
    assert payments.may_pay(awaiting(), 1999, 2000, NOW) == "payment.amount_changed"
    assert payments.may_pay(awaiting(), 1999, 1999, NOW) == "payment.amount_changed"
    late = NOW + timedelta(minutes=15)
    assert payments.may_pay(awaiting(), 2000, 2000, late) == "payment.hold_lapsed"
    assert payments.may_pay(awaiting(due=None), 2000, 2000, NOW) == "payment.not_awaiting"


def test_a_hold_awaiting_payment_is_confirmed_only_by_paying() -> None:
    assert may_confirm(awaiting(), NOW) == "payment.awaiting"
    assert may_confirm(awaiting(due=None), NOW) is None


def test_refunds_of_stars_go_back_at_once() -> None:
    assert payments.refunded_at_once("XTR")
    assert not payments.refunded_at_once("EUR")


def test_the_provider_rule_is_checked_only_when_the_setting_is_known() -> None:
    services = [DEPOSIT]
    assert payments.problems(services, "EUR", provider=None) == []
    assert [p.key for p in payments.problems(services, "EUR", provider=False)] == [
        "file.no_payment_provider"
    ]
    assert payments.problems(services, "EUR", provider=True) == []
