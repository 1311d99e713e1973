"""Fuzzing the clinic-file reader: any mutation of a valid file is refused or round-trips.

A mutated file is either refused as bad input (exit 2: BadInput, or Invalid with every
problem at a path), with the database exactly as before, or accepted; then its export
imports with no change and exports the same again.
"""

from __future__ import annotations

import asyncio
import copy
import json
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bookbot import clinic_file, i18n
from bookbot.errors import BadInput, Invalid
from bookbot.services.clinic import export_clinic, import_clinic
from bookbot.store.db import Database
from tests.clinics import BASIC, NOW
from tests.conftest import POSTGRES, drop_postgres_database, new_postgres_database

now = datetime.fromisoformat(NOW)
# BASIC with one of everything more: every override type, valid dates, a zone, linked
# specialists, bookings with and without ids, a cancelled one, a currency, a phone, every
# policy setting, prices and a service's own cut-off.
RICH = (
    BASIC.replace(
        "holidays: DE-BY\n",
        'holidays: DE-BY\ncurrency: EUR\nphone: "+49 30 1230000"\n'
        "policy: {cancel_notice: 24h, confirm_by: 3h, no_show_limit: 2, no_show_window: 90d,\n"
        "         after_no_shows: block, waitlist_hold: 15m, payment_hold: 20m}\n",
    )
    .replace(
        "{id: checkup, name: Check-up}",
        '{id: checkup, name: Check-up, price: "60.00", cancel_notice: 48h}',
    )
    .replace("duration: 90m}", 'duration: 90m, price: "0.01"}')
    .replace(
        "    name: Dr. Ann Weber\n",
        "    name: Dr. Ann Weber\n    telegram_id: 1001\n    timezone: Europe/Berlin\n",
    )
    .replace(
        "      - {date: 2026-12-23, type: custom_hours",
        "      - {from: 2027-01-04, to: 2027-01-08, type: vacation, reason: Ski}\n"
        '      - {date: 2026-12-12, type: extra_slots, times: ["16:00"], slot: 30m}\n'
        "      - {date: 2026-12-23, type: custom_hours",
    )
    .replace(
        '      - {days: [mon, tue, wed, thu, fri], start: "08:00", end: "12:00", slot: 1h}',
        '      - {days: [mon, tue, wed, thu, fri], start: "08:00", end: "12:00", slot: 1h,'
        " valid_from: 2026-01-01, valid_until: 2027-06-30}",
    )
    + """\
  - {id: 7, specialist: ben, service: checkup, start: 2026-12-02T08:00, end: 2026-12-02T09:00,
     status: confirmed, client: {name: Eve, telegram_id: 77}}
  - {specialist: ben, service: checkup, start: 2026-12-02T09:00, status: cancelled}
  - {specialist: ann, service: hygiene, start: 2026-12-02T09:00, client: {phone: "+491"}}
"""
)
BASE = clinic_file.load_text(RICH)

INTERESTING = [
    "",
    " ",
    "0",
    "0m",
    "1m",
    "5m",
    "90m",
    "24h",
    "2160h",
    "90d",
    "91d",
    "1d12h",
    "25:00",
    "23:59",
    "00:00",
    "09:30",
    "2026-12-24",
    "2000-01-01",
    "0001-01-01",
    "9999-12-31",
    "2026-12-02T08:00",
    "2026-10-25T02:30",
    "2026-10-25T02:30+01:00",
    "2027-03-28T02:30",
    "none",
    "DE-BY",
    "XX",
    "mon",
    "sun",
    "funday",
    "checkup",
    "hygiene",
    "ann",
    "ben",
    "confirmed",
    "cancelled",
    "held",
    "day_off",
    "vacation",
    "custom_hours",
    "extra_slots",
    "EUR",
    "XTR",
    "JPY",
    "KWD",
    "eur",
    "60.00",
    "0.01",
    "0.001",
    "1000000",
    "1000000.01",
    "+49 30 1230000",
    "block",
    "prepay",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Mars/Olympus",
    "\x00",
    "\u202e",
    "\x1b[2J",
    "١",
    "²",
    "-1",
    "99999999999999999999999",
    "x" * 5_000,
]
NUMBERS = st.one_of(
    st.integers(min_value=-1_000, max_value=100_000),
    st.sampled_from([0, -1, 2**31 - 1, 2**31, 2**52 - 1, 2**52, 2**63, 2**64, 10**30]),
)


def nested(depth: int) -> Any:
    """A list inside a list, `depth` times."""
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    NUMBERS,
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(INTERESTING),
    st.integers(1, 80).map(nested),
    st.lists(st.sampled_from(INTERESTING[:20]), max_size=3),
    st.dictionaries(st.sampled_from(["id", "name", "x", "start", "type"]), NUMBERS, max_size=2),
)


