"""Hostile clinic files: refused with exit 2, every problem named, nothing written, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bookbot import clinic_file
from bookbot.cli import main
from bookbot.clinic_file.loading import LARGEST_STREAMED
from bookbot.errors import Invalid
from bookbot.services.clinic import export_clinic, import_clinic
from bookbot.store.db import Database
from tests.clinics import BASIC

BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
timezone: *i
"""
ANN = "    name: Dr. Ann Weber"
BEN_WEEKLY = '{days: [mon, tue, wed, thu, fri], start: "08:00", end: "12:00", slot: 1h}'


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Runs `bookbot ARGS --db <a SQLite file with BASIC>` in-process: (code, stdout, stderr)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--db", url])
        out, err = capsys.readouterr()
        return code, out, err

    path = tmp_path / "basic.yaml"
    path.write_text(BASIC)
    assert invoke("import", str(path))[0] == 0
    return invoke


def refused(run, tmp_path: Path, text: str) -> str:
    """Imports `text`, checks it is refused as bad input with nothing written; its stderr."""
    before = run("export")[1]
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run("import", str(path))
    assert (code, out) == (2, ""), err
    assert "Traceback" not in err
    assert len(err) < 2_000  # no value is repeated whole
    assert run("export")[1] == before
    return err


def a_booking(**fields: object) -> str:
    """BASIC with one more booking line of these fields."""
    values = {"specialist": "ben", "service": "checkup", "start": "2026-12-02T08:00", **fields}
    return BASIC + "  - {" + ", ".join(f"{k}: {v}" for k, v in values.items()) + "}\n"


