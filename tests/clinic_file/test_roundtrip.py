"""Export re-imports to exactly what was there: across the DST fold, after a service is dropped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bookbot import clinic_file
from bookbot.engine.model import Booking, BookingStatus
from bookbot.errors import Invalid, Refused
from bookbot.services.bookings import book
from bookbot.services.clinic import export_clinic, import_clinic
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
    await import_clinic(db, clinic_file.read(NIGHTS))
    async with UnitOfWork(db) as uow:
        await uow.bookings.add_booking(Booking("ann", "checkup", BEFORE_FOLD, SECOND_0230), now)
        await uow.commit()
    text = clinic_file.dump(await export_clinic(db))
    assert 'end: "2026-10-25T02:30+01:00"' in text  # the second 02:30, said so
    assert 'start: "2026-10-25T01:30"' in text  # unambiguous: a plain wall time as before
    read = [b for b in clinic_file.read(text).bookings if b.start == BEFORE_FOLD]
    assert [(b.start, b.end) for b in read] == [(BEFORE_FOLD, SECOND_0230)]
    assert (await import_clinic(db, clinic_file.read(text))).changed == 0
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
    await import_clinic(db, clinic_file.read(BASIC))  # ann's check-up at 09:00
    await book(db, now, "ann", "checkup", datetime.fromisoformat("2026-12-02T09:00+01:00"))
    dropped = BASIC.replace("services: [checkup, hygiene]", "services: [hygiene]")
    await import_clinic(db, clinic_file.read(dropped))  # the 09:00 one is kept
    exported = await export_clinic(db)
    assert exported.specialists[0].services == ("hygiene",)
    assert [(b.specialist, b.service, b.status) for b in exported.bookings] == [
        ("ann", "checkup", BookingStatus.CONFIRMED)
    ] * 2
    text = clinic_file.dump(exported)
    assert (await import_clinic(db, clinic_file.read(text))).changed == 0
    url = await fresh_database(db, tmp_path)
    restored = Database(url)
    try:
        await import_clinic(restored, clinic_file.read(text))
        assert await export_clinic(restored) == exported
    finally:
        await restored.close()
        if db.dialect == "postgresql":
            await drop_postgres_database(url)


async def test_a_new_booking_of_a_service_not_offered_is_still_refused(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    dropped = BASIC.replace("services: [checkup, hygiene]", "services: [hygiene]")
    await import_clinic(db, clinic_file.read(dropped))
    before = await export_clinic(db)
    new = dropped + "  - {specialist: ann, service: checkup, start: 2026-12-02T09:00}\n"
    with pytest.raises(Invalid) as caught:
        await import_clinic(db, clinic_file.read(new))
    assert [(p.path, p.key) for p in caught.value.problems] == [
        ("bookings[1].service", "error.not_offered_by")
    ]
    assert await export_clinic(db) == before


POLICY = BASIC.replace(
    "holidays: DE-BY\n",
    'holidays: DE-BY\ncurrency: EUR\nphone: "+49 30 1230000"\n'
    "policy: {cancel_notice: 24h, confirm_by: 3h, no_show_limit: 2, no_show_window: 90d,\n"
    "         after_no_shows: block, waitlist_hold: 10m, payment_hold: 20m}\n",
    1,
).replace(
    "{id: checkup, name: Check-up}",
    '{id: checkup, name: Check-up, price: "60.00", cancel_notice: 48h}',
)


async def test_prices_and_the_policy_come_back_exactly_through_the_database(
    db: Database, tmp_path: Path
) -> None:
    clinic = clinic_file.read(POLICY)
    await import_clinic(db, clinic)
    exported = await export_clinic(db)
    assert exported.business == clinic.business
    assert exported.services == clinic.services
    text = clinic_file.dump(exported)
    again = clinic_file.read(text)
    assert (again.business, again.services) == (clinic.business, clinic.services)
    assert (await import_clinic(db, clinic_file.read(text))).changed == 0
    url = await fresh_database(db, tmp_path)
    restored = Database(url)
    try:
        await import_clinic(restored, clinic_file.read(text))
        assert await export_clinic(restored) == exported
    finally:
        await restored.close()
        if db.dialect == "postgresql":
            await drop_postgres_database(url)


async def test_a_file_without_settings_turns_them_off_again(db: Database) -> None:
    await import_clinic(db, clinic_file.read(POLICY))
    await import_clinic(db, clinic_file.read(BASIC))
    exported = await export_clinic(db)
    assert exported.business == clinic_file.read(BASIC).business
    assert [(s.price, s.cancel_notice) for s in exported.services] == [(None, None)] * 2


async def test_another_currency_drops_the_prices_the_file_does_not_give_again(
    db: Database,
) -> None:
    priced = POLICY.replace(
        "{id: hygiene, name: Hygiene, duration: 90m}",
        '{id: hygiene, name: Hygiene, duration: 90m, price: "80.00"}',
    )
    await import_clinic(db, clinic_file.read(priced))
    in_yen = (
        POLICY.replace("currency: EUR", "currency: JPY")
        .replace('price: "60.00"', 'price: "6000"')
        .replace("  - {id: hygiene, name: Hygiene, duration: 90m}\n", "")
        .replace("services: [checkup, hygiene]", "services: [checkup]")
    )
    await import_clinic(db, clinic_file.read(in_yen))
    exported = await export_clinic(db)
    assert exported.business.currency == "JPY"
    assert [(s.id, s.price) for s in exported.services] == [("checkup", 6000), ("hygiene", None)]
    text = clinic_file.dump(exported)
    assert (await import_clinic(db, clinic_file.read(text))).changed == 0