def positions(tree: Any, at: tuple = ()) -> Iterator[tuple]:
    """The path of every value under the root: keys and indices."""
    children = (
        tree.items()
        if isinstance(tree, dict)
        else enumerate(tree)
        if isinstance(tree, list)
        else ()
    )
    for key, child in children:
        yield (*at, key)
        yield from positions(child, (*at, key))


def mutate(data: st.DataObject, tree: Any) -> Any:
    """One to three mutations: drop a key, change or swap a value, duplicate an entry."""
    tree = copy.deepcopy(tree)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        places = list(positions(tree))
        if not places:
            break
        path = data.draw(st.sampled_from(places), label="path")
        parent = tree
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        kind = data.draw(st.sampled_from(["drop", "change", "swap", "duplicate"]), label="kind")
        if kind == "drop":
            del parent[last]
        elif kind == "change":
            parent[last] = data.draw(VALUES, label="value")
        elif kind == "swap":  # a value from elsewhere in the file: often of the right kind
            source = data.draw(st.sampled_from(places), label="source")
            found = tree
            for key in source:
                found = found[key]
            parent[last] = copy.deepcopy(found)
        elif isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))
        else:
            parent[last] = [parent[last], copy.deepcopy(parent[last])]
    return tree


async def check(url: str, text: str, note: Callable[[str], None] = event) -> str:
    """Imports `text`: refused with nothing written, or accepted and round-tripping.

    Tells (and notes for Hypothesis's statistics) which of the two it was.
    """
    db = Database(url)
    try:
        before = clinic_file.dump(await export_clinic(db))
        try:
            await import_clinic(db, clinic_file.read(text), now)
        except BadInput as refusal:  # Invalid is one too
            problems = refusal.problems if isinstance(refusal, Invalid) else []
            note(f"refused: {problems[0].key if problems else refusal.key}")
            assert refusal.exit_code == 2
            assert all(p.path for p in problems)
            for message in [i18n.text(p.key, **p.params) for p in problems] + [
                i18n.text(refusal.key, **refusal.params)
            ]:
                assert len(message) < 500
            assert clinic_file.dump(await export_clinic(db)) == before
            return "refused"
        note("accepted")
        exported = clinic_file.dump(await export_clinic(db))
        again = await import_clinic(db, clinic_file.read(exported), now)
        assert again.changed == 0, exported
        assert clinic_file.dump(await export_clinic(db)) == exported
        return "accepted"
    finally:
        await db.close()


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with RICH imported, copied for each example."""
    path = tmp_path_factory.mktemp("fuzz") / "template.db"

    async def build() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await import_clinic(db, clinic_file.read(RICH), now)
        finally:
            await db.close()

    asyncio.run(build())
    assert not Path(f"{path}-wal").exists()  # checkpointed: the file is the whole database
    return path


@pytest.fixture(scope="module")
def postgres_template() -> Iterator[str]:
    """A PostgreSQL database with RICH imported, the template of each example's database."""
    url = asyncio.run(new_postgres_database())

    async def build() -> None:
        db = Database(url)
        try:
            await import_clinic(db, clinic_file.read(RICH), now)
        finally:
            await db.close()

    asyncio.run(build())
    yield url.rsplit("/", 1)[1]
    asyncio.run(drop_postgres_database(url))


FUZZ = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@settings(FUZZ, max_examples=100)
@given(st.data())
def test_a_mutated_file_is_refused_or_round_trips_on_sqlite(
    sqlite_template: Path, data: st.DataObject
) -> None:
    text = json.dumps(mutate(data, BASE), ensure_ascii=False)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.db"
        shutil.copyfile(sqlite_template, path)
        asyncio.run(check(f"sqlite+aiosqlite:///{path}", text))


@settings(FUZZ, max_examples=30)
@given(st.data())
def test_a_mutated_file_is_refused_or_round_trips_on_postgresql(
    postgres_template: str, data: st.DataObject
) -> None:
    text = json.dumps(mutate(data, BASE), ensure_ascii=False)

    async def run() -> None:
        name = f"bookbot_fuzz_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(POSTGRES, timeout=5)
        try:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
        finally:
            await admin.close()
        url = POSTGRES.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        try:
            await check(f"{url}/{name}", text)
        finally:
            await drop_postgres_database(f"{url}/{name}")

    asyncio.run(run())


def test_the_unmutated_file_round_trips(sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    shutil.copyfile(sqlite_template, path)
    outcome = asyncio.run(check(f"sqlite+aiosqlite:///{path}", json.dumps(BASE), print))
    assert outcome == "accepted"
