"""Locale lookup and formatting: every user-facing sentence comes from `locales/`."""

from __future__ import annotations

import contextlib
import json
import os
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from fractions import Fraction

DEFAULT = "en"
SHORT_DAY = "EEE d MMM"  # Tue 1 Dec
LONG_DAY = "EEEE d MMMM"  # Tuesday 1 December
A_MONDAY = date(2024, 1, 1)


def _folder() -> str:
    """The locales folder: inside the installed package, else the checkout's top level.

    In os.path's terms: importing pathlib would take a CLI query's start longer.
    """
    packaged = os.path.join(os.path.dirname(__file__), "locales")
    if os.path.isdir(packaged):
        return packaged
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    return os.path.join(top, "locales")


@cache
def catalog(locale: str) -> dict[str, str]:
    """Every text of one language, keyed `group.name`."""
    return load(os.path.join(_folder(), f"{locale}.yaml"))


def load(path: str | os.PathLike[str]) -> dict[str, str]:
    """The texts of one locale file, from its compiled copy while that is current.

    Parsing the YAML file takes longer than a whole CLI query, so its flattened texts
    are kept as JSON in `__pycache__/` beside it, stamped with the file's size and
    modification time as Python stamps bytecode; a stale or unreadable copy is made
    again, and where the folder cannot be written the file is parsed every time.
    """
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return {}
    stamp = [found.st_size, found.st_mtime_ns]
    folder, name = os.path.split(path)
    cache = os.path.join(folder, "__pycache__")
    compiled = os.path.join(cache, os.path.splitext(name)[0] + ".json")
    try:
        with open(compiled, "rb") as kept_file:
            kept = json.load(kept_file)
        if kept["stamp"] == stamp:
            return cast(dict[str, str], kept["texts"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    texts = _parsed(path)
    partial = f"{compiled}.{os.getpid()}"
    try:
        os.makedirs(cache, exist_ok=True)
        with open(partial, "w", encoding="utf-8") as written:
            json.dump({"stamp": stamp, "texts": texts}, written)
        os.replace(partial, compiled)
    except OSError:
        with contextlib.suppress(OSError):
            os.remove(partial)
    return texts


def _parsed(path: str | os.PathLike[str]) -> dict[str, str]:
    """The texts of one locale file, parsed from its YAML."""
    import yaml

    with open(path, encoding="utf-8") as source:
        text = source.read()
    # libyaml's loader when built in: a fifth of the pure-Python one's time, the same values
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return _flatten(yaml.load(text, Loader=loader) or {})


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


@cache
def languages() -> tuple[str, ...]:
    """The languages that have a locale file."""
    return tuple(sorted(name[:-5] for name in os.listdir(_folder()) if name.endswith(".yaml")))


def fallback() -> str:
    """The language used when the user's is not available: `BOOKBOT_LOCALE`, else English."""
    wanted = os.environ.get("BOOKBOT_LOCALE", DEFAULT)
    return wanted if wanted in languages() else DEFAULT


def choose(*wishes: str | None) -> str:
    """The first wished language that exists (`ru-RU` counts as `ru`), else the fallback."""
    for wish in wishes:
        if wish:
            base = wish.replace("_", "-").split("-")[0].lower()
            if base in languages():
                return base
    return fallback()


def text(key: str, locale: str | None = None, **params: Any) -> str:
    """The sentence for `key` in `locale`, filled with `params`; English if missing there."""
    lang = locale or fallback()
    template = catalog(lang).get(key) or catalog(DEFAULT).get(key)
    if template is None:
        raise KeyError(f"no text for {key!r} in locales/")
    return template.format(**params) if params else template


def words(key: str) -> tuple[str, ...]:
    """Every language's words for `key`: what a user may type, comma-separated in each file."""
    found = (word.strip() for lang in languages() for word in catalog(lang).get(key, "").split(","))
    return tuple(dict.fromkeys(word for word in found if word))


def day(value: date, locale: str, style: str = SHORT_DAY) -> str:
    """A date in the user's language, by a Babel (CLDR) pattern: Tue 1 Dec by default."""
    from babel.dates import format_date  # Babel loads when first used: CLI queries never use it

    return format_date(value, style, locale=locale)


def clock(value: datetime | time, locale: str) -> str:
    """A wall time, `HH:mm`, as every language here writes it."""
    from babel.dates import format_time

    return format_time(value, "HH:mm", locale=locale)


def moment(value: datetime, locale: str) -> str:
    """A date and time for a sentence, in the value's own zone: Tuesday 1 December, 09:00."""
    return f"{day(value.date(), locale, LONG_DAY)}, {clock(value, locale)}"


def brief(value: datetime, locale: str) -> str:
    """A date and time for a button or a list line, in the value's own zone: Tue 1 Dec 09:00."""
    return f"{day(value.date(), locale)} {clock(value, locale)}"


def weekday(number: int, locale: str, style: str = "EEE") -> str:
    """The name of a weekday (0 = Monday) in the user's language: Mon by default."""
    return day(A_MONDAY + timedelta(days=number), locale, style)


def price(amount: int, currency: str, locale: str) -> str:
    """A price in minor units as the user's language writes it: €60.00, 60,00 €, 60 ⭐.

    Always with the currency's ISO 4217 digits (the file's), not Babel's own idea of
    them (CLDR gives HUF none); Telegram Stars, which CLDR does not know, by the locale.
    """
    import copy

    from babel import Locale
    from babel.numbers import format_decimal

    from bookbot.engine import money

    units = money.units(amount, currency)
    if currency == money.STARS:
        return text("money.stars", locale, amount=format_decimal(units, locale=locale))
    place = Locale.parse(locale)
    pattern = copy.copy(place.currency_formats["standard"])
    pattern.frac_prec = (money.digits(currency), money.digits(currency))
    return pattern.apply(units, place, currency=currency, currency_digits=False)


def percent(value: Fraction, locale: str) -> str:
    """A share as a percent in the user's language, to one decimal at most: 62.5%."""
    from babel.numbers import format_percent

    return format_percent(float(value), "#,##0.#%", locale=locale)
