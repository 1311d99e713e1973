"""The store on real SQLite and PostgreSQL: schema, import/export, the double-booking guard."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from bookbot import clinic_file
from bookbot.engine.model import Booking, BookingStatus, Client
from bookbot.errors import Invalid, Refused
from bookbot.services import booked, bookings
from bookbot.services.availability import free_slots
from bookbot.services.clinic import export_clinic, import_clinic
from bookbot.store.dayindex.questions import VERSIONED
from bookbot.store.db import Database
from bookbot.store.uow import BULK_PAGES, UnitOfWork
from tests.clinics import BASIC, NOW
from tests.store.schema import drift

now = datetime.fromisoformat(NOW)


def at(text: str) -> datetime:
    """A Berlin wall time in winter as an aware instant."""
    return datetime.fromisoformat(text + "+01:00")


async def test_migrations_build_exactly_the_tables(db: Database) -> None:
    await db.prepare()
    async with db.engine.connect() as connection:
        diff = await connection.run_sync(drift)
    assert diff == []


def test_the_head_a_current_schema_is_told_by_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from bookbot.store.db import MIGRATIONS
    from bookbot.store.version import HEAD

    assert ScriptDirectory(str(MIGRATIONS)).get_heads() == [HEAD]


async def test_schema_is_created_once_and_reused(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    again = Database(db.url)
    try:
        exported = await export_clinic(again)
        assert [s.id for s in exported.services] == ["checkup", "hygiene"]
    finally:
        await again.close()


async def test_import_is_idempotent_and_export_reimports_to_the_same_state(db: Database) -> None:
    first = await import_clinic(db, clinic_file.read(BASIC))
    assert first.changed > 0
    again = await import_clinic(db, clinic_file.read(BASIC))
    assert again.changed == 0
    exported = await export_clinic(db)
    text = clinic_file.dump(exported)
    assert (await import_clinic(db, clinic_file.read(text))).changed == 0
    assert await export_clinic(db) == exported
    assert clinic_file.read(text) == clinic_file.read(clinic_file.dump(clinic_file.read(text)))


async def test_an_edited_file_updates_by_id_and_keeps_the_rest(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    edited = BASIC.replace("name: Ben Keller", "name: Dr. Ben Keller").replace(
        "slot: 1h}\nbookings", "slot: 30m}\nbookings"
    )
    report = await import_clinic(db, clinic_file.read(edited))
    assert report.changed == 1
    clinic = await export_clinic(db)
    ben = next(s for s in clinic.specialists if s.id == "ben")
    assert ben.name == "Dr. Ben Keller"
    assert ben.weekly[0].hours.slot == timedelta(minutes=30)
    assert len(clinic.bookings) == 1


async def test_a_bad_import_writes_nothing(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    before = await export_clinic(db)
    overlapping = (
        BASIC.replace("name: Ben Keller", "name: Changed")
        + """
  - {specialist: ann, service: hygiene, start: 2026-12-01T08:30}
