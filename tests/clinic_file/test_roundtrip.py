"""Export re-imports to exactly what was there: across the DST fold, after a service is dropped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bookbot import booking, clinic_file
from bookbot.engine.model import Booking, BookingStatus
from bookbot.errors import Invalid, Refused
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork
from tests.clinics import BASIC, NOW
from tests.conftest import drop_postgres_database, new_postgres_database

now = datetime.fromisoformat(NOW)
# Berlin, Sunday 25 October 2026: at 03:00 CEST the clocks go back to 02:00 CET.
BEFORE_FOLD = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)  # 01:30 CEST
SECOND_0230 = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, the second one
NIGHTS = BASIC.replace(
    "      - {days: [fri], times:",
    '      - {days: [sun], start: "00:00", end: "06:00", slot: 30m}\n      - {days: [fri], times:',
)


async def fresh_database(db: Database, tmp_path: Path) -> str:
    """The URL of another empty database of the same kind as `db`."""
    if db.dialect == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
    return await new_postgres_database()


async def test_a_booking_across_the_fold_comes_back_as_long_as_it_was(db: Database) -> None:
    await booking.import_clinic(db, clinic_file.read(NIGHTS))
    async with UnitOfWork(db) as uow:
        await uow.bookings.add_booking(Booking("ann", "checkup", BEFORE_FOLD, SECOND_0230), now)
        await uow.commit()
    text = clinic_file.dump(await booking.export_clinic(db))
    assert 'end: "2026-10-25T02:30+01:00"' in text  # the second 02:30, said so
    assert 'start: "2026-10-25T01:30"' in text  # unambiguous: a plain wall time as before
    read = [b for b in clinic_file.read(text).bookings if b.start == BEFORE_FOLD]
    assert [(b.start, b.end) for b in read] == [(BEFORE_FOLD, SECOND_0230)]
    assert (await booking.import_clinic(db, clinic_file.read(text))).changed == 0
    with pytest.raises(Refused):  # the second hour is still taken
        async with UnitOfWork(db) as uow:
            await uow.bookings.add_booking(
                Booking("ann", "checkup", SECOND_0230.replace(hour=0, minute=45), SECOND_0230), now
            )


def test_the_first_0230_is_written_with_its_offset_and_a_plain_one_reads_as_first() -> None:
    text = NIGHTS + (
        '  - {specialist: ann, service: checkup, start: "2026-10-25T02:30+02:00",'
        ' end: "2026-10-25T02:30+01:00"}\n'
        "  - {specialist: ben, service: checkup, start: 2026-10-25T02:30, end: 2026-10-25T03:30}\n"
    )
    clinic = clinic_file.read(text)
    ann, ben = clinic.bookings[1], clinic.bookings[2]
    assert (ann.end - ann.start).total_seconds() == 3600
    assert ben.start == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # first occurrence
    dumped = clinic_file.dump(clinic)
    assert '"2026-10-25T02:30+02:00"' in dumped and '"2026-10-25T02:30+01:00"' in dumped
    assert clinic_file.read(dumped) == clinic


def test_a_block_across_the_fold_round_trips() -> None:
    text = NIGHTS.replace(
        "      - {start: 2026-12-01T12:00",
        '      - {start: "2026-10-25T02:15+02:00", end: "2026-10-25T02:45+01:00"}\n'
        "      - {start: 2026-12-01T12:00",
    )
    clinic = clinic_file.read(text)
    block = clinic.specialists[0].blocks[0]
    assert (block.end - block.start).total_seconds() == 90 * 60
    assert clinic_file.read(clinic_file.dump(clinic)) == clinic


async def test_a_dropped_service_keeps_its_bookings_through_export_and_import(
    db: Database, tmp_path: Path
) -> None:
    await booking.import_clinic(db, clinic_file.read(BASIC))  # ann's check-up at 09:00
    await booking.book(db, now, "ann", "checkup", datetime.fromisoformat("2026-12-02T09:00+01:00"))
    dropped = BASIC.replace("services: [checkup, hygiene]", "services: [hygiene]")
    await booking.import_clinic(db, clinic_file.read(dropped))  # the 09:00 one is kept
    exported = await booking.export_clinic(db)
    assert exported.specialists[0].services == ("hygiene",)
    assert [(b.specialist, b.service, b.status) for b in exported.bookings] == [
        ("ann", "checkup", BookingStatus.CONFIRMED)
    ] * 2
    text = clinic_file.dump(exported)
    assert (await booking.import_clinic(db, clinic_file.read(text))).changed == 0
    url = await fresh_database(db, tmp_path)
    restored = Database(url)
    try:
        await booking.import_clinic(restored, clinic_file.read(text))
        assert await booking.export_clinic(restored) == exported
    finally:
        await restored.close()
        if db.dialect == "postgresql":
            await drop_postgres_database(url)


async def test_a_new_booking_of_a_service_not_offered_is_still_refused(db: Database) -> None:
    await booking.import_clinic(db, clinic_file.read(BASIC))
    dropped = BASIC.replace("services: [checkup, hygiene]", "services: [hygiene]")
    await booking.import_clinic(db, clinic_file.read(dropped))
    before = await booking.export_clinic(db)
    new = dropped + "  - {specialist: ann, service: checkup, start: 2026-12-02T09:00}\n"
    with pytest.raises(Invalid) as caught:
        await booking.import_clinic(db, clinic_file.read(new))
    assert [(p.path, p.key) for p in caught.value.problems] == [
        ("bookings[1].service", "error.not_offered_by")
    ]
    assert await booking.export_clinic(db) == before
