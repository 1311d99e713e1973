"""Commands that only read answer while another process holds SQLite's write lock."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bookbot.cli import main
from tests.clinics import BASIC, NOW

READS = [
    ["slots", "--specialist", "ann", "--date", "2026-12-01"],
    ["slots", "--service", "checkup", "--date", "2026-12-01"],
    ["next", "--service", "checkup"],
    ["next", "--service", "checkup", "--specialist", "ann"],
    ["next", "--service", "checkup", "--each"],
    ["holes", "--service", "checkup", "--from", "2026-12-01", "--to", "2026-12-04"],
    ["search", "--service", "checkup"],
    ["bookings"],
    ["export"],
]


@pytest.fixture
def locked(tmp_path: Path):  # type: ignore[no-untyped-def]
    """BASIC imported into a SQLite file, whose write lock another connection then holds."""
    path = tmp_path / "cli.db"
    url = f"sqlite+aiosqlite:///{path}"
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(BASIC)
    assert main(["import", str(clinic), "--db", url]) == 0
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # as a process in the middle of a write would
    writer.execute("UPDATE businesses SET horizon_days = horizon_days")
    yield url
    writer.execute("ROLLBACK")
    writer.close()


@pytest.mark.parametrize("args", READS, ids=lambda args: " ".join(args[:2]))
def test_a_read_answers_while_another_process_writes(
    locked: str, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*args, "--db", locked, "--json", "--now", NOW])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert json.loads(out) if args[0] != "export" else "specialists:" in out


def test_the_command_answers_in_its_own_process(locked: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bookbot",
            "next",
            "--service",
            "checkup",
            "--db",
            locked,
            "--json",
            "--now",
            NOW,
        ],
        capture_output=True,
        text=True,
        timeout=25,
    )  # the write lock would hold it 30 s
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["specialist"] in ("ann", "ben")
