"""Every language has every text, with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

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


SRC = Path(i18n.__file__).parent
GROUPS = "|".join(sorted({key.split(".")[0] for key in i18n.catalog("en")}))
# A whole key written in the code: BadInput("admin.bad.date"), i18n.text("notify.unlinked", …).
KEY = re.compile(rf"""["']((?:{GROUPS})\.[a-z0-9_.]*[a-z0-9_])["']""")
# A key built from a prefix and a name at run time: f"refused.{reason}".
BUILT = re.compile(rf"""f["']((?:{GROUPS})\.(?:[a-z0-9_]+\.)*)\{{""")
# A helper that prefixes its `key` (def phrase(lang: str, key: str) returning f"bot.{key}"),
# called as phrase(lang, "held").
HELPER = re.compile(
    r"def (\w+)\(lang: str, key: str[^\n]*\n"
    r'(?:[^\n]*\n){0,3}?[^\n]*f"([a-z_.]+\.)\{key\}"'
)
# The prefixes of keys built at run time, each with where the names come from.
DYNAMIC = {
    "cli.help.": "cli.py: one per subcommand",
    "cli.column.": "cli.py: one per table column",
    "menu.": "bot/menus.py: one per client command",
    "admin.menu.": "bot/menus.py: one per admin command",
    "specialist.menu.": "bot/menus.py: one per specialist command",
    "admin.usage.": "bot/handlers/staff.py: one per staff command",
    "admin.done.": "bot/views.py: one per schedule change kind",
    "admin.view.": "bot/views.py: one per kind of closed day",
    "refused.": "services/bookings.py: the engine's refusal reasons",
    "weekdays.": "bot/arguments.py: one per weekday (engine.model.WEEKDAYS)",
    "relative_days.": "bot/arguments.py: today and tomorrow",
    "attendance.mark.": "bot/views.py: one per Mark",
    "attendance.button.": "bot/views.py: one per Mark, the agenda's buttons",
    "attendance.marked.": "bot/handlers/attendance.py: one per Mark",
    "waiting.part.": "bot/handlers/waitlist.py: one per part of the day (engine/waitlist.py)",
    "payment.": "bot/handlers/payments.py: a late payment's outcome, a payment's state",
}


def _named_in_code() -> tuple[set[str], set[str]]:
    """The keys the code names whole or through a prefixing helper; the prefixes it builds on."""
    named: set[str] = set()
    built: set[str] = set()
    sources = {path: path.read_text(encoding="utf-8") for path in SRC.rglob("*.py")}
    # A public helper (bot/handlers/taps.py `phrase`) is called from other modules too.
    shared = {
        (name, prefix)
        for source in sources.values()
        for name, prefix in HELPER.findall(source)
        if not name.startswith("_")
    }
    for source in sources.values():
        named |= set(KEY.findall(source))
        helpers = HELPER.findall(source)
        for name, prefix in {*helpers, *shared}:
            called = re.findall(rf'\b{re.escape(name)}\(\s*[^,()]+,\s*"([a-z0-9_]+)"', source)
            named |= {prefix + word for word in called}
        built |= set(BUILT.findall(source)) - {prefix for _, prefix in helpers}
    return named, built


def test_every_key_the_code_names_exists() -> None:
    named, _ = _named_in_code()
    assert sorted(named - set(i18n.catalog("en"))) == []


def test_every_key_is_used_and_every_built_prefix_is_listed() -> None:
    named, built = _named_in_code()
    assert built == set(DYNAMIC)
    for prefix in DYNAMIC:
        assert any(key.startswith(prefix) for key in i18n.catalog("en")), prefix
    unused = {
        key
        for key in i18n.catalog("en")
        if key not in named and not any(key.startswith(prefix) for prefix in DYNAMIC)
    }
    assert unused == set()


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


def test_prices_read_as_each_language_writes_money() -> None:
    assert i18n.price(6000, "EUR", "en") == "€60.00"
    assert i18n.price(6000, "EUR", "ru") == "60,00\xa0€"
    assert i18n.price(123456, "EUR", "en") == "€1,234.56"
    assert i18n.price(1500, "JPY", "en") == "¥1,500"
    assert i18n.price(1234, "KWD", "en") == "KWD1.234"
    assert i18n.price(150000, "HUF", "en") == "HUF1,500.00"  # ISO's two digits, not CLDR's none
    assert i18n.price(1500, "XTR", "en") == "1,500 ⭐"
    assert i18n.price(1500, "XTR", "ru") == "1\xa0500 ⭐"


def test_a_locale_file_is_read_from_its_compiled_copy_while_that_is_current(
    tmp_path: Path,
) -> None:
    source = tmp_path / "xx.yaml"
    source.write_text("cli:\n  hello: Hello {name}\n  bye: Bye\n", encoding="utf-8")
    assert i18n.load(source) == {"cli.hello": "Hello {name}", "cli.bye": "Bye"}
    compiled = tmp_path / "__pycache__" / "xx.json"
    assert compiled.is_file()
    # The copy answers while the file is unchanged: tampered with, it shows what it holds.
    kept = compiled.read_text(encoding="utf-8")
    compiled.write_text(kept.replace("Bye", "Ciao"), encoding="utf-8")
    assert i18n.load(source)["cli.bye"] == "Ciao"
    # An edit changes the file's size or time: the copy is made again from it.
    source.write_text("cli:\n  hello: Hi {name}\n", encoding="utf-8")
    assert i18n.load(source) == {"cli.hello": "Hi {name}"}
    assert "Hi {name}" in compiled.read_text(encoding="utf-8")
    # A broken copy is made again; a missing file has no texts.
    compiled.write_text("{", encoding="utf-8")
    assert i18n.load(source) == {"cli.hello": "Hi {name}"}
    assert i18n.load(tmp_path / "yy.yaml") == {}


def test_a_locale_file_is_read_where_its_compiled_copy_cannot_be_written(tmp_path: Path) -> None:
    source = tmp_path / "xx.yaml"
    source.write_text("cli:\n  hello: Hello\n", encoding="utf-8")
    (tmp_path / "__pycache__").write_text("a file where the folder would be", encoding="utf-8")
    assert i18n.load(source) == {"cli.hello": "Hello"}
    assert not list(tmp_path.glob("__pycache__*/*"))


def test_the_shipped_catalog_matches_its_yaml() -> None:
    for lang in i18n.languages():
        assert i18n.catalog(lang) == i18n._parsed(Path(i18n._folder(), f"{lang}.yaml"))
