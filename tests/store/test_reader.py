"""The plain reader (sqlite3 alone) answers as SQLAlchemy's path: bookings, next, slots.

Each clinic is imported into a real SQLite file, given bookings and holds (one that runs
out between two questions), then asked the same questions both ways at several instants,
a DST change among them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Boolean, Date, DateTime, Time

from bookbot import clinic_file, demo
from bookbot.clinic_file.reading import Clinic
from bookbot.deps import open_reader
from bookbot.engine.model import Client
from bookbot.services import availability, booked
from bookbot.services.availability import ANY
from bookbot.services.bookings import book
from bookbot.services.clinic import import_clinic
from bookbot.store import reader
from bookbot.store.db import Database
from bookbot.store.tables import Base
from tests.clinics import BASIC, CHAIN, NOW

START = datetime.fromisoformat(NOW)
HOLD = timedelta(minutes=15)


def clinics() -> dict[str, Clinic]:
    """The clinics asked: the tests' basic one, a chain of places, and the demo."""
    return {
        "basic": clinic_file.read(BASIC),
        "chain": clinic_file.read(CHAIN),
        "demo": demo.clinic(START, deposit=False),
    }


async def filled(folder: Path, clinic: Clinic) -> str:
    """The clinic in a new SQLite file, with a booking and a hold of each specialist."""
    url = f"sqlite+aiosqlite:///{folder / 'clinic.db'}"  # the reader opens the file
    db = Database(url)
    try:
        await import_clinic(db, clinic, START)
        for specialist in clinic.specialists[:3]:
            service = specialist.services[0]
            found = await availability.free_slots(
                db,
                START,
                START.date(),
                START.date() + timedelta(days=7),
                service=service,
                specialist=specialist.id,
            )
            if len(found) < 2:
                continue
            await book(db, START, specialist.id, service, found[0].start, Client("Eve"))
            await book(db, START, specialist.id, service, found[-1].start, Client("Al"), HOLD)
    finally:
        await db.close()
    return url


async def answers(db: Database | reader.Reader, clinic: Clinic, now: datetime) -> list:
    """Every question `bookings`, `next` and `slots` ask of the reader, at `now`."""
    found: list = [await booked.list_bookings(db)]
    first = now.date()
    for service in clinic.services:
        found.append(await availability.soonest_slot(db, now, service.id))
        found.append(await availability.free_slots(db, now, first, first, service=service.id))
        found.append(
            await availability.free_slots(
                db, now, first, first + timedelta(days=9), service=service.id, specialist=ANY
            )
        )
    for specialist in clinic.specialists:
        for service in specialist.services:
            found.append(
                await availability.soonest_slot(db, now, service, specialist=specialist.id)
            )
        found.append(
            await availability.free_slots(
                db, now, first, first + timedelta(days=31), specialist=specialist.id
            )
        )
        found.append(await booked.list_bookings(db, specialist=specialist.id, first=first))
    return found


@pytest.mark.parametrize("name", ["basic", "chain", "demo"])
async def test_the_reader_answers_as_sqlalchemys_path(name: str, tmp_path: Path) -> None:
    clinic = clinics()[name]
    url = await filled(tmp_path, clinic)
    instants = [
        START,
        START + HOLD + timedelta(minutes=1),  # the holds ran out, not yet marked
        START + timedelta(days=5, hours=3),
        datetime.fromisoformat("2027-01-20T10:00:00+01:00"),  # beyond the imported horizon
    ]
    for now in instants:
        plain = open_reader(url)
        assert plain is not None
        db = Database(url)
        try:
            expected = await answers(db, clinic, now)
            assert await answers(plain, clinic, now) == expected
            assert any(expected), "the clinic has free time to compare"
        finally:
            await plain.close()
            await db.close()


async def test_the_reader_answers_across_a_dst_change(tmp_path: Path) -> None:
    clinic = clinic_file.read(BASIC)
    url = await filled(tmp_path, clinic)
    now = datetime.fromisoformat("2027-03-25T08:00:00+01:00")  # Sunday 28 March: 02:00→03:00
    plain, db = open_reader(url), Database(url)
    assert plain is not None
    try:
        for specialist in ("ann", "ben"):
            ask = {"specialist": specialist}
            expected = await availability.free_slots(
                db, now, date(2027, 3, 26), date(2027, 3, 30), **ask
            )
            assert expected
            assert (
                await availability.free_slots(
                    plain, now, date(2027, 3, 26), date(2027, 3, 30), **ask
                )
                == expected
            )
    finally:
        await plain.close()
        await db.close()


async def test_where_it_cannot_answer_alike_the_reader_is_not_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await filled(tmp_path, clinic_file.read(BASIC))
    assert open_reader(url) is not None
    assert open_reader(f"sqlite+aiosqlite:///{tmp_path / 'none.db'}") is None
    assert open_reader("sqlite+aiosqlite:///:memory:") is None
    assert open_reader("postgresql+asyncpg://postgres@127.0.0.1/test") is None
    assert open_reader(url + "?timeout=5") is None  # a URL SQLAlchemy reads is its to open
    monkeypatch.setattr(reader, "SMALL", 1)  # BASIC has two specialists
    assert open_reader(url) is None
    monkeypatch.setattr(reader, "HEAD", "0001")  # the file is not at the newest migration
    monkeypatch.setattr(reader, "SMALL", 100)
    assert open_reader(url) is None
    (tmp_path / "empty.db").write_bytes(b"")
    assert open_reader(f"sqlite:///{tmp_path / 'empty.db'}") is None


def test_the_reader_decodes_every_typed_column_it_reads_as_the_tables_store_it() -> None:
    read = {table for table, _ in reader.TABLES} | {"bookings", "clients"}
    for table in Base.metadata.sorted_tables:
        if table.name not in read:
            continue
        for column in table.columns:
            typed = isinstance(column.type, Date | Time | DateTime | Boolean) or isinstance(
                getattr(column.type, "impl", None), DateTime
            )
            if table.name == "clients" and column.name not in ("name", "phone", "telegram_id"):
                continue  # the reader reads these three of a client
            assert (column.name in reader.DECODE) == typed, f"{table.name}.{column.name}"
