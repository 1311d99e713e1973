"""Stored holiday dates (store/holiday_dates.py) on a SQLite file and PostgreSQL.

Whatever brings a calendar or a year into use stores the holidays package's dates, and a
query's process then answers from them without importing the package; a table that lacks
them (empty, stale, or just migrated) still answers exactly, through the package.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

import bookbot
from bookbot import clinic_file
from bookbot.engine.calendars import computed
from bookbot.engine.model import Location
from bookbot.services import places, schedules
from bookbot.services.clinic import import_clinic
from bookbot.services.people import Actor
from bookbot.services.reindex import reindex
from bookbot.store.db import MIGRATIONS, Database
from bookbot.store.holiday_dates import SELECT_ALL, days_text, entries
from bookbot.store.uow import UnitOfWork
from tests.clinics import BASIC, CHAIN, NOW
from tests.probe import loaded
from tests.store.schema import drift

now = datetime.fromisoformat(NOW)  # 2026-11-30, a horizon of 60 days: into 2027
YEARS = [2025, 2026, 2027, 2028]  # today's year − 1 .. the horizon's + 1
ADMIN = Actor(1, admin=True)
# Ann's Christmas and New Year under DE-BY: 25 and 26 December, 1 and 6 January are holidays.
CHRISTMAS = ("slots", "--service", "checkup", "--specialist", "ann")
CHRISTMAS += ("--date", "2026-12-21", "--to", "2027-01-08")
# Martin Luther King Day, a Monday: a holiday under US-NY, not DE-BY; Ben works Mondays.
KING_DAY = ("slots", "--service", "checkup", "--specialist", "ben", "--date", "2027-01-18")
# Run as `python -c`: the command's answer on stdout, and whether it loaded the package.


async def stored(db: Database) -> dict[tuple[str, int], str]:
    """The table's rows: the dates of each calendar and year."""
    async with UnitOfWork(db, write=False) as uow:
        rows = await uow.session.execute(text(SELECT_ALL))
        return {(calendar, year): days for calendar, year, days in rows}


def package(calendars: list[str], years: list[int]) -> dict[tuple[str, int], str]:
    """What the holidays package says of these calendars and years, as the table holds it."""
    return {(c, y): days_text(computed(c, y)) for c in calendars for y in years}


async def run_sql(db: Database, statement: str) -> None:
    async with UnitOfWork(db) as uow:
        await uow.session.execute(text(statement))
        await uow.commit()


def ask(url: str, *args: str) -> tuple[str, bool]:
    """Runs `bookbot ARGS` in a new process: its answer, and whether it imported holidays."""
    answer, modules = loaded(url, *args)
    return answer, "holidays" in modules


def test_rows_turn_into_the_engines_entries() -> None:
    rows = [("DE-BY", 2026, "2026-01-01,2026-12-25"), ("XX", 2027, "")]
    assert entries(rows) == [
        ("DE-BY", 2026, frozenset({date(2026, 1, 1), date(2026, 12, 25)})),
        ("XX", 2027, frozenset()),
    ]
    assert days_text([date(2026, 12, 25), date(2026, 1, 1)]) == "2026-01-01,2026-12-25"


async def test_an_import_stores_every_calendar_in_use_for_the_years_asked(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC), now)
    assert await stored(db) == package(["DE-BY"], YEARS)  # Ben's `none` is no calendar
    calendars = BASIC.replace("holidays: DE-BY", "holidays: [DE-SN, IL]")
    await import_clinic(db, clinic_file.read(calendars), now)  # DE-BY is no longer in use
    assert await stored(db) == package(["DE-SN", "IL"], YEARS)


async def test_a_chain_stores_its_places_calendars(db: Database) -> None:
    await import_clinic(db, clinic_file.read(CHAIN), now)
    assert await stored(db) == package(["AT", "DE-BE"], YEARS)  # the file's and Salzburg's


