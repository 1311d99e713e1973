"""Prices: whole numbers of a currency's minor units, read from and written as decimals.

A price is stored, compared and sent to Telegram as an integer of minor units (6000 for
EUR 60.00, 60 for 60 Telegram Stars); the decimal text is only what people read and
write. No float ever holds an amount.
"""

from __future__ import annotations

import re
from decimal import Decimal

from bookbot.engine.problems import Problem

STARS = "XTR"  # Telegram Stars: whole numbers
# Digits after the decimal point (ISO 4217 minor units) of the currencies Telegram
# Payments lists (core.telegram.org/bots/payments#supported-currencies), of Telegram
# Stars, and of the ISO currencies with three, so a price in them reads exactly too.
MINOR_UNITS = {
    **dict.fromkeys(
        "AED AFN ALL AMD ARS AUD AZN BAM BDT BGN BND BOB BRL BYN CAD CHF CNY COP CRC CZK DKK "
        "DOP DZD EGP ETB EUR GBP GEL GTQ HKD HNL HRK HUF IDR ILS INR JMD KES KGS KZT LBP LKR "
        "MAD MDL MNT MUR MVR MXN MYR MZN NGN NIO NOK NPR NZD PAB PEN PHP PKR PLN QAR RON RSD "
        "RUB SAR SEK SGD THB TJS TRY TTD TWD TZS UAH USD UYU UZS YER ZAR".split(),
        2,
    ),
    **dict.fromkeys("CLP ISK JPY KRW PYG UGX VND XTR".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
}
LARGEST = Decimal(1_000_000)  # in units of the currency (spec/policy.md)
# ASCII digits, an optional decimal part; long enough for any price within LARGEST, short
# enough that no reader meets a thousand digits.
AMOUNT = re.compile(r"[0-9]{1,16}(?:\.[0-9]{1,16})?")


def digits(currency: str) -> int:
    """How many digits the currency has after the decimal point (KeyError if unknown)."""
    return MINOR_UNITS[currency]


def currency_problem(code: object) -> Problem | None:
    """A currency this module does not know."""
    if isinstance(code, str) and code in MINOR_UNITS:
        return None
    return Problem("file.unknown_currency", {"value": code})


def parse(text: str, currency: str) -> int | Problem:
    """Reads a price like `60.00` into minor units (6000), or says what is wrong with it.

    The price lies above zero and at most LARGEST units, with no more decimals than the
    currency has (trailing zeros aside: `60.000` EUR is 6000).
    """
    if not AMOUNT.fullmatch(text):
        return Problem("file.not_a_price", {"value": text})
    amount = Decimal(text)
    if not 0 < amount <= LARGEST:
        return Problem("file.price_out_of_range", {"value": text, "most": f"{LARGEST:,}"})
    minor = amount.scaleb(digits(currency))
    if minor != minor.to_integral_value():
        return Problem(
            "file.price_too_precise",
            {"value": text, "currency": currency, "digits": digits(currency)},
        )
    return int(minor)


def units(amount: int, currency: str) -> Decimal:
    """An amount in minor units as an exact decimal of units: 6000 EUR is Decimal('60.00')."""
    return Decimal(amount).scaleb(-digits(currency))


def text(amount: int, currency: str) -> str:
    """An amount as the clinic file writes it: 6000 EUR is `60.00`, 60 XTR is `60`."""
    return f"{units(amount, currency):.{digits(currency)}f}"
