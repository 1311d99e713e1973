"""Importing bookings with and without ids: each one the file names is stored exactly once."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bookbot import clinic_file
from bookbot.engine.model import BookingStatus, Client
from bookbot.errors import Invalid
from bookbot.services.booked import list_bookings
from bookbot.services.bookings import book
from bookbot.services.clinic import export_clinic, import_clinic
from bookbot.store.db import Database
from tests.clinics import BASIC, NOW
from tests.conftest import drop_postgres_database, new_postgres_database

now = datetime.fromisoformat(NOW)
HEAD = BASIC.split("bookings:")[0]


def with_bookings(*lines: str) -> str:
    """BASIC with these booking lines instead of its own."""
    return HEAD + "bookings:\n" + "".join(f"  - {line}\n" for line in lines)


def at(text: str) -> datetime:
    """A Berlin wall time in winter as an aware instant."""
    return datetime.fromisoformat(text + "+01:00")


async def stored(db: Database) -> list[tuple[int, str, str, str]]:
    """Every booking as (id, specialist, local start, status), by id."""
    found = await list_bookings(db)
    return sorted((b.id, b.specialist, b.start.strftime("%d %H:%M"), str(b.status)) for b in found)


async def test_an_idless_booking_before_id_1_is_stored_too(db: Database) -> None:
    text = with_bookings(
        "{specialist: ann, service: checkup, start: 2026-12-01T09:00}",
        "{id: 1, specialist: ben, service: checkup, start: 2026-12-01T09:00}",
    )
    report = await import_clinic(db, clinic_file.read(text))
    assert report.bookings == 2
    rows = await stored(db)
    assert [(s, t) for _, s, t, _ in rows] == [("ben", "01 09:00"), ("ann", "01 09:00")]
    assert rows[0][0] == 1  # the id the file gave; the other got a new one
    again = await import_clinic(db, clinic_file.read(text))
    assert again.changed == 0
    assert await stored(db) == rows


async def test_idless_bookings_appended_to_an_export_are_all_added(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    await book(db, now, "ben", "checkup", at("2026-12-01T10:00"))
    exported = clinic_file.dump(await export_clinic(db))
    appended = exported + "".join(
        f"- {{specialist: {who}, service: checkup, start: 2026-12-0{day}T{hour}}}\n"
        for who, day, hour in [("ann", 2, "09:00"), ("ben", 2, "09:00"), ("ben", 3, "08:00")]
    )
    report = await import_clinic(db, clinic_file.read(appended))
    assert report.bookings == 5
    rows = await stored(db)
    assert len(rows) == 5 and len({row[0] for row in rows}) == 5
    assert (await import_clinic(db, clinic_file.read(appended))).changed == 0
    assert await stored(db) == rows
    # the database hands out ids after the imported ones
    made = await book(db, now, "ann", "checkup", at("2026-12-01T09:40"))
    assert made.id == max(row[0] for row in rows) + 1


async def test_a_restored_export_leaves_room_for_new_bookings(db: Database, tmp_path: Path) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    await book(db, now, "ben", "checkup", at("2026-12-01T10:00"))
    exported = clinic_file.dump(await export_clinic(db))
    if db.dialect == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
    else:
        url = await new_postgres_database()
    restored = Database(url)
    try:
        await import_clinic(restored, clinic_file.read(exported))
        made = await book(restored, now, "ann", "checkup", at("2026-12-01T09:40"))
        assert made.id == 3  # after the two the file gave
    finally:
        await restored.close()
        if db.dialect == "postgresql":
            await drop_postgres_database(url)


async def test_a_cancelled_and_a_live_booking_at_one_start_are_both_kept(db: Database) -> None:
    text = with_bookings(
        "{specialist: ann, service: checkup, start: 2026-12-01T09:00, status: cancelled,"
        " client: {name: Eve}}",
        "{specialist: ann, service: checkup, start: 2026-12-01T09:00, client: {name: Bob}}",
    )
    await import_clinic(db, clinic_file.read(text))
    rows = await stored(db)
    assert sorted(status for *_, status in rows) == ["cancelled", "confirmed"]
    assert (await import_clinic(db, clinic_file.read(text))).changed == 0
    assert await stored(db) == rows


async def test_an_idless_booking_updates_the_one_at_its_start(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    renamed = BASIC.replace("name: Bob Stone", "name: Robert Stone")
    report = await import_clinic(db, clinic_file.read(renamed))
    assert report.changed == 1
    found = await list_bookings(db)
    assert [(b.id, b.client.name) for b in found] == [(1, "Robert Stone")]


async def test_an_id_names_its_booking_even_when_listed_after_an_idless_one(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))  # ann 09:00 is booking 1
    moved = with_bookings(
        "{specialist: ann, service: checkup, start: 2026-12-01T09:00, client: {name: New}}",
        "{id: 1, specialist: ann, service: checkup, start: 2026-12-02T09:00}",
    )
    await import_clinic(db, clinic_file.read(moved))
    rows = await stored(db)
    assert [(i, t) for i, _, t, _ in rows] == [(1, "02 09:00"), (2, "01 09:00")]
    assert (await import_clinic(db, clinic_file.read(moved))).changed == 0


@pytest.mark.parametrize(
    ("lines", "path"),
    [
        (
            [
                "{id: 7, specialist: ann, service: checkup, start: 2026-12-01T09:00}",
                "{id: 7, specialist: ben, service: checkup, start: 2026-12-01T09:00}",
            ],
            "bookings[1].id",
        ),
        (
            [
                "{specialist: ann, service: checkup, start: 2026-12-01T09:00, status: cancelled}",
                "{specialist: ann, service: checkup, start: 2026-12-01T09:00, status: cancelled}",
            ],
            "bookings[1]",
        ),
        (
            [
                "{id: 3, specialist: ann, service: checkup, start: 2026-12-01T09:00}",
                "{specialist: ann, service: checkup, start: 2026-12-01T09:00}",
            ],
            "bookings[1]",
        ),
    ],
)
async def test_a_file_naming_one_booking_twice_is_refused(
    db: Database, lines: list[str], path: str
) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    before = await export_clinic(db)
    with pytest.raises(Invalid) as caught:
        await import_clinic(db, clinic_file.read(with_bookings(*lines)))
    assert path in [p.path for p in caught.value.problems]
    assert await export_clinic(db) == before


async def test_the_report_counts_what_was_written(db: Database) -> None:
    first = with_bookings(
        "{specialist: ann, service: checkup, start: 2026-12-01T09:00}",
        "{specialist: ben, service: checkup, start: 2026-12-01T09:00}",
    )
    report = await import_clinic(db, clinic_file.read(first))
    # the business, 2 services, 2 specialists, 2 bookings
    assert (report.bookings, report.changed) == (2, 1 + 2 + 2 + 2)
    one_more = first + "  - {specialist: ben, service: checkup, start: 2026-12-01T10:00}\n"
    report = await import_clinic(db, clinic_file.read(one_more))
    assert (report.bookings, report.changed) == (3, 1)
    assert len(await stored(db)) == 3
    statuses = {b.status for b in await list_bookings(db)}
    assert statuses == {BookingStatus.CONFIRMED}


async def test_a_booking_made_by_chat_is_matched_by_start_on_reimport(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    made = await book(db, now, "ben", "checkup", at("2026-12-01T10:00"), Client(name="Eve"))
    again = BASIC + "  - {specialist: ben, service: checkup, start: 2026-12-01T10:00}\n"
    assert (await import_clinic(db, clinic_file.read(again))).changed == 0
    assert [b.id for b in await list_bookings(db, specialist="ben")] == [made.id]