async def test_a_query_on_a_holiday_answers_from_the_table_without_the_package(
    db: Database,
) -> None:
    await import_clinic(db, clinic_file.read(BASIC), now)
    answer, loaded = ask(db.url, *CHRISTMAS)
    assert not loaded
    days = {slot["start"][:10] for slot in json.loads(answer)}
    assert "2026-12-22" in days and not days & {"2026-12-25", "2027-01-01", "2027-01-06"}
    await run_sql(db, "DELETE FROM holiday_dates")  # empty: the package answers the same
    assert ask(db.url, *CHRISTMAS) == (answer, True)
    await import_clinic(db, clinic_file.read(BASIC), now)  # the same file fills it again
    assert ask(db.url, *CHRISTMAS) == (answer, False)
    await run_sql(db, "UPDATE holiday_dates SET year = year - 10")  # stale: other years
    assert ask(db.url, *CHRISTMAS) == (answer, True)


def test_a_db_api_cursor_reads_them_without_sqlalchemy_or_the_package(tmp_path: Path) -> None:
    async def filled() -> None:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bookbot.db'}")
        try:
            await import_clinic(db, clinic_file.read(BASIC), now)
        finally:
            await db.close()

    asyncio.run(filled())
    reader = (
        "import sqlite3, sys\n"
        "from bookbot.engine.calendars import holiday_dates\n"
        "from bookbot.store.holiday_dates import SELECT_ALL, hand_in\n"
        "hand_in(sqlite3.connect(sys.argv[1]).execute(SELECT_ALL))\n"
        "print(sorted(d.isoformat() for d in holiday_dates('DE-BY', 2026))[-2:])\n"
        "print('sqlalchemy' in sys.modules, 'holidays' in sys.modules)\n"
    )
    source = str(Path(bookbot.__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", reader, str(tmp_path / "bookbot.db")],
        env={**os.environ, "PYTHONPATH": source},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.split("\n")[:2] == ["['2026-12-25', '2026-12-26']", "False False"]


async def test_a_holidays_change_stores_the_new_calendar(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC), now)
    change = schedules.Change(schedules.HOLIDAYS, "ben", calendars=("US-NY",))
    await schedules.change(db, now, ADMIN, change)
    assert await stored(db) == package(["DE-BY", "US-NY"], YEARS)
    answer, loaded = ask(db.url, *KING_DAY)
    assert not loaded and json.loads(answer) == []  # Ben's holiday now
    back = schedules.Change(schedules.HOLIDAYS, "ben", calendars=())
    await schedules.change(db, now, ADMIN, back)
    assert await stored(db) == package(["DE-BY"], YEARS)
    assert json.loads(ask(db.url, *KING_DAY)[0]) != []


async def test_a_new_place_stores_its_calendar_and_reindex_rolls_the_years(db: Database) -> None:
    await import_clinic(db, clinic_file.read(CHAIN), now)
    await places.add_location(db, ADMIN, Location("haifa", "Haifa", "Street 1", holidays=("IL",)))
    assert await stored(db) == package(["AT", "DE-BE", "IL"], YEARS)
    await reindex(db, now + timedelta(days=365))
    assert await stored(db) == package(["AT", "DE-BE", "IL"], [2026, 2027, 2028, 2029])


async def test_a_database_at_0017_upgrades_and_answers_until_the_table_is_filled(
    db: Database,
) -> None:
    await import_clinic(db, clinic_file.read(BASIC), now)
    answer, _ = ask(db.url, *CHRISTMAS)

    def migrate(connection, target: str, up: bool) -> None:  # type: ignore[no-untyped-def]
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        (command.upgrade if up else command.downgrade)(config, target)

    async with db.engine.begin() as connection:
        await connection.run_sync(migrate, "0017", False)
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        assert "holiday_dates" not in names
    assert ask(db.url, *CHRISTMAS) == (answer, True)  # the query's process upgrades it
    async with db.engine.connect() as connection:
        diff = await connection.run_sync(drift)
    assert diff == []
    assert await stored(db) == {}
    await import_clinic(db, clinic_file.read(BASIC), now)
    assert ask(db.url, *CHRISTMAS) == (answer, False)
