"""Benchmarks the command line's start-up and one specialist's month, each against its bound.

Every figure is a whole process, timed from outside like a shell's `time`, in turn with
its lower bound measured in the same run (A B A B …), so a drift of the shared machine
touches both: the median wall and CPU time of each, and the median of the pairwise ratios.

- Start-up: read-only commands on the demo clinic against `python -c "import sqlite3"`
  run by this same interpreter (a `python3` found on PATH may be a shim script that
  itself takes longer than Python). Targets: under 150 ms wall and within 4x.
- A month: `bookbot slots` for one specialist's month against a process that runs the
  engine alone on the same schedule and stored holiday dates (read once from the database
  here, handed over as a pickle). Target: within 3x. The same pair inside one process (the
  use case with its database read, against the engine's call) is printed as well.
- Where a command's time goes: the parts it cannot start without, each as a process of
  its own against the same bound, no target. `next`, `slots` and `bookings` on a small
  clinic read the file with sqlite3 alone (store/reader.py) and run no event loop.

The commands are the installed `bookbot` script beside this interpreter, as a user runs
them (else `python -m bookbot`).

Bytecode is cached as an installed package's is: the warm-up runs write it even where
PYTHONDONTWRITEBYTECODE is set. Run: `PYTHONPATH=src python bench/startup.py [--runs N]`.
Never run by the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from msgspec import Struct

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # a Tuesday morning in Berlin
MONTH = (date(2026, 12, 1), date(2026, 12, 31))
SPECIALIST, SERVICE = "ann", "checkup"  # Ann works under DE-BY's holidays
FLOOR = [sys.executable, "-c", "import sqlite3"]
WALL_TARGET_MS = 150.0
STARTUP_RATIO = 4.0
MONTH_RATIO = 3.0
# The engine alone, as a process: read the pickled schedule with the stored holiday dates
# the command line hands the engine too, and ask for the month's slots.
ENGINE = (
    "import pickle, sys\n"
    "from bookbot.engine.calendars import known\n"
    "from bookbot.engine.search import slots\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    days, question = pickle.load(f)\n"
    "for entry in days:\n"
    "    known(*entry)\n"
    "print(len(slots(*question)))\n"
)
PARTS = (
    (
        "SQLAlchemy's async layer, aiosqlite and the tables (bookings, every SQLAlchemy path)",
        "import sqlalchemy.ext.asyncio, aiosqlite, bookbot.store.tables",
    ),
    (
        "one holiday calendar (DE-BY, Ann's), which stored dates spare a query",
        "import holidays; holidays.country_holidays('DE', subdiv='BY', years=2026)",
    ),
    (
        "the engine, i18n with its catalog and argparse (a plain query runs no event loop)",
        "import argparse, bookbot.engine.search, bookbot.i18n as i, bookbot.parsing\n"
        "i.catalog('en')",
    ),
    (
        "the whole plain read path's code, nothing run",
        "import bookbot.cli, bookbot.services.availability, bookbot.store.reader",
    ),
)


class Run(Struct, frozen=True):
    """One finished process: wall and CPU seconds, peak resident memory in MiB."""

    wall: float
    cpu: float
    peak: float


def run(command: Sequence[str], env: dict[str, str]) -> Run:
    """Runs a command to its end, its output thrown away; its own resource use."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"exit {child.returncode}: {' '.join(command)}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def pair(
    a: Sequence[str], b: Sequence[str], env: dict[str, str], runs: int
) -> tuple[list[Run], list[Run]]:
    """Runs A and B in turn, two warm-ups each first, `runs` counted of each."""
    for _ in range(2):
        run(a, env)
        run(b, env)
    found: tuple[list[Run], list[Run]] = ([], [])
    for _ in range(runs):
        found[0].append(run(a, env))
        found[1].append(run(b, env))
    return found


def median(runs: list[Run], field: Callable[[Run], float]) -> float:
    """The median of one figure over the runs."""
    return statistics.median(field(r) for r in runs)


def report(
    label: str, a: list[Run], b: list[Run], wall_ms: float | None, ratio: float | None
) -> None:
    """Prints A's figures, B's, and the ratio A/B, each with its target and verdict."""
    wall, cpu = median(a, lambda r: r.wall) * 1000, median(a, lambda r: r.cpu) * 1000
    ratios = statistics.median(x.wall / y.wall for x, y in zip(a, b, strict=True))
    peak = max(r.peak for r in a)
    print(f"  {label}")
    verdict = "" if wall_ms is None else f"target < {wall_ms:g} ms  {_ok(wall < wall_ms)}"
    print(f"    wall {wall:7.1f} ms  cpu {cpu:7.1f} ms  peak {peak:5.1f} MiB  {verdict}".rstrip())
    lower = median(b, lambda r: r.wall) * 1000
    verdict = "" if ratio is None else f"target < {ratio:g}x  {_ok(ratios < ratio)}"
    shown = f"    ratio to the bound ({lower:.1f} ms wall) {ratios:5.1f}x  {verdict}"
    print(shown.rstrip(), flush=True)


