"""A `bookbot` command in a process of its own, and the modules it loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import bookbot
from tests.clinics import NOW

# Run as `python -c`: the command, then every module it loaded, one a line, on stderr.
# Modules the interpreter had loaded before the command began are not the command's: a
# `.pth` file in site-packages may import pathlib (certifi's hooks do) in every process.
PROBE = (
    "import sys\n"
    "before = set(sys.modules)\n"
    "from bookbot.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print(*sorted(set(sys.modules) - before), sep='\\n', file=sys.stderr)\n"
    "raise SystemExit(code)\n"
)


def loaded(url: str, *args: str) -> tuple[str, set[str]]:
    """Runs `bookbot ARGS` in a new process: what it printed, and the modules it imported."""
    source = str(Path(bookbot.__file__).resolve().parents[1])
    paths = [source, os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args, "--db", url, "--now", NOW, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, set(done.stderr.split())
