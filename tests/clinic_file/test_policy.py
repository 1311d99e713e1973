"""The policy, currency, phone and prices of a clinic file: read exactly, refused by path."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookbot import clinic_file, parsing
from bookbot.engine.policy import AfterNoShows, Policy
from bookbot.errors import BadInput, Invalid
from tests.clinics import BASIC

SETTINGS = """\
currency: EUR
phone: "+49 30 1230000"
policy:
  cancel_notice: 24h
  confirm_by: 3h
  no_show_limit: 2
  no_show_window: 90d
  after_no_shows: block
  waitlist_hold: 15m
  payment_hold: 20m
"""
CHECKUP = "  - {id: checkup, name: Check-up}"
HYGIENE = "  - {id: hygiene, name: Hygiene, duration: 90m}"


def clinic_text(settings: str = SETTINGS, checkup: str = "", hygiene: str = "") -> str:
    """BASIC with these top-level settings and these fields more on its two services."""
    return (
        BASIC.replace("holidays: DE-BY\n", "holidays: DE-BY\n" + settings, 1)
        .replace(CHECKUP, CHECKUP[:-1] + checkup + "}")
        .replace(HYGIENE, HYGIENE[:-1] + hygiene + "}")
    )


def problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(Invalid) as caught:
        clinic_file.read(text)
    return [(p.path, p.key) for p in caught.value.problems]


def test_the_settings_read_into_the_business_and_its_services() -> None:
    clinic = clinic_file.read(
        clinic_text(checkup=', price: "60.00", cancel_notice: 48h', hygiene=", price: 19.99")
    )
    business = clinic.business
    assert (business.currency, business.phone) == ("EUR", "+49 30 1230000")
    assert business.policy == Policy(
        cancel_notice=timedelta(hours=24),
        confirm_by=timedelta(hours=3),
        no_show_limit=2,
        no_show_window=timedelta(days=90),
        after_no_shows=AfterNoShows.BLOCK,
        waitlist_hold=timedelta(minutes=15),
        payment_hold=timedelta(minutes=20),
    )
    checkup, hygiene = clinic.services
    assert (checkup.price, checkup.cancel_notice) == (6000, timedelta(hours=48))
    assert (hygiene.price, hygiene.cancel_notice) == (1999, None)  # unquoted: still exact


def test_without_settings_everything_is_off() -> None:
    clinic = clinic_file.read(BASIC)
    assert (clinic.business.currency, clinic.business.phone) == (None, None)
    assert clinic.business.policy == Policy()
    assert [(s.price, s.cancel_notice) for s in clinic.services] == [(None, None)] * 2


def test_an_empty_policy_is_the_default_one() -> None:
    assert clinic_file.read(clinic_text("policy: {}\n")).business.policy == Policy()


def test_stars_and_yen_take_whole_numbers_and_dinars_three_decimals() -> None:
    def prices(currency: str, price: str) -> int | None:
        text = clinic_text(f"currency: {currency}\n", checkup=f", price: {price}")
        return clinic_file.read(text).services[0].price

    assert prices("XTR", "250") == 250
    assert prices("JPY", '"1500"') == 1500
    assert prices("KWD", '"1.250"') == 1250
    assert problems(clinic_text("currency: XTR\n", checkup=", price: 2.5")) == [
        ("services[0].price", "file.price_too_precise")
    ]


def test_bad_settings_are_named_by_their_paths() -> None:
    text = clinic_text(
        """\
currency: EURO
phone: call me
policy:
  cancel_notice: 91d
  confirm_by: soon
  no_show_limit: 101
  no_show_window: 0m
  after_no_shows: fine
  waitlist_hold: 0
  payment_hold: 2160h1m
  prepay: full