def _ok(met: bool) -> str:
    return "ok" if met else "OVER"


def bookbot(url: str, *args: str) -> list[str]:
    """The command line on the benchmark's database: the `bookbot` a user runs.

    That is the script installed beside this interpreter; where there is none (the
    package not installed), `python -m bookbot`, which spends a few ms more in runpy.
    """
    script = Path(sys.executable).with_name("bookbot")
    start = [str(script)] if script.is_file() else [sys.executable, "-m", "bookbot"]
    return [*start, *args, "--db", url, "--now", NOW.isoformat()]


async def month_in_process(url: str, folder: Path, repeats: int) -> tuple[Path, float, float]:
    """Pickles the month's question for the engine; the use case's and engine's medians in ms.

    The use case reads as `bookbot slots` does: through the plain reader (store/reader.py).
    """
    import sqlite3

    from bookbot.deps import open_reader
    from bookbot.engine.search import slots
    from bookbot.services import availability
    from bookbot.store import holiday_dates
    from bookbot.store.db import Database
    from bookbot.store.uow import UnitOfWork

    db, plain = Database(url), open_reader(url)
    assert plain is not None, "the demo clinic is read plainly"
    with sqlite3.connect(url.split("///", 1)[1]) as connection:
        days = holiday_dates.entries(connection.execute(holiday_dates.SELECT_ALL))
    try:
        async with UnitOfWork(db, write=False) as uow:
            ctx = await availability.context(uow, NOW, service=SERVICE, specialist=SPECIALIST)
        question = (
            [plan.schedule for plan in ctx.plans],
            *MONTH,
            NOW,
            ctx.business.rules,
            availability.duration(ctx),
        )
        path = folder / "month.pickle"
        path.write_bytes(pickle.dumps((days, question)))

        async def use_case() -> int:
            found = await availability.free_slots(
                plain, NOW, *MONTH, service=SERVICE, specialist=SPECIALIST
            )
            return len(found)

        def engine() -> int:
            return len(slots(*question))

        assert await use_case() == engine(), "the use case and the engine disagree"
        through, alone = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            await use_case()
            through.append(time.perf_counter() - started)
            started = time.perf_counter()
            engine()
            alone.append(time.perf_counter() - started)
        return path, statistics.median(through) * 1000, statistics.median(alone) * 1000
    finally:
        await db.close()
        await plain.close()


def month_measured(url: str, folder: Path, repeats: int) -> tuple[Path, float, float]:
    """`month_in_process`, run to its end."""
    return asyncio.run(month_in_process(url, folder, repeats))


def main() -> None:
    """Prints every figure with its target and ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="counted runs of each process")
    runs = parser.parse_args().runs
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    print(f"start-up benchmark, Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = f"sqlite+aiosqlite:///{folder / 'demo.db'}"
        run(bookbot(url, "demo"), env)
        print("read-only commands on the demo clinic, whole processes:")
        for args in (
            ("next", "--service", SERVICE),
            ("next", "--service", SERVICE, "--specialist", SPECIALIST),
            ("bookings",),
        ):
            a, b = pair(bookbot(url, *args), FLOOR, env, runs)
            report(f"bookbot {' '.join(args)}", a, b, WALL_TARGET_MS, STARTUP_RATIO)
        print("where the time goes, each part alone as a process:")
        for label, code in PARTS:
            a, b = pair([sys.executable, "-c", code], FLOOR, env, runs)
            report(label, a, b, None, None)
        # In a process of its own: a child forked from a parent that imported SQLAlchemy
        # would report the parent's memory as its own peak.
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            path, through, alone = pool.apply(month_measured, (url, folder, 50))
        month = ("slots", "--service", SERVICE, "--specialist", SPECIALIST)
        month += ("--date", MONTH[0].isoformat(), "--to", MONTH[1].isoformat(), "--json")
        answer = subprocess.run(bookbot(url, *month), env=env, capture_output=True, check=True)
        engine = [sys.executable, "-c", ENGINE, str(path)]
        counted = subprocess.run(engine, env=env, capture_output=True, check=True)
        assert len(json.loads(answer.stdout)) == int(counted.stdout), "CLI and engine disagree"
        print(f"one specialist's month ({len(json.loads(answer.stdout))} free slots):")
        a, b = pair(bookbot(url, *month), engine, env, runs)
        report("bookbot slots, against the engine alone as a process", a, b, None, MONTH_RATIO)
        verdict = _ok(through < alone * MONTH_RATIO)
        print(
            f"  in one process: the use case {through:.2f} ms, the engine alone {alone:.2f} ms, "
            f"{through / alone:.1f}x  target < {MONTH_RATIO:g}x  {verdict}"
        )


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({timedelta(seconds=round(time.perf_counter() - started))} in all)")
