"""Every language has every text, with the same placeholders."""

from __future__ import annotations

import re
import string

import pytest

from bookbot import i18n

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_there_are_english_and_russian() -> None:
    assert {"en", "ru"} <= set(i18n.languages())


@pytest.mark.parametrize("lang", i18n.languages())
def test_every_language_has_every_key_with_the_same_placeholders(lang: str) -> None:
    english, other = i18n.catalog("en"), i18n.catalog(lang)
    assert sorted(set(english) - set(other)) == []
    assert sorted(set(other) - set(english)) == []
    assert {k: fields(v) for k, v in other.items()} == {k: fields(v) for k, v in english.items()}


def test_every_key_the_code_names_exists() -> None:
    from pathlib import Path

    source = "\n".join(p.read_text() for p in Path(i18n.__file__).parent.rglob("*.py"))
    named = set(re.findall(r'"((?:error|refused|cli|bot|try)\.[a-z_.]+)"', source))
    missing = {key for key in named if key not in i18n.catalog("en")
               and not any(k.startswith(key + ".") for k in i18n.catalog("en"))}
    assert missing == set()


def test_a_language_is_chosen_from_wishes() -> None:
    assert i18n.choose(None, "ru-RU") == "ru"
    assert i18n.choose("xx", None) == i18n.fallback()


def test_dates_and_times_read_the_same_in_every_message() -> None:
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    start = datetime(2026, 12, 1, 9, 5, tzinfo=ZoneInfo("Europe/Berlin"))
    assert i18n.moment(start, "en") == "Tuesday 1 December, 09:05"
    assert i18n.brief(start, "en") == "Tue 1 Dec 09:05"
    assert i18n.moment(start, "ru") == "вторник 1 декабря, 09:05"
    assert i18n.clock(time(7, 30), "ru") == "07:30"
    assert [i18n.weekday(d, "en") for d in (0, 6)] == ["Mon", "Sun"]
    assert i18n.weekday(2, "ru", "EEEEEE") == "ср"
