"""Hostile arguments: every one is exit 2 with one line on stderr, no traceback, nothing done.

spec/cli.md: numbers are ASCII digits, a date is between 2000-01-01 and 2099-12-31, a
limit is 1–1000. The same holds for every other argument the command line takes in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bookbot.cli import main
from tests.clinics import BASIC, NOW

BOOK = ["book", "--specialist", "ann", "--service", "checkup", "--start", "2026-12-01T09:40"]
HOLES = ["holes", "--service", "checkup", "--from", "2026-12-01", "--to", "2026-12-02"]
SLOTS = ["slots", "--specialist", "ann", "--date", "2026-12-01"]

# (arguments, a piece of the one line on stderr)
HOSTILE = [
    (["search", "--service", "checkup", "--limit", "0"], "from 1 to 1000"),
    (["search", "--service", "checkup", "--limit", "1001"], "from 1 to 1000"),
    (["search", "--service", "checkup", "--limit", "١٠"], "from 1 to 1000"),
    (["search", "--service", "checkup", "--limit", "9" * 5000], "longer than 4096"),
    (["search", "--service", "checkup", "--limit", "9" * 30], "from 1 to 1000"),
    (["search", "--service", "checkup", "--limit", "-5"], "from 1 to 1000"),
    (["search", "--service", "checkup", "--limit", "1e3"], "from 1 to 1000"),
    (["search", "--service", "checkup", "--offset", "100001"], "from 0 to 100000"),
    (["search", "--service", "checkup", "--offset", "٣"], "from 0 to 100000"),
    (["cancel", "١"], '"١" is not a booking id'),
    (["cancel", "１"], '"１" is not a booking id'),  # a full-width one
    (["cancel", "+1"], '"+1" is not a booking id'),
    (["cancel", " 1"], "is not a booking id"),
    (["cancel", "0"], "no booking has the id 0"),
    (["cancel", "2147483648"], "no booking has the id 2147483648"),
    (["cancel", str(2**63)], f"no booking has the id {2**63}"),
    (["cancel", "9" * 4000], "no booking has the id 999"),
    (["cancel", "1", "--reason", "x" * 501], "at most 500"),
    (["cancel", "1", "--reason", "late\x00"], "control characters"),
    (["slots", "--specialist", "ann", "--date", "0001-01-01"], "2000-01-01 to 2099-12-31"),
    (["slots", "--specialist", "ann", "--date", "9999-12-31"], "2000-01-01 to 2099-12-31"),
    (["slots", "--specialist", "ann", "--date", "1999-12-31"], "2000-01-01 to 2099-12-31"),
    (["slots", "--specialist", "ann", "--date", "2100-01-01"], "2000-01-01 to 2099-12-31"),
    (["slots", "--specialist", "ann", "--date", "٢٠٢٦-١٢-٠١"], "is not a date"),
    ([*SLOTS, "--to", "9999-12-31"], "2000-01-01 to 2099-12-31"),
    (["next", "--service", "checkup", "--from", "0001-01-01"], "2000-01-01 to 2099-12-31"),
    (["bookings", "--to", "2100-01-01"], "2000-01-01 to 2099-12-31"),
    ([*SLOTS, "--now", "9999-12-31T23:00:00+00:00"], "2000-01-01 to 2099-12-31"),
    ([*SLOTS, "--now", "0001-01-01T00:00:00+00:00"], "2000-01-01 to 2099-12-31"),
    ([*SLOTS, "--now", "2026-11-30T0٨:00:00+01:00"], "not a date-time with an offset"),
    ([*SLOTS, "--now", "2026-11-30T08:00:00"], "not a date-time with an offset"),
    (
        ["book", "--specialist", "ann", "--service", "checkup", "--start", "9999-12-31T23:59"],
        "2000-01-01 to 2099-12-31",
    ),
    (
        [
            "book",
            "--specialist",
            "ann",
            "--service",
            "checkup",
            "--start",
            "9999-12-31T23:59:00-23:00",
        ],
        "2000-01-01 to 2099-12-31",
    ),
    (
        ["book", "--specialist", "ann", "--service", "checkup", "--start", "0001-01-01T00:00"],
        "2000-01-01 to 2099-12-31",
    ),
    (
        ["book", "--specialist", "ann", "--service", "checkup", "--start", "2026-12-01T٠٩:٤٠"],
        "not a date-time",
    ),
    ([*BOOK, "--client-name", ""], "the name is empty"),
    ([*BOOK, "--client-name", "B" * 101], "at most 100"),
    ([*BOOK, "--client-name", "Bob\x1b[2J"], "control characters"),
    ([*BOOK, "--client-name", "Bob\nStone"], "control characters"),
    ([*BOOK, "--client-name", "Bob\u2028Stone"], "control characters"),
    ([*BOOK, "--client-phone", "call me"], "not a phone number"),
    ([*BOOK, "--client-phone", "١٢٣٤٥٦٧"], "not a phone number"),
    ([*BOOK, "--client-phone", "+" + "1" * 21], "not a phone number"),
    ([*BOOK, "--client-phone", "12"], "not a phone number"),
    (
        ["book", "--specialist", "Ann", "--service", "checkup", "--start", "2026-12-01T09:40"],
        '"Ann" is not an id',
    ),
    (
        ["book", "--specialist", "a" * 61, "--service", "checkup", "--start", "2026-12-01T09:40"],
        "longer than 60 characters",
    ),
    (
        ["book", "--specialist", "ann\n", "--service", "checkup", "--start", "2026-12-01T09:40"],
        "is not an id",
    ),
    (
        [
            "book",
            "--specialist",
            "аnn",
            "--service",
            "checkup",  # a Cyrillic а
            "--start",
            "2026-12-01T09:40",
        ],
        "is not an id",
    ),
    (["slots", "--service", "../../etc", "--date", "2026-12-01"], "is not an id"),
    (["next", "--service", "\udcff"], "not valid UTF-8"),  # a byte that was not UTF-8
    ([*HOLES, "--min", "0m"], "longer than zero"),
    ([*HOLES, "--min", "25h"], "at most 24h"),
    ([*HOLES, "--min", "99999999999h"], "too long a duration"),
    ([*HOLES, "--min", "٣٠m"], "is not a duration"),
    ([*HOLES, "--weekday", "mon," * 2000], "longer than 4096"),
    ([*HOLES, "--weekday", "пн"], "is not a weekday"),
    (["serve", "--port", "0"], "from 1 to 65535"),
    (["serve", "--port", "65536"], "from 1 to 65535"),
    (["serve", "--port", "٨٠٨٠"], "from 1 to 65535"),
    (["serve", "--host", "evil host"], "is not a host name"),
    (["try", "--language", "xx"], "not a language of bookbot"),
    (["stats", "--from", "2026-12-02", "--to", "2026-12-01"], "2026-12-01"),
    (["stats", "--from", "2026-01-01", "--to", "2027-12-31"], "400"),
    (["stats", "--from", "2026-12-01"], "--from and --to"),
    (["stats", "--to", "2100-01-01"], "2000-01-01 to 2099-12-31"),
    (["stats", "--from", "1.12.2026", "--to", "2026-12-01"], "is not a date"),
]
BAD_DATABASES = [
    ("postgresql+asyncpg://postgres@127.0.0.1:99999/test", "port 99999"),
    ("sqlite+aiosqlite:////no/such/folder/x.db", "the folder /no/such/folder"),
    ("sqlite+aiosqlite:////tmp", "/tmp in the database URL"),
    ("no url at all", "cannot use the database URL"),
]


@pytest.fixture
def loaded(db_url: str, tmp_path: Path) -> str:
    """BASIC imported into a fresh database of each kind; returns its URL."""
    path = tmp_path / "clinic.yaml"
    path.write_text(BASIC)
    assert main(["import", str(path), "--db", db_url]) == 0
    return db_url


def state(url: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Everything stored, as `bookbot export` and `bookbot bookings --json` print it."""
    capsys.readouterr()
    assert main(["export", "--db", url]) == 0
    assert main(["bookings", "--json", "--db", url]) == 0
    return capsys.readouterr().out


