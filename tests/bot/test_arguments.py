"""The readers of command arguments: dates in their many forms, ranges, days, ids."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from bookbot import i18n
from bookbot.bot import arguments
from bookbot.engine.model import WEEKDAYS
from bookbot.errors import BadInput

MONDAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-24", date(2026, 12, 24)),
        ("24.12", date(2026, 12, 24)),
        ("30.11", date(2026, 11, 30)),
        ("29.11", date(2027, 11, 29)),
        ("1.1", date(2027, 1, 1)),
        ("24.12.2027", date(2027, 12, 24)),
        ("today", MONDAY),
        ("Tomorrow", date(2026, 12, 1)),
        ("mon", MONDAY),
        ("sun", date(2026, 12, 6)),
        ("friday", date(2026, 12, 4)),
        ("ср", date(2026, 12, 2)),
        ("завтра", date(2026, 12, 1)),
    ],
)
def test_dates_in_every_form(text: str, expected: date) -> None:
    assert arguments.day(text, MONDAY) == expected


@pytest.mark.parametrize("lang", i18n.languages())
def test_every_weekday_word_of_every_language_reads_as_its_day(lang: str) -> None:
    for number, name in enumerate(WEEKDAYS):
        typed = i18n.catalog(lang)[f"weekdays.{name}"].split(",")
        assert typed and all(
            arguments.day(word.strip().upper(), MONDAY).weekday() == number for word in typed
        )
        assert arguments.weekdays(",".join(typed)) == frozenset({number})
    assert arguments.day(i18n.catalog(lang)["relative_days.tomorrow"], MONDAY) == date(2026, 12, 1)


@pytest.mark.parametrize("text", ["2026-02-30", "31.02", "soon", "12", "2026-1-1"])
def test_what_is_not_a_date(text: str) -> None:
    with pytest.raises(BadInput) as error:
        arguments.day(text, MONDAY)
    assert error.value.key == "admin.bad.date"


def test_ranges_days_ids_and_the_specialist_left_out() -> None:
    assert arguments.span("9:00-13:30") == (time(9), time(13, 30))
    for bad in ("13:00-09:00", "25:00-26:00", "9-13"):
        with pytest.raises(BadInput):
            arguments.span(bad)
    assert arguments.weekdays("mon-wed,fri") == frozenset({0, 1, 2, 4})
    assert arguments.weekdays("sat-mon") == frozenset({5, 6, 0})
    assert arguments.calendars("de-by") == ("DE-BY",) and arguments.calendars("none") == ()
    assert arguments.target(["ben", "today"], {"ann", "ben"}, "ann", False) == ("ben", ["today"])
    assert arguments.target(["today"], {"ann", "ben"}, "ann", False) == ("ann", ["today"])
    assert arguments.target(["zed", "x"], {"ann"}, None, True) == ("zed", ["x"])
    with pytest.raises(arguments.Missing):
        arguments.target([], {"ann"}, None, True)
    with pytest.raises(BadInput):
        arguments.identifier("Ann!")


def test_a_typed_text_loses_control_and_bidi_characters() -> None:
    assert arguments.plain(" Anna\x00\x07 \u202eSmith\t\n Jr ") == "Anna Smith Jr"
    assert arguments.plain("Zoë 👩‍⚕️") == "Zoë 👩‍⚕️"  # the emoji's joiner is kept


def test_names_and_reasons_past_their_length_are_refused() -> None:
    assert arguments.named(["eva", "E" * 100]) == ("eva", "E" * 100)
    with pytest.raises(BadInput) as refused:
        arguments.named(["eva", "E" * 60, "E" * 40])
    assert refused.value.params == {"length": 101, "most": 100}
    with pytest.raises(BadInput):
        arguments.new_service(["xray", "20m", "X" * 101])
    assert arguments.dayoff("ann", ["today", "r" * 200], MONDAY).reason == "r" * 200
    with pytest.raises(BadInput):
        arguments.dayoff("ann", ["today", "r" * 201], MONDAY)


@pytest.mark.parametrize(
    "text",
    [
        "٢٠٢٦-١٢-٢٤",
        "２０２６-１２-２４",
        "٢٤.١٢",
        "0001-01-01",
        "9999-12-31",
        "1999-12-31",
        "2100-01-01",
        "24.12.1999",
        "1.1.9999",
    ],
)
def test_dates_in_other_digits_or_outside_the_years_taken_in(text: str) -> None:
    with pytest.raises(BadInput) as error:
        arguments.day(text, MONDAY)
    assert error.value.key in ("admin.bad.date", "error.date_out_of_range")
    assert arguments.looks_like_day("9999-12-31")  # a date still, refused as one


@pytest.mark.parametrize(
    "text",
    [
        "١٢٣",
        "１２３",
        "0",
        "-5",
        "+5",
        "12 3",
        str(2**53),
        str(2**63),
        "9" * 5000,
    ],
)
def test_what_is_not_a_telegram_id(text: str) -> None:
    with pytest.raises(BadInput) as error:
        arguments.telegram_id(text)
    assert error.value.key == "admin.bad.telegram_id"


def test_lengths_ids_and_times_are_bounded() -> None:
    assert arguments.length("5m") == timedelta(minutes=5)
    assert arguments.length("24h") == timedelta(hours=24)
    assert arguments.pause("1m") == timedelta(minutes=1)
    for bad in ("4m", "1m", "25h", "999999h", "9999999h", "٣٠m", "3٠m"):
        with pytest.raises(BadInput):
            arguments.length(bad)
    with pytest.raises(BadInput):
        arguments.pause("25h")
    assert arguments.identifier("a" * 60) == "a" * 60
    for bad, key in (
        ("a" * 61, "error.id_too_long"),
        ("ann\n", "error.not_an_id"),
        ("аnn", "error.not_an_id"),
    ):  # a Cyrillic а
        with pytest.raises(BadInput) as error:
            arguments.identifier(bad)
        assert error.value.key == key
    for bad in ("٠٩:٠٠-١٠:٠٠", "09:00-1٠:00"):
        with pytest.raises(BadInput):
            arguments.span(bad)
    with pytest.raises(BadInput):
        arguments.clock("٠٩:٣٠")