"""
    )
    with pytest.raises(Invalid) as caught:
        await import_clinic(db, clinic_file.read(overlapping))
    assert [p.path for p in caught.value.problems] == ["bookings[1].start"]
    assert await export_clinic(db) == before


async def test_the_database_itself_refuses_overlapping_live_bookings(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    overlapping = Booking("ann", "hygiene", at("2026-12-01T08:45"), at("2026-12-01T09:15"))
    async with UnitOfWork(db) as uow:
        with pytest.raises(Refused):
            await uow.bookings.add_booking(overlapping, now)
    cancelled = Booking(
        "ann", "hygiene", at("2026-12-01T08:45"), at("2026-12-01T09:15"), BookingStatus.CANCELLED
    )
    async with UnitOfWork(db) as uow:
        await uow.bookings.add_booking(cancelled, now)
        await uow.commit()
    touching = Booking("ann", "checkup", at("2026-12-01T09:30"), at("2026-12-01T10:00"))
    async with UnitOfWork(db) as uow:
        await uow.bookings.add_booking(touching, now)
        await uow.commit()


async def test_the_guard_sees_an_overlap_behind_a_later_start_and_refuses_no_length(
    db: Database,
) -> None:
    await import_clinic(db, clinic_file.read(BASIC))  # Ann: 09:00-09:30 on 1 December
    long = Booking("ann", "hygiene", at("2026-12-02T09:00"), at("2026-12-02T12:00"))
    async with UnitOfWork(db) as uow:
        await uow.bookings.add_booking(long, now)
        await uow.commit()
    # Inside the long one, starting last before its own end; or at the same start.
    for start, end in (("11:00", "11:30"), ("09:00", "09:30")):
        inside = Booking("ann", "checkup", at(f"2026-12-02T{start}"), at(f"2026-12-02T{end}"))
        async with UnitOfWork(db) as uow:
            with pytest.raises(Refused):
                await uow.bookings.add_booking(inside, now)
    # The triggers' own precondition (migrations 0019 and 0020).
    empty = Booking("ann", "checkup", at("2026-12-03T09:00"), at("2026-12-03T09:00"))
    async with UnitOfWork(db) as uow:
        with pytest.raises(Refused):
            await uow.bookings.add_booking(empty, now)
    async with UnitOfWork(db, write=False) as uow:
        assert len(await uow.bookings.bookings()) == 2


async def test_sixteen_racers_for_one_slot_end_with_one_booking(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    racers = [Database(db.url) for _ in range(16)]

    async def race(racer: Database, i: int) -> str:
        try:
            await bookings.book(
                racer, now, "ann", "checkup", at("2026-12-01T09:40"), Client(name=f"racer {i}")
            )
            return "booked"
        except Refused as refused:
            return refused.key

    try:
        results = await asyncio.gather(*(race(r, i) for i, r in enumerate(racers)))
    finally:
        for racer in racers:
            await racer.close()
    assert results.count("booked") == 1
    assert set(results) == {"booked", "refused.taken"}
    found = await booked.list_bookings(db, specialist="ann")
    assert [b.start.strftime("%H:%M") for b in found if b.live] == ["09:00", "09:40"]


async def test_a_longer_service_over_an_existing_booking_is_refused(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    await bookings.book(db, now, "ann", "checkup", at("2026-12-01T10:20"))
    with pytest.raises(Refused) as caught:
        await bookings.book(db, now, "ann", "hygiene", at("2026-12-01T09:40"))
    assert caught.value.key == "refused.taken"


async def test_a_booking_is_rechecked_when_it_is_written(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    shown = await free_slots(
        db, now, at("2026-12-02T00:00").date(), at("2026-12-02T00:00").date(), specialist="ann"
    )
    assert shown[0].start == at("2026-12-02T09:00")
    await import_clinic(
        db,
        clinic_file.read(
            BASIC.replace(
                "      - {date: 2026-12-24, type: day_off",
                "      - {date: 2026-12-02, type: day_off}\n"
                "      - {date: 2026-12-24, type: day_off",
            )
        ),
    )
    with pytest.raises(Refused) as caught:
        await bookings.book(db, now, "ann", "checkup", shown[0].start)
    assert caught.value.key == "refused.not_offered"


async def test_a_hold_keeps_the_slot_until_it_runs_out(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    start = at("2026-12-01T10:20")
    held = await bookings.book(db, now, "ann", "checkup", start, hold=timedelta(minutes=10))
    assert held.status == BookingStatus.HELD
    assert held.hold_until == now + timedelta(minutes=10)  # the store reads it into the engine
    with pytest.raises(Refused):
        await bookings.book(db, now + timedelta(minutes=5), "ann", "checkup", start)
    later = now + timedelta(minutes=11)
    with pytest.raises(Refused) as caught:
        await bookings.confirm(db, later, held.id)
    assert caught.value.key == "refused.hold_lost"
    taken = await bookings.book(db, later, "ann", "checkup", start)
    assert taken.status == BookingStatus.CONFIRMED


async def test_a_confirmed_hold_and_a_cancellation(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    start = at("2026-12-01T10:20")
    held = await bookings.book(db, now, "ann", "checkup", start, hold=timedelta(minutes=10))
    confirmed = await bookings.confirm(db, now + timedelta(minutes=9), held.id)
    assert confirmed.booking.status == BookingStatus.CONFIRMED
    assert confirmed.booking.hold_until is None
    cancelled = await bookings.cancel(db, now, held.id, by="client", reason="ill")
    assert cancelled.booking.status == BookingStatus.CANCELLED
    with pytest.raises(Refused):
        await bookings.cancel(db, now, held.id)
    again = await bookings.book(db, now, "ann", "checkup", start)
    assert again.start == start


async def test_a_database_with_data_upgrades_from_the_first_schema(empty_db: Database) -> None:
    db = empty_db
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from bookbot.store.db import MIGRATIONS

    def first_schema(connection) -> None:  # type: ignore[no-untyped-def]
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")

    async with db.engine.begin() as connection:
        await connection.run_sync(first_schema)
        for statement in (
            "INSERT INTO businesses VALUES (1, 'Europe/Berlin', 30, 60, '')",
            "INSERT INTO services VALUES ('checkup', 1, 'Check-up', NULL, 0)",
            "INSERT INTO specialists VALUES ('ann', 1, 'Ann', NULL, NULL, NULL, 0)",
            "INSERT INTO clients (id, name, phone, telegram_id, locale) "
            "VALUES (1, 'Bob', '+49', 42, NULL)",
            "INSERT INTO bookings (id, specialist_id, service_id, client_id, start_at, end_at, "
            "status, created_at) VALUES (1, 'ann', 'checkup', 1, '2026-12-01 08:00:00', "
            "'2026-12-01 08:30:00', 'confirmed', '2026-11-30 07:00:00')",
        ):
            await connection.execute(text(statement))
    await db.prepare()
    kept = await booked.list_bookings(db)
    assert [(b.id, b.client.name, b.start.isoformat()) for b in kept] == [
        (1, "Bob", "2026-12-01T09:00:00+01:00")
    ]


async def test_an_import_widens_sqlite_s_page_cache_and_gives_it_back(sqlite_url: str) -> None:
    db = Database(sqlite_url)

    async def cache_size() -> int:
        async with UnitOfWork(db, write=False) as uow:  # the pool's one connection again
            return int((await uow.session.execute(text("PRAGMA cache_size"))).scalar_one())

    try:
        before = await cache_size()
        async with UnitOfWork(db) as uow:
            await uow.widen_cache()
            widened = (await uow.session.execute(text("PRAGMA cache_size"))).scalar_one()
            await uow.commit()
        assert (widened, await cache_size()) == (-BULK_PAGES, before)
        with pytest.raises(RuntimeError):
            async with UnitOfWork(db) as uow:
                await uow.widen_cache()
                raise RuntimeError("undone")
        assert await cache_size() == before
        await import_clinic(db, clinic_file.read(BASIC), now)
        assert await cache_size() == before
    finally:
        await db.close()


async def test_the_index_of_holds_keeps_holds_and_answers_the_search_s_question(
    db: Database,
) -> None:
    """Only holds are indexed (migration 0023), and SQLite searches that index for the
    question every search asks (which specialists have a lapsed hold): on an index of the
    hold's end alone it built an index of every booking for each search instead."""
    await import_clinic(db, clinic_file.read(BASIC))
    async with UnitOfWork(db, write=False) as uow:
        connection = await uow.session.connection()
        if db.dialect == "sqlite":
            found = "SELECT sql FROM sqlite_master WHERE name = 'ix_bookings_held'"
        else:
            found = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_bookings_held'"
        definition = (await connection.exec_driver_sql(found)).scalar_one()
        assert "'held'" in definition  # a partial index: holds alone
        if db.dialect == "sqlite":
            asked = VERSIONED.compile(dialect=connection.dialect)
            values = {**asked.params, "now": "2026-12-01 09:00:00.000000"}
            assert asked.positiontup is not None
            plan = await connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {asked}", tuple(values[name] for name in asked.positiontup)
            )
            steps = " / ".join(str(row[3]) for row in plan)
            assert "USING INDEX ix_bookings_held" in steps and "AUTOMATIC" not in steps, steps