def refused_cleanly(code: int, out: str, err: str, says: str) -> None:
    """Exit 2, nothing on stdout, one line naming the problem on stderr, no traceback."""
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err and err.endswith("\n") and err.count("\n") == 1, err
    assert says in err, err


def test_every_hostile_argument_is_refused_and_changes_nothing(
    loaded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = state(loaded, capsys)
    cases = [
        ([*args, "--db", loaded, *([] if "--now" in args else ["--now", NOW])], says)
        for args, says in HOSTILE
    ]
    cases += [(["bookings", "--db", url], says) for url, says in BAD_DATABASES]
    for args, says in cases:
        code = main(args)
        out, err = capsys.readouterr()
        refused_cleanly(code, out, err, says)
    assert state(loaded, capsys) == before


def test_the_bounds_themselves_are_taken(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (
        ["search", "--service", "checkup", "--limit", "1000", "--offset", "100000"],
        ["search", "--service", "checkup", "--limit", "1"],
        ["slots", "--specialist", "ann", "--date", "2099-12-31"],
        [
            "holes",
            "--service",
            "checkup",
            "--from",
            "2000-01-01",
            "--to",
            "2000-01-01",
            "--min",
            "24h",
        ],
    ):
        assert main([*args, "--db", loaded, "--now", NOW, "--json"]) == 0, capsys.readouterr()
    code = main(
        [
            *BOOK,
            "--client-name",
            "Zoë O'Neil-Ибрагимова",
            "--client-phone",
            "+49 (151) 123-456",
            "--db",
            loaded,
            "--now",
            NOW,
            "--json",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert main(["cancel", "0002", "--db", loaded, "--now", NOW, "--json"]) == 0
    assert '"status": "cancelled"' in capsys.readouterr().out


# (arguments, environment, a piece of the one line on stderr; None: it runs)
REAL = [
    (["cancel", "١"], {}, '"١" is not a booking id'),
    (["cancel", "9" * 30], {}, "no booking has the id 9999"),
    (
        ["next", "--service", b"\xff\xfe".decode(sys.getfilesystemencoding(), "surrogateescape")],
        {},
        "not valid UTF-8",
    ),
    (["search", "--service", "checkup", "--limit", "0"], {}, "from 1 to 1000"),
    (
        ["bookings"],
        {"BOOKBOT_DATABASE_URL": "sqlite+aiosqlite:////no/such/folder/x.db"},
        "the folder /no/such/folder",
    ),
    (["bookings"], {"PORT": "eighty"}, None),  # a bad PORT troubles only `serve`
    (["serve"], {"PORT": "eighty"}, '"eighty" is not a whole number from 1 to 65535'),
]


def test_the_real_command_refuses_without_a_traceback(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    (tmp_path / "clinic.yaml").write_text(BASIC)
    base = {**os.environ, "BOOKBOT_DATABASE_URL": url}
    run = [sys.executable, "-m", "bookbot"]
    assert (
        subprocess.run(
            [*run, "import", str(tmp_path / "clinic.yaml")],
            env=base,
            capture_output=True,
            timeout=120,
        ).returncode
        == 0
    )

    def bookings() -> bytes:
        return subprocess.run(
            [*run, "bookings", "--json"], env=base, capture_output=True, timeout=120
        ).stdout

    def one(case: tuple[list[str], dict, str | None]) -> subprocess.CompletedProcess[bytes]:
        argv, env, _ = case
        return subprocess.run(
            [*run, *argv, "--now", NOW], env={**base, **env}, capture_output=True, timeout=120
        )

    before = bookings()
    with ThreadPoolExecutor(len(REAL)) as pool:  # processes start slowly; side by side
        done = list(pool.map(one, REAL))
    for (argv, _, says), result in zip(REAL, done, strict=True):
        err = result.stderr.decode("utf-8", "replace")
        if says is None:
            assert result.returncode == 0 and err == "", (argv, err)
        else:
            refused_cleanly(result.returncode, result.stdout.decode(), err, says)
    assert bookings() == before and b'"status": "confirmed"' in before