CASES = {
    "alias bomb": (BOMB, ["line 6: aliases repeat more than 100000"]),
    "self-referring alias": (
        BASIC.replace("timezone: Europe/Berlin", "timezone: &z [*z]"),
        ["line 2", "refers to itself"],
    ),
    "deep nesting": (
        "timezone: " + "[" * 5_000 + "]" * 5_000 + "\n",
        ["line 1", "nested deeper than 32"],
    ),
    "deep mappings": (
        "timezone: Europe/Berlin\nx: " + "{a: " * 2_000 + "1" + "}" * 2_000,
        ["nested deeper"],
    ),
    "horizon of years": (
        BASIC.replace("horizon_days: 60", "horizon_days: 99999999999"),
        ["horizon_days:", "from 0 to 730"],
    ),
    "horizon of 5,000 digits": (
        BASIC.replace("horizon_days: 60", "horizon_days: " + "9" * 5000),
        ["horizon_days:", "from 0 to 730"],
    ),
    "notice beyond timedelta": (
        BASIC.replace("min_notice: 30m", "min_notice: 99999999999999h"),
        ["min_notice:", "too long a duration"],
    ),
    "one-minute slots": (
        BASIC.replace("slot: 30m, break", "slot: 1m, break"),
        ["specialists[0].weekly[0].slot:", "from 5m to 24h"],
    ),
    "slot of days": (
        BASIC.replace("end: 18:00, slot: 1h}", "end: 18:00, slot: 200h}"),
        ["specialists[0].weekly[1].slot:", "from 5m to 24h"],
    ),
    "break of days": (
        BASIC.replace("break_after: 10m", "break_after: 25h"),
        ["specialists[0].weekly[0].break_after:"],
    ),
    "service of a year": (
        BASIC.replace("duration: 90m", "duration: 8760h"),
        ["services[1].duration:", "to 2160h"],
    ),
    "Telegram id of 2^63": (
        BASIC.replace(ANN, ANN + f"\n    telegram_id: {2**63}"),
        ["specialists[0].telegram_id:", "from 1 to 4503599627370495"],
    ),
    "Telegram id 0": (
        BASIC.replace(ANN, ANN + "\n    telegram_id: 0"),
        ["specialists[0].telegram_id:"],
    ),
    "negative Telegram id": (
        BASIC.replace("telegram_id: 42", "telegram_id: -42"),
        ["bookings[0].client.telegram_id:"],
    ),
    "client Telegram id of 30 digits": (
        BASIC.replace("telegram_id: 42", "telegram_id: " + "9" * 30),
        ["bookings[0].client.telegram_id:"],
    ),
    "superscript digit": (
        BASIC.replace("telegram_id: 42", "telegram_id: '²'"),
        ['bookings[0].client.telegram_id: "²" is not a whole number'],
    ),
    "Arabic-Indic digits": (
        BASIC.replace("horizon_days: 60", "horizon_days: '٦٠'"),
        ["horizon_days:"],
    ),
    "booking id of 2^40": (a_booking(id=2**40), ["bookings[1].id:", "2147483647"]),
    "booking id 0": (a_booking(id=0), ["bookings[1].id:"]),
    "id too long": (
        BASIC.replace("id: ben", "id: " + "b" * 61).replace(
            "specialist: ben", "specialist: " + "b" * 61
        ),
        ["specialists[1].id:", "longer than 60"],
    ),
    "id with a line break": (BASIC.replace("id: ben", 'id: "ben\\n"'), ["specialists[1].id:"]),
    "a service offered twice": (
        BASIC.replace("[checkup, hygiene]", "[checkup, hygiene, checkup]"),
        ['specialists[0].services[2]: the service "checkup" is listed'],
    ),
    "one Telegram id, two specialists": (
        BASIC.replace(ANN, ANN + "\n    telegram_id: 7").replace(
            "    name: Ben Keller", "    name: Ben Keller\n    telegram_id: 7"
        ),
        ["specialists[1].telegram_id:", "already given to specialists[0]"],
    ),
    "year 1 in a date": (
        BASIC.replace("2026-12-24", "0001-12-24"),
        ["specialists[0].overrides[0].date:", "2000-01-01 to 2099-12-31"],
    ),
    "year 9999 in a booking": (
        BASIC.replace("start: 2026-12-01T09:00", "start: 9999-12-31T23:30"),
        ["bookings[0].start:"],
    ),
    "year 9999 in a block": (
        BASIC.replace("end: 2026-12-01T13:00", "end: 9999-12-31T23:59"),
        ["specialists[0].blocks[0].end:"],
    ),
    "year 1 with an offset": (a_booking(start='"0001-01-01T00:00+01:00"'), ["bookings[1].start:"]),
    "vacation to 9999": (
        BASIC.replace(
            "{date: 2026-12-24, type: day_off", "{from: 2026-01-01, to: 9999-12-31, type: vacation"
        ),
        ["specialists[0].overrides[0].to:"],
    ),
    "valid_until 9999": (
        BASIC.replace(BEN_WEEKLY, BEN_WEEKLY[:-1] + ", valid_until: 9999-01-01}"),
        ["specialists[1].weekly[0].valid_until:"],
    ),
    "a long service name": (
        BASIC.replace("name: Check-up", "name: " + "x" * 101),
        ["services[0].name:", "longer than 100 characters"],
    ),
    "a long reason": (
        BASIC.replace("reason: Christmas Eve", "reason: " + "x" * 201),
        ["specialists[0].overrides[0].reason:", "longer than 200"],
    ),
    "a long phone": (
        BASIC.replace('"+4915112345678"', "+49" + "1" * 60),
        ["bookings[0].client.phone:"],
    ),
    "a name of control characters": (
        BASIC.replace("name: Check-up", 'name: "\\a\\b\\x1b"'),
        ["services[0].name: should not be empty"],
    ),
    "a name that is a mapping": (
        BASIC.replace("name: Check-up", "name: {a: [1, 2]}"),
        ["services[0].name: should be text"],
    ),
    "too many times": (
        BASIC.replace(
            '["08:00", "08:30", "10:30"]',
            "[" + ", ".join(f'"{h:02d}:{m:02d}"' for h in range(24) for m in (0, 15, 30, 45)) + "]",
        ),
        ["specialists[0].weekly[2].times:", "at most 80"],
    ),
    "too many calendars": (
        BASIC.replace("holidays: DE-BY", "holidays: [" + ", ".join(["DE"] * 11) + "]"),
        ["holidays:", "at most 10"],
    ),
    "a timezone of 10 MB": (
        BASIC.replace("timezone: Europe/Berlin", "timezone: " + "x" * 10**7),
        ["timezone:", "is not a time zone"],
    ),
    "an unknown field 1 MB long": (
        BASIC + "? " + "x" * 10**6 + "\n: 1\n",
        ["is not a known field"],
    ),
    "a binary value": (BASIC.replace("name: Check-up", "name: !!binary aGVsbG8="), ["line"]),
    "an explicit integer of 20,000 hex digits": (
        BASIC.replace("horizon_days: 60", "horizon_days: !!int 0x" + "f" * 20_000),
        ["horizon_days:"],
    ),
    "a date as a number": (
        BASIC.replace("2026-12-24", "20261224"),
        ['specialists[0].overrides[0].date: "20261224" is not a date'],
    ),
    "a weekday that is a list": (
        BASIC.replace("days: [thu]", "days: [[thu]]"),
        ["specialists[0].weekly[1].days:"],
    ),
    "an offset out of range": (a_booking(start='"2026-12-02T08:00+25:00"'), ["bookings[1].start:"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_file_is_refused_by_path(run, tmp_path: Path, name: str) -> None:
    text, says = CASES[name]
    err = refused(run, tmp_path, text)
    for part in says:
        assert part in err


def test_a_file_too_large_is_refused_before_it_is_read(run, tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as file:  # sparse: nothing is written to disk
        file.truncate(clinic_file.LARGEST_FILE + 1)
    code, _, err = run("import", str(path))
    assert code == 2 and "larger than 256 MB" in err


def test_a_json_file_is_streamed_to_a_larger_bound_and_refused_beyond_it(
    run, tmp_path: Path
) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as file:  # sparse: nothing is written to disk
        file.truncate(LARGEST_STREAMED + 1)
    code, _, err = run("import", str(path))
    assert code == 2 and "larger than 1024 MB" in err


def test_the_alias_bomb_stays_within_a_small_memory_limit(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    assert len(BOMB.encode()) < 600
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30)); "
    program = limit + "from bookbot.cli import main; raise SystemExit(main())"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            program,
            "import",
            str(path),
            "--db",
            f"sqlite+aiosqlite:///{tmp_path / 'bomb.db'}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "aliases" in done.stderr


def test_shared_values_through_aliases_still_read(run, tmp_path: Path) -> None:
    text = BASIC.replace(
        '      - {days: [mon, tue, wed, thu, fri], start: "08:00", end: "12:00", slot: 1h}',
        '      - &morning {days: [mon, tue, wed, thu, fri], start: "08:00", end: "12:00",'
        ' slot: 1h}\n      - {<<: *morning, days: [sat], end: "10:00"}',
    )
    path = tmp_path / "aliases.yaml"
    path.write_text(text)
    code, _, err = run("import", str(path))
    assert code == 0, err
    ben = next(s for s in clinic_file.read(text).specialists if s.id == "ben")
    assert [(len(w.days), str(w.hours.end)) for w in ben.weekly] == [
        (5, "12:00:00"),
        (1, "10:00:00"),
    ]


def test_control_characters_leave_names(run, tmp_path: Path) -> None:
    text = BASIC.replace("name: Check-up", 'name: "Check\\u202e-up\\x1b[2J\\t(short)\\n"')
    clinic = clinic_file.read(text)
    assert clinic.services[0].name == "Check-up[2J (short)"
    assert clinic_file.read(clinic_file.dump(clinic)) == clinic


def test_every_problem_of_a_file_is_named(tmp_path: Path) -> None:
    text = (
        BASIC.replace("horizon_days: 60", "horizon_days: 10000")
        .replace("slot: 30m, break", "slot: 0m, break")
        .replace("2026-12-24", "9999-12-24")
    )
    with pytest.raises(Invalid) as caught:
        clinic_file.read(text)
    assert sorted(p.path for p in caught.value.problems) == [
        "horizon_days",
        "specialists[0].overrides[0].date",
        "specialists[0].weekly[0].slot",
    ]


async def test_a_telegram_id_of_a_specialist_the_file_does_not_name(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC.replace(ANN, ANN + "\n    telegram_id: 7")))
    before = await export_clinic(db)
    only_ben = BASIC.split("  - id: ann")[0] + "  - id: ben" + BASIC.split("  - id: ben")[1]
    taken = only_ben.replace("    name: Ben Keller", "    name: Ben Keller\n    telegram_id: 7")
    taken = taken.replace("specialist: ann", "specialist: ben")
    with pytest.raises(Invalid) as caught:
        await import_clinic(db, clinic_file.read(taken))
    assert [(p.path, p.key, p.params["other"]) for p in caught.value.problems] == [
        ("specialists[0].telegram_id", "file.linked_elsewhere", "ann")
    ]
    assert await export_clinic(db) == before


async def test_two_specialists_trade_telegram_accounts(db: Database) -> None:
    linked = BASIC.replace(ANN, ANN + "\n    telegram_id: 7").replace(
        "    name: Ben Keller", "    name: Ben Keller\n    telegram_id: 8"
    )
    await import_clinic(db, clinic_file.read(linked))
    traded = (
        linked.replace("telegram_id: 7", "telegram_id: x")
        .replace("telegram_id: 8", "telegram_id: 7")
        .replace("telegram_id: x", "telegram_id: 8")
    )
    await import_clinic(db, clinic_file.read(traded))
    exported = await export_clinic(db)
    assert [(s.id, s.telegram_id) for s in exported.specialists] == [("ann", 8), ("ben", 7)]
