"""The command line as spec/cli.md states it: shapes, exit codes, clear one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bookbot.cli import main
from tests.clinics import BASIC, NOW


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Runs `bookbot ARGS --db <a fresh SQLite file>` in-process: (code, stdout, stderr)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--db", url])
        out, err = capsys.readouterr()
        return code, out, err

    invoke.url = url  # type: ignore[attr-defined]
    return invoke


@pytest.fixture
def clinic(tmp_path: Path, run) -> Path:
    """BASIC imported into the fresh database."""
    path = tmp_path / "clinic.yaml"
    path.write_text(BASIC)
    code, _, err = run("import", str(path))
    assert code == 0, err
    return path


def answer(run, *args: str):
    code, out, err = run(*args, "--json", "--now", NOW)
    assert code == 0, err
    return json.loads(out)


def test_slots_of_a_specialist_in_the_documented_shape(run, clinic) -> None:
    slots = answer(run, "slots", "--specialist", "ann", "--date", "2026-12-01")
    assert slots == [
        {
            "specialist": "ann",
            "start": f"2026-12-01T{t}:00+01:00",
            "end": f"2026-12-01T{e}:00+01:00",
        }
        for t, e in [("09:40", "10:10"), ("10:20", "10:50"), ("11:00", "11:30")]
    ]  # 09:00 is booked; 11:40 would run into the 12:00 block


def test_slots_of_a_service_use_its_duration_and_span_dates(run, clinic) -> None:
    slots = answer(
        run, "slots", "--service", "hygiene", "--date", "2026-12-02", "--to", "2026-12-03"
    )
    assert [(s["start"][5:16], s["end"][11:16]) for s in slots] == [
        ("12-02T09:00", "10:30"),
        ("12-02T09:40", "11:10"),
        ("12-02T10:20", "11:50"),
        ("12-02T11:00", "12:30"),
        ("12-03T14:00", "15:30"),
        ("12-03T15:00", "16:30"),
        ("12-03T16:00", "17:30"),
    ]


def test_next_and_next_each(run, clinic) -> None:
    # 08:00 is inside the 30m notice; ann and ben are both free at 09:00: the first id wins.
    assert answer(run, "next", "--service", "checkup") == {
        "specialist": "ann",
        "start": "2026-11-30T09:00:00+01:00",
        "end": "2026-11-30T09:30:00+01:00",
    }
    assert (
        answer(run, "next", "--service", "checkup", "--specialist", "ben")["start"]
        == "2026-11-30T09:00:00+01:00"
    )
    each = answer(run, "next", "--service", "checkup", "--each", "--from", "2026-12-01")
    assert [(e["specialist"], e["date"], len(e["slots"])) for e in each] == [
        ("ann", "2026-12-01", 3),
        ("ben", "2026-12-01", 4),
    ]
    assert each[1]["slots"][0] == {
        "start": "2026-12-01T08:00:00+01:00",
        "end": "2026-12-01T09:00:00+01:00",
    }


def test_next_is_null_when_nothing_is_free(run, tmp_path) -> None:
    path = tmp_path / "closed.yaml"
    path.write_text(BASIC.replace("horizon_days: 60", "horizon_days: 0"))
    assert run("import", str(path))[0] == 0
    code, out, _ = run(
        "next", "--service", "hygiene", "--json", "--now", "2026-11-30T13:00:00+01:00"
    )
    assert (code, out.strip()) == (0, "null")
    code, out, _ = run(
        "next", "--service", "hygiene", "--each", "--json", "--now", "2026-11-30T13:00:00+01:00"
    )
    assert json.loads(out) == [{"specialist": "ann", "date": None, "slots": []}]


def test_holes_of_a_least_length_on_weekdays(run, clinic) -> None:
    holes = answer(
        run,
        "holes",
        "--service",
        "hygiene",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-03",
        "--weekday",
        "tue,wed",
    )
    assert holes == [
        {
            "specialist": "ann",
            "start": "2026-12-01T09:30:00+01:00",
            "end": "2026-12-01T12:00:00+01:00",
        },
        {
            "specialist": "ann",
            "start": "2026-12-02T09:00:00+01:00",
            "end": "2026-12-02T13:00:00+01:00",
        },
    ]
    short = answer(
        run,
        "holes",
        "--service",
        "checkup",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-01",
        "--min",
        "3h",
    )
    assert [(h["specialist"], h["start"][11:16], h["end"][11:16]) for h in short] == [
        ("ben", "08:00", "12:00")
    ]


def test_book_cancel_and_list(run, clinic) -> None:
    made = answer(
        run,
        "book",
        "--specialist",
        "ann",
        "--service",
        "hygiene",
        "--start",
        "2026-12-02T09:40",
        "--client-name",
        "Eve",
    )
    assert made == {
        "id": 2,
        "specialist": "ann",
        "service": "hygiene",
        "start": "2026-12-02T09:40:00+01:00",
        "end": "2026-12-02T11:10:00+01:00",
        "status": "confirmed",
    }
    code, _, err = run(
        "book",
        "--specialist",
        "ann",
        "--service",
        "checkup",
        "--start",
        "2026-12-02T10:20:00+01:00",
        "--now",
        NOW,
    )
    assert code == 3 and "taken" in err
    listed = answer(run, "bookings", "--specialist", "ann", "--from", "2026-12-02")
    assert [b["id"] for b in listed] == [2]
    cancelled = answer(run, "cancel", "2")
    assert cancelled["status"] == "cancelled"
    assert (
        answer(
            run,
            "book",
            "--specialist",
            "ann",
            "--service",
            "checkup",
            "--start",
            "2026-12-02T10:20",
        )["id"]
        == 3
    )


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (
            ["book", "--specialist", "ann", "--service", "checkup", "--start", "2026-12-01T09:50"],
            3,
            "not an offered slot",
        ),
        (
            [
                "book",
                "--specialist",
                "ann",
                "--service",
                "checkup",
                "--start",
                "2026-11-30T09:00",
                "--now",
                "2026-11-30T08:45:00+01:00",
            ],
            3,
            "minimum notice",
        ),
        (
            ["book", "--specialist", "ann", "--service", "checkup", "--start", "2027-03-01T09:00"],
            3,
            "horizon",
        ),
        (
            ["book", "--specialist", "zed", "--service", "checkup", "--start", "2026-12-01T09:40"],
            2,
            'no specialist has the id "zed"',
        ),
        (
            ["book", "--specialist", "ben", "--service", "hygiene", "--start", "2026-12-01T08:00"],
            2,
            "does not offer",
        ),
        (
            ["book", "--specialist", "ann", "--service", "checkup", "--start", "tomorrow"],
            2,
            "not a date-time",
        ),
        (["slots", "--specialist", "ann", "--date", "2026-02-30"], 2, "is not a date"),
        (["slots", "--date", "2026-12-01"], 2, "--service, a --specialist"),
        (["slots", "--service", "nope", "--date", "2026-12-01"], 2, "no service has the id"),
        (
            ["slots", "--specialist", "ann", "--date", "2026-12-05", "--to", "2026-12-01"],
            2,
            "before the first date",
        ),
        (
            [
                "holes",
                "--service",
                "hygiene",
                "--from",
                "2026-12-01",
                "--to",
                "2026-12-02",
                "--weekday",
                "funday",
            ],
            2,
            "not a weekday",
        ),
        (
            [
                "holes",
                "--service",
                "hygiene",
                "--from",
                "2026-12-01",
                "--to",
                "2026-12-02",
                "--min",
                "0m",
            ],
            2,
            "longer than zero",
        ),
        (["cancel", "99"], 2, "no booking has the id 99"),
        (["cancel", "x1"], 2, "not a booking id"),
        (["next", "--service", "checkup", "--now", "yesterday"], 2, "offset"),
    ],
)
def test_bad_input_gets_one_clear_line_and_changes_nothing(run, clinic, args, code, says) -> None:
    before = run("export")[1]
    got, out, err = run(*args, *([] if "--now" in args else ["--now", NOW]))
    assert got == code
    assert says in err
    assert out == ""
    assert run("export")[1] == before


def test_a_skipped_wall_time_is_refused_by_name(run, tmp_path) -> None:
    path = tmp_path / "spring.yaml"
    path.write_text(BASIC)
    run("import", str(path))
    code, _, err = run(
        "book",
        "--specialist",
        "ann",
        "--service",
        "checkup",
        "--start",
        "2027-03-28T02:30",
        "--now",
        NOW,
    )
    assert code == 2 and "does not exist in Europe/Berlin" in err


def test_a_bad_file_names_every_problem_by_path_and_writes_nothing(run, tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        BASIC.replace('start: "09:00"', 'start: "25:00"')
        .replace("timezone: Europe/Berlin", "timezone: Mars/Olympus")
        .replace("service: checkup, start", "service: nope, start")
        .replace("holidays: none", "holidays: XX-YY")
    )
    code, out, err = run("import", str(path))
    assert code == 2 and out == ""
    assert 'specialists[0].weekly[0].start: "25:00" is not a time' in err
    assert 'timezone: "Mars/Olympus" is not a time zone' in err
    assert 'bookings[0].service: no service has the id "nope"' in err
    assert 'specialists[1].holidays: "XX-YY" is not a holiday calendar' in err
    assert run("export")[0] == 2  # nothing was loaded


def test_unquoted_times_read_as_times_not_numbers(run, clinic) -> None:
    # BASIC writes Thursday as `start: 14:00, end: 18:00` unquoted; YAML 1.1 would read 840.
    slots = answer(run, "slots", "--specialist", "ann", "--date", "2026-12-03")
    assert [s["start"][11:16] for s in slots] == ["14:00", "15:00", "16:00", "17:00"]


def test_export_reimports_to_the_same_answers(run, clinic, tmp_path) -> None:
    exported = tmp_path / "exported.yaml"
    exported.write_text(run("export")[1])
    before = answer(
        run, "slots", "--service", "checkup", "--date", "2026-12-01", "--to", "2026-12-31"
    )
    code, out, _ = run("import", str(exported), "--json")
    assert code == 0 and json.loads(out)["changed"] == 0
    assert (
        answer(run, "slots", "--service", "checkup", "--date", "2026-12-01", "--to", "2026-12-31")
        == before
    )


def test_demo_loads_a_business_every_command_can_use(run) -> None:
    assert run("demo", "--now", NOW)[0] == 0
    assert answer(run, "next", "--service", "hygiene")["specialist"] == "ben"
    assert len(answer(run, "next", "--service", "checkup", "--each")) == 4
    assert answer(run, "bookings") != []
    # Eva is fully booked from today (Mon 30 Nov) to next Monday: a case for the waitlist.
    taken = ("slots", "--specialist", "eva", "--date", "2026-11-30", "--to", "2026-12-07")
    assert answer(run, *taken) == []
    assert answer(run, "next", "--service", "braces")["start"] == "2026-12-09T09:00:00+01:00"


def test_sixteen_processes_racing_for_one_slot_book_it_once(run, clinic) -> None:
    env = {**os.environ, "BOOKBOT_DATABASE_URL": run.url}  # type: ignore[attr-defined]
    command = [
        sys.executable,
        "-m",
        "bookbot",
        "book",
        "--specialist",
        "ann",
        "--service",
        "checkup",
        "--start",
        "2026-12-01T10:20",
        "--now",
        NOW,
        "--json",
    ]

    def one(_: int) -> int:
        return subprocess.run(command, env=env, capture_output=True, timeout=120).returncode

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(one, range(16)))
    assert sorted(codes) == [0] + [3] * 15


def test_an_id_too_long_for_a_button_is_refused_by_path(run, tmp_path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text(
        BASIC.replace("id: checkup", "id: " + "c" * 61)
        .replace("[checkup, hygiene]", "[" + "c" * 61 + ", hygiene]")
        .replace("services: [checkup]", "services: [hygiene]")
        .replace("service: checkup, start", "service: hygiene, start")
    )
    code, _, err = run("import", str(path))
    assert code == 2 and "services[0].id" in err and "longer than 60 characters" in err


def test_stats_of_a_day_as_one_object_and_as_text(run, clinic) -> None:
    day = ("stats", "--from", "2026-12-01", "--to", "2026-12-01")
    assert answer(run, *day) == {
        "from": "2026-12-01",
        "to": "2026-12-01",
        "booked": 1,
        "cancelled": {"before_cutoff": 0, "after_cutoff": 0, "by_staff": 0},
        "no_shows": 0,
        "refilled": 0,
        "payments": [],
        "specialists": [
            {"specialist": "ann", "booked_minutes": 30, "open_minutes": 240, "share": "1/8"},
            {"specialist": "ben", "booked_minutes": 0, "open_minutes": 240, "share": "0"},
        ],
    }
    assert run("cancel", "1", "--now", NOW)[0] == 0
    code, out, err = run(*day, "--now", NOW)
    assert code == 0, err
    assert out.splitlines() == [
        "Figures, 2026-12-01 to 2026-12-01",
        "Visits booked: 0",
        "Cancelled: 0 before the cut-off, 0 after it, 1 by staff",
        "No-shows: 0",
        "Slots refilled from the waitlist: 0",
        "Booked share of open hours:",
        "Dr. Ann Weber: 0% (0 of 240 min)",
        "Ben Keller: 0% (0 of 240 min)",
    ]


def test_each_command_alone_parses_and_helps_as_within_every_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A command's parser is built alone (start-up): its help and its refusals are the same."""
    from bookbot import cli

    every = cli._parser()
    commands = next(a for a in every._actions if a.dest == "command").choices
    assert commands is not None and len(commands) > 10
    for name, whole in commands.items():
        alone = next(a for a in cli._parser(name)._actions if a.dest == "command").choices
        assert alone is not None and list(alone) == [name]
        assert alone[name].format_help() == whole.format_help()
    assert main(["nex"]) == 2  # no such command: argparse names every one
    err = capsys.readouterr().err
    assert all(f"'{name}'" in err for name in commands)
