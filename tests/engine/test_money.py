"""Prices read exactly into minor units and written back the same."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookbot.engine import money
from bookbot.engine.problems import Problem


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("60.00", "EUR", 6000),
        ("60", "EUR", 6000),
        ("0.01", "EUR", 1),
        ("19.99", "USD", 1999),
        ("60.000", "EUR", 6000),  # trailing zeros say nothing more
        ("1000000", "EUR", 100_000_000),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
        ("0.5", "BHD", 500),
        ("60", "XTR", 60),
        ("60.0", "XTR", 60),
    ],
)
def test_a_price_reads_into_minor_units(text: str, currency: str, minor: int) -> None:
    assert money.parse(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "key"),
    [
        ("0", "EUR", "file.price_out_of_range"),
        ("0.00", "EUR", "file.price_out_of_range"),
        ("1000000.01", "EUR", "file.price_out_of_range"),
        ("60.001", "EUR", "file.price_too_precise"),
        ("60.5", "XTR", "file.price_too_precise"),
        ("1.5", "JPY", "file.price_too_precise"),
        ("1.2345", "KWD", "file.price_too_precise"),
        ("-1", "EUR", "file.not_a_price"),
        ("60,00", "EUR", "file.not_a_price"),
        ("1e3", "EUR", "file.not_a_price"),
        ("", "EUR", "file.not_a_price"),
        ("٦٠", "EUR", "file.not_a_price"),
        ("1" * 17, "EUR", "file.not_a_price"),
        (".5", "EUR", "file.not_a_price"),
    ],
)
def test_a_bad_price_says_what_is_wrong(text: str, currency: str, key: str) -> None:
    found = money.parse(text, currency)
    assert isinstance(found, Problem) and found.key == key
    assert found.params["value"] == text


def test_a_too_precise_price_names_the_currency_and_its_digits() -> None:
    assert money.parse("60.5", "XTR") == Problem(
        "file.price_too_precise", {"value": "60.5", "currency": "XTR", "digits": 0}
    )
    assert money.parse("0", "EUR") == Problem(
        "file.price_out_of_range", {"value": "0", "most": "1,000,000"}
    )


def test_minor_units_follow_iso_4217() -> None:
    assert [money.digits(c) for c in ("EUR", "USD", "RUB", "HUF", "JPY", "KRW", "XTR")] == [
        2,
        2,
        2,
        2,
        0,
        0,
        0,
    ]
    assert [money.digits(c) for c in ("KWD", "BHD", "TND")] == [3, 3, 3]


def test_only_known_currencies_are_taken() -> None:
    assert money.currency_problem("EUR") is None
    assert money.currency_problem("XTR") is None
    assert money.currency_problem("eur") == Problem("file.unknown_currency", {"value": "eur"})
    assert money.currency_problem("XXX") is not None
    assert money.currency_problem(978) is not None


def test_an_amount_is_written_with_exactly_the_currencys_digits() -> None:
    assert money.text(6000, "EUR") == "60.00"
    assert money.text(1, "EUR") == "0.01"
    assert money.text(1500, "JPY") == "1500"
    assert money.text(1234, "KWD") == "1.234"
    assert money.text(60, "XTR") == "60"
    assert money.units(6000, "EUR") == Decimal("60.00")


def test_every_price_within_bounds_reads_back_from_its_text() -> None:
    for currency in money.MINOR_UNITS:
        for minor in (1, 99, 100, 12345, 10 ** (6 + money.digits(currency))):
            assert money.parse(money.text(minor, currency), currency) == minor
