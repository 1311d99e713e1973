"""A query's process imports no bot, web, Alembic, Babel or clinic-file code: start-up stays short.

Each query runs as its own process, the way a shell runs it, and lists the modules it
loaded; bench/startup.py times the same commands.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import bookbot
from bookbot.cli import main
from tests.clinics import BASIC
from tests.probe import PROBE, loaded

UNUSED = (
    "telegram",
    "alembic",
    "babel",
    "holidays",
    "starlette",
    "uvicorn",
    "bookbot.bot",
    "bookbot.web",
)
QUERIES = [
    ("next", "--service", "checkup"),
    ("next", "--service", "checkup", "--specialist", "ann"),
    ("slots", "--service", "checkup", "--date", "2026-12-01"),
    ("holes", "--service", "checkup", "--from", "2026-12-01", "--to", "2026-12-04"),
    ("search", "--service", "checkup"),
    ("bookings",),
]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """BASIC imported into a SQLite file, its schema at the newest migration."""
    folder = tmp_path_factory.mktemp("startup")
    url = f"sqlite+aiosqlite:///{folder / 'startup.db'}"
    path = folder / "clinic.yaml"
    path.write_text(BASIC)
    assert main(["import", str(path), "--db", url]) == 0
    return url


@pytest.mark.parametrize("args", QUERIES, ids=" ".join)
def test_a_query_imports_no_bot_web_alembic_or_clinic_file(database: str, args: tuple) -> None:
    out, modules = loaded(database, *args)
    assert out.strip()
    assert "bookbot.cli" in modules  # the probe saw the command
    unused = sorted(m for m in modules if m.split(".")[0] in UNUSED or m.startswith(UNUSED))
    assert unused == []
    assert "bookbot.clinic_file" not in modules
    assert "bookbot.store.migrations" not in modules


PLAIN = [q for q in QUERIES if q[0] in ("bookings", "next", "slots")]


@pytest.mark.parametrize("args", PLAIN, ids=" ".join)
def test_a_small_clinics_plain_queries_load_no_sqlalchemy_or_holidays(
    database: str, args: tuple
) -> None:
    out, modules = loaded(database, *args)
    assert out.strip()
    assert "bookbot.store.reader" in modules
    assert not {m.split(".")[0] for m in modules} & {"sqlalchemy", "aiosqlite", "holidays"}
    # Nor what a plain query has no use for: an event loop, YAML (the locale texts are
    # read from their JSON copy), pathlib, shutil (argparse sizes its help with it), or
    # the engine's checks.
    left = {"asyncio", "yaml", "pathlib", "shutil", "bookbot.engine.validate"} & set(modules)
    assert left == set()


@pytest.mark.parametrize("more", [("--location", "nowhere"), ("--near", "48.1,11.5")])
def test_a_question_of_places_takes_sqlalchemys_path(database: str, more: tuple) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "next", "--service", "checkup", *more, "--db", database],
        env={**os.environ, "PYTHONPATH": str(Path(bookbot.__file__).resolve().parents[1])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "sqlalchemy" in done.stderr.split()


def test_an_import_still_reads_the_clinic_file(database: str, tmp_path: Path) -> None:
    path = tmp_path / "clinic.yaml"
    path.write_text(BASIC)
    _, modules = loaded(database, "import", str(path))
    assert "bookbot.clinic_file" in modules
