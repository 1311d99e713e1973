"""`bookbot waitlist [--service ID]`: waiting entries, oldest first, as JSON or a table."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bookbot.cli import main
from bookbot.engine.waitlist import EVENING, MORNING
from bookbot.services import waitlist
from bookbot.store.db import Database
from tests.clinics import BASIC, NOW


async def _join(url: str) -> None:
    db = Database(url)
    now = datetime.fromisoformat(NOW)
    try:
        await waitlist.join(db, now + timedelta(minutes=1), 77, "hygiene", parts=[EVENING, MORNING])
        await waitlist.join(
            db, now, 78, "checkup", "ann", first=date(2026, 12, 1), last=date(2026, 12, 4)
        )
    finally:
        await db.close()


def test_the_waitlist_lists_waiting_entries_oldest_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(BASIC)
    assert main(["import", str(clinic), "--db", url]) == 0
    asyncio.run(_join(url))
    capsys.readouterr()

    assert main(["waitlist", "--json", "--now", NOW, "--db", url]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [(e["client"], e["service"], e["specialist"]) for e in found] == [
        (78, "checkup", "ann"),
        (77, "hygiene", None),
    ]
    assert (found[0]["first"], found[0]["last"]) == ("2026-12-01", "2026-12-04")
    assert found[1]["parts"] == [MORNING, EVENING]
    assert found[1]["last"] == "2027-01-29"  # today + the horizon of 60 days

    assert main(["waitlist", "--service", "hygiene", "--now", NOW, "--db", url]) == 0
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 2 and "hygiene" in table[1] and "morning,evening" in table[1]

    assert main(["waitlist", "--service", "nope", "--now", NOW, "--db", url]) != 0