""",
        checkup=", price: 60.00, cancel_notice: -1h",
    )
    assert problems(text) == [
        ("currency", "file.unknown_currency"),
        ("phone", "error.not_a_phone"),
        ("policy.prepay", "error.unknown_field"),
        ("policy.cancel_notice", "file.duration_out_of_range"),
        ("policy.confirm_by", "error.not_a_duration"),
        ("policy.no_show_limit", "file.out_of_range"),
        ("policy.no_show_window", "file.duration_out_of_range"),
        ("policy.after_no_shows", "file.not_after_no_shows"),
        ("policy.waitlist_hold", "file.duration_out_of_range"),
        ("policy.payment_hold", "file.duration_out_of_range"),
        ("services[0].cancel_notice", "error.not_a_duration"),
    ]


def test_bad_prices_are_named_by_their_paths() -> None:
    text = clinic_text("currency: EUR\n", checkup=', price: "60.001"', hygiene=", price: 0")
    assert problems(text) == [
        ("services[0].price", "file.price_too_precise"),
        ("services[1].price", "file.price_out_of_range"),
    ]
    text = clinic_text("currency: EUR\n", checkup=", price: 1000000.01", hygiene=", price: [1]")
    assert problems(text) == [
        ("services[0].price", "file.price_out_of_range"),
        ("services[1].price", "file.not_a_price"),
    ]


def test_a_price_needs_the_currency() -> None:
    assert problems(clinic_text("", checkup=', price: "60.00"')) == [
        ("services[0].price", "file.price_without_currency")
    ]


def test_the_no_show_rule_comes_whole() -> None:
    assert problems(clinic_text("policy: {no_show_limit: 2}\n")) == [
        ("policy.after_no_shows", "file.goes_with")
    ]
    assert problems(clinic_text("policy: {after_no_shows: prepay, no_show_window: 30d}\n")) == [
        ("policy.no_show_limit", "file.goes_with")
    ]
    window_only = clinic_text("policy: {no_show_window: 30d}\n")
    assert problems(window_only) == [
        ("policy.no_show_limit", "file.goes_with"),
        ("policy.after_no_shows", "file.goes_with"),
    ]
    rule = clinic_file.read(clinic_text("policy: {no_show_limit: 1, after_no_shows: prepay}\n"))
    assert rule.business.policy.no_show_window is None  # every no-show counts


def test_a_policy_that_is_not_a_mapping_is_refused() -> None:
    assert problems(clinic_text("policy: [24h]\n")) == [("policy", "error.not_a_mapping")]


def test_days_are_taken_in_every_duration_of_the_file() -> None:
    text = clinic_text("min_notice: 2d\n").replace("min_notice: 30m\n", "")
    assert clinic_file.read(text).business.rules.min_notice == timedelta(days=2)


def test_the_settings_are_written_back_exactly() -> None:
    clinic = clinic_file.read(
        clinic_text(checkup=', price: "60.00", cancel_notice: 48h', hygiene=", price: 19.99")
    )
    text = clinic_file.dump(clinic)
    assert "currency: EUR\nphone: +49 30 1230000\n" in text
    assert (
        "policy: {cancel_notice: 24h, confirm_by: 3h, no_show_limit: 2, no_show_window: 90d,"
        " after_no_shows: block,\n  payment_hold: 20m}\n"
    ) in text  # the waitlist hold is the default one, left out
    assert "- {id: checkup, name: Check-up, price: '60.00', cancel_notice: 2d}\n" in text
    assert "- {id: hygiene, name: Hygiene, duration: 1h30m, price: '19.99'}\n" in text
    assert clinic_file.read(text) == clinic


@pytest.mark.parametrize(
    ("currency", "price", "written"),
    [("XTR", "250", "'250'"), ("JPY", "1500", "'1500'"), ("KWD", "1.25", "'1.250'")],
)
def test_prices_are_written_with_their_currencys_digits(
    currency: str, price: str, written: str
) -> None:
    clinic = clinic_file.read(clinic_text(f"currency: {currency}\n", checkup=f", price: {price}"))
    text = clinic_file.dump(clinic)
    assert f"price: {written}" in text
    assert clinic_file.read(text) == clinic


def test_a_default_policy_is_not_written() -> None:
    assert "policy" not in clinic_file.dump(clinic_file.read(BASIC))
    assert "currency" not in clinic_file.dump(clinic_file.read(BASIC))


def test_days_are_the_files_and_not_the_chats() -> None:
    assert parsing.duration("1d12h", days=True) == timedelta(hours=36)
    with pytest.raises(BadInput) as caught:
        parsing.duration("2d")
    assert caught.value.key == "error.not_a_duration"
    with pytest.raises(BadInput) as caught:
        parsing.duration("1234567d", days=True)
    assert caught.value.key == "error.duration_too_long"
