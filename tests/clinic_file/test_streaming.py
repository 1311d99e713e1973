"""A JSON clinic file streamed reads and imports exactly as the file read whole does."""

from __future__ import annotations

import json
import multiprocessing
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from bookbot import clinic_file
from bookbot.clinic_file import loading, streamed, streaming
from bookbot.errors import Invalid
from bookbot.services import clinic
from bookbot.services.clinic import import_clinic, import_file
from bookbot.store.db import Database
from bookbot.store.import_stream import ImportStream, Ready
from bookbot.store.tables import BookingRow
from bookbot.store.uow import UnitOfWork
from tests.clinics import BASIC, NOW
from tests.conftest import (
    drop_database,
    drop_postgres_database,
    dsn,
    new_database,
    new_postgres_database,
)

now = datetime.fromisoformat(NOW)

SAME = [
    '{"a": true, "b": [false, 1.50, 123456789012345678901, 12345678901234567890, -0, 1e3]}',
    '{"c": {"d": "\\u00e9\\/x\\n", "e": null, "f": [[], {}]}, "g": -12, "h": "true"}',
    '[1, "two", {"three": [false]}]',
    '  {"a": "2026-12-01T09:00", "b": "09:00", "c": 10.0}\n',
    '{"a": NaN, "b": -Infinity}',
    "[" * 31 + "1" + "]" * 31,  # as deep as YAML allows
]
LEFT_TO_YAML = [
    '{"a":\t1}',  # YAML refuses a tab
    '\ufeff{"a": 1}',
    '{"a": "\\ud83d\\ude00"}',  # JSON pairs the surrogates, YAML does not
    '{"a": "x\u2028y"}',  # a line break to YAML
    '{"a": 1} {"b": 2}',
    '"text"',
    "[" * 32 + "1" + "]" * 32,  # deeper than YAML allows: YAML says so
]


def _yaml(text: str) -> Any:
    return yaml.load(text, Loader=loading._Loader)  # noqa: S506 - a SafeLoader subclass


@pytest.mark.parametrize("text", SAME)
def test_json_reads_as_yaml_reads_it(text: str) -> None:
    assert streaming.loads(text) == _yaml(text)
    assert loading.load_text(text) == _yaml(text)


@pytest.mark.parametrize("text", LEFT_TO_YAML)
def test_what_yaml_could_read_otherwise_is_left_to_it(text: str) -> None:
    with pytest.raises(streaming.NotPlain):
        streaming.loads(text)


def test_a_file_streamed_in_small_pieces_reads_as_it_does_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "READ", 7)  # every value cut across pieces
    monkeypatch.setattr(streaming, "LOW", 3)
    document = {
        "timezone": "Europe/Berlin",
        "bookings": [{"id": 12345678901234, "x": [True, 1.5, None, "\u00e9\\"]}, {}, {"y": "z"}],
        "payments": [{"amount": "1.00"}],
    }
    text = json.dumps(document, ensure_ascii=False)
    path = tmp_path / "clinic.json"
    path.write_text(text, encoding="utf-8")
    with streaming.JsonFile(path) as found:
        head = found.head()
        bookings = list(found.bookings())
        rest = found.rest()
    assert {**head, "bookings": bookings, **rest} == _yaml(text)
    assert list(head) == ["timezone"] and list(rest) == ["payments"]


def _counted(method: Any, calls: list) -> Any:
    """The method, noting each call in `calls`."""

    def counted(*args: Any) -> Any:
        calls.append(args)
        return method(*args)

    return counted


def _json(text: str, bookings: list[dict], path: Path) -> Path:
    """BASIC with these bookings, as a JSON file."""
    document = loading.load_text(text)
    document["bookings"] = bookings
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


async def _state(db: Database) -> list[tuple]:
    async with UnitOfWork(db, write=False) as uow:
        rows = [
            (b.id, b.specialist, b.service, b.start, b.end, str(b.status), b.client)
            for b in await uow.bookings.bookings()
        ]
        days = await uow.days.specialists()
        indexed = await uow.days.rows(days)  # the day index, row by row
    return [*sorted(rows, key=lambda row: row[0] or 0), tuple(days), sorted(indexed.items())]


@pytest.mark.parametrize("helper", [False, True], ids=["here", "in a helper process"])
async def test_a_streamed_import_writes_and_refuses_as_the_whole_file_does(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helper: bool
) -> None:
    monkeypatch.setattr(streamed, "CHUNK", 1)  # a chunk a booking
    monkeypatch.setattr(streamed, "IN_HELPER", 0 if helper else 2**40)
    spawned = []
    monkeypatch.setattr(streamed.Streamed, "_there", _counted(streamed.Streamed._there, spawned))
    (tmp_path / "other").mkdir()
    other_url = await new_database(db.dialect, tmp_path / "other")
    other = Database(other_url)

    async def both(path: Path) -> tuple[Any, Any]:
        """Imports streamed into db and read whole into other: report or problems each."""
        answers = []
        for database, streaming_in in ((db, True), (other, False)):
            try:
                if streaming_in:
                    answers.append(await import_file(database, path, now))
                else:
                    answers.append(await import_clinic(database, clinic_file.read_file(path), now))
            except Invalid as error:
                answers.append([(p.key, p.path) for p in error.problems])
        return answers[0], answers[1]

    def line(day: int, hour: int, **more: Any) -> dict:
        return {
            "specialist": "ben",
            "service": "checkup",
            "start": f"2026-12-{day:02d}T{hour:02d}:00",
            **more,
        }

    try:
        steps = [
            [  # new: ids after a booking without (written after them, numbered after them)
                line(3, 8, client={"name": "Cy", "telegram_id": 8}),
                line(3, 9, id=900, client={"name": "Di"}),
                line(4, 8, id=5),
            ],
            [line(1, 8), line(1, 9, client={"name": "Al", "telegram_id": 7}), line(2, 8)],
            [line(1, 8), line(1, 9), line(2, 8)],  # again: nothing changes
            [line(7, 8), line(7, 8, status="cancelled"), line(7, 9, service="hygiene")],
            [line(8, 8), line(8, 8)],  # one booking named twice
            [line(9, 8), line(9, 8, id=901)],  # an overlap within the file
            [line(1, 8, id=5)],  # moves a stored booking onto a stored one
        ]
        for bookings in steps:
            path = _json(BASIC, bookings, tmp_path / "clinic.json")
            answer, whole = await both(path)
            assert answer == whole
            assert not multiprocessing.active_children()  # a helper stopped, even early
            assert await _state(db) == await _state(other)
        assert answer == [("error.overlaps_existing", "bookings[0].start")]
        helped = helper and db.dialect == "sqlite"  # PostgreSQL's server writes: a thread reads
        assert len(spawned) >= len(steps) if helped else not spawned  # once more a restart
    finally:
        await other.close()
        await drop_database(other_url)


async def test_a_streamed_import_tells_its_progress(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streamed, "CHUNK", 2)
    starts = [f"2026-12-0{day}T{hour:02d}:00" for day in (1, 2) for hour in (8, 9)] + [
        "2026-12-03T08:00"
    ]
    lines = [{"specialist": "ben", "service": "checkup", "start": s} for s in starts]
    heard: list[int | None] = []
    report = await import_file(
        db, _json(BASIC, lines, tmp_path / "c.json"), now, progress=heard.append
    )
    assert report.bookings == 5
    assert heard == [2, 4, 5, None]  # after each chunk, then the day index


async def _guards(db: Database) -> list[tuple]:
    """The database's triggers on bookings, as it stores them."""
    async with UnitOfWork(db, write=False) as uow:
        connection = await uow.session.connection()
        if db.dialect == "sqlite":
            query = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        else:
            query = (
                "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgrelid = 'bookings'::regclass AND NOT tgisinternal ORDER BY tgname"
            )
        return [tuple(row) for row in await connection.exec_driver_sql(query)]


async def test_a_streamed_import_leaves_the_overlap_guard_as_it_found_it(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's trigger is dropped while new bookings stream in: it is back, and refuses."""
    monkeypatch.setattr(streamed, "CHUNK", 2)
    async with UnitOfWork(db) as uow:  # the schema, made
        await uow.commit()
    guards = await _guards(db)
    assert any("overlap" in name for name, _ in guards)
    lines = [
        {"specialist": "ben", "service": "checkup", "start": f"2026-12-0{day}T{hour:02d}:00"}
        for day in (1, 2)
        for hour in (8, 9)
    ]
    clashing = [*lines, {**lines[0], "id": 77}]  # the first again: refused at the end
    with pytest.raises(Invalid):
        await import_file(db, _json(BASIC, clashing, tmp_path / "clash.json"), now)
    assert await _guards(db) == guards
    async with UnitOfWork(db, write=False) as uow:
        assert await uow.bookings.bookings() == []  # nothing written
    report = await import_file(db, _json(BASIC, lines, tmp_path / "c.json"), now)
    assert report.bookings == 4
    assert await _guards(db) == guards
    async with UnitOfWork(db) as uow:  # another program's insert over an imported booking
        first = await uow.session.scalar(select(BookingRow).order_by(BookingRow.start_at).limit(1))
        assert first is not None
        with pytest.raises(IntegrityError, match="bookings_no_overlap"):
            await uow.session.execute(
                insert(BookingRow).values(
                    specialist_id=first.specialist_id,
                    service_id=first.service_id,
                    start_at=first.start_at,
                    end_at=first.end_at,
                    status="confirmed",
                    created_at=first.start_at,
                )
            )


FOREIGN_KEYS = text(
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE contype = 'f' AND conrelid = 'bookings'::regclass ORDER BY conname"
)


@pytest.fixture
async def pg() -> AsyncIterator[Database]:
    """A fresh PostgreSQL database at the newest migration."""
    url = await new_postgres_database(migrated=True)
    database = Database(url)
    yield database
    await database.close()
    await drop_postgres_database(url)


async def _keys(db: Database) -> list[tuple]:
    async with UnitOfWork(db, write=False) as uow:
        return [tuple(row) for row in await uow.session.execute(FOREIGN_KEYS)]


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The names of the foreign keys on bookings as the import itself sees them, each time
    it has written a chunk; every file counts as large, and comes in chunks of two."""
    monkeypatch.setattr(streamed, "CHUNK", 2)
    monkeypatch.setattr(clinic, "UNKEYED", 0)
    found: list[list[str]] = []
    add = ImportStream.add

    async def add_and_look(stream: ImportStream, ready: Ready | None) -> None:
        await add(stream, ready)
        if ready is not None:
            keys = await stream.imports.session.execute(FOREIGN_KEYS)
            found.append([name for name, _ in keys])

    monkeypatch.setattr(ImportStream, "add", add_and_look)
    return found


LINES = [
    {"specialist": "ben", "service": "checkup", "start": f"2026-12-0{day}T{hour:02d}:00"}
    for day in (1, 2)
    for hour in (8, 9)
]
ALL_KEYS = [
    "bookings_client_id_fkey",
    "bookings_offer_of_fkey",
    "bookings_service_id_fkey",
    "bookings_specialist_id_fkey",
]
UNKEYED = ["bookings_client_id_fkey", "bookings_offer_of_fkey"]  # the catalog's two lifted


async def test_a_large_first_import_into_postgresql_lifts_the_catalog_s_keys_meanwhile(
    pg: Database, tmp_path: Path, seen: list[list[str]]
) -> None:
    """A clinic's first load is written without the keys to the specialists and services,
    which are back after it, and refuse."""
    async with UnitOfWork(pg) as uow:  # the schema, made
        await uow.commit()
    keys = await _keys(pg)
    assert [name for name, _ in keys] == ALL_KEYS
    clashing = [*LINES, {**LINES[0], "id": 77}]  # the first again: refused at the end
    with pytest.raises(Invalid):
        await import_file(pg, _json(BASIC, clashing, tmp_path / "clash.json"), now)
    assert seen and all(names == UNKEYED for names in seen)  # before the refusal, lifted
    assert await _keys(pg) == keys  # undone with the rest
    seen.clear()
    report = await import_file(pg, _json(BASIC, LINES, tmp_path / "c.json"), now)
    assert report.bookings == 4
    assert seen == [UNKEYED] * 2
    assert await _keys(pg) == keys
    async with UnitOfWork(pg) as uow:  # another program's booking of nobody
        first = await uow.session.scalar(select(BookingRow).limit(1))
        assert first is not None
        with pytest.raises(IntegrityError, match="bookings_specialist_id_fkey"):
            await uow.session.execute(
                insert(BookingRow).values(
                    specialist_id="nobody",
                    service_id=first.service_id,
                    start_at=first.start_at,
                    end_at=first.end_at,
                    status="confirmed",
                    created_at=first.start_at,
                )
            )


async def test_an_import_into_postgresql_keeps_the_keys_where_a_clinic_is_or_readers_wait(
    pg: Database, tmp_path: Path, seen: list[list[str]]
) -> None:
    """Another transaction reading the catalog, or a clinic stored: the keys stay, no wait."""
    reader = await asyncpg.connect(dsn(pg.url))
    try:
        async with reader.transaction():
            await reader.fetch("SELECT id FROM specialists")  # holds its lock until it ends
            report = await import_file(pg, _json(BASIC, LINES, tmp_path / "c.json"), now)
    finally:
        await reader.close()
    assert report.bookings == 4
    assert seen == [ALL_KEYS] * 2
    seen.clear()
    document = loading.load_text(BASIC)  # a new specialist's bookings, streamed as the first
    document["specialists"] = [s for s in document["specialists"] if s["id"] == "ben"]
    document["specialists"][0]["id"] = "cy"
    document["bookings"] = [{**line, "specialist": "cy"} for line in LINES]
    (tmp_path / "cy.json").write_text(json.dumps(document), encoding="utf-8")
    report = await import_file(pg, tmp_path / "cy.json", now)
    assert report.bookings == 4
    assert seen == [ALL_KEYS] * 2


async def test_a_first_import_by_a_role_that_may_not_alter_the_tables_keeps_the_keys(
    pg: Database, tmp_path: Path, seen: list[list[str]]
) -> None:
    """Where the database's role may write but not alter the tables, the import goes on."""
    role = f"bookbot_writer_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(dsn(pg.url))
    await admin.execute(f'CREATE ROLE "{role}" LOGIN')
    writer = Database(make_url(pg.url).set(username=role, password=None).render_as_string())
    try:
        for grant in (
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"',
            f'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
        ):
            await admin.execute(grant)
        report = await import_file(writer, _json(BASIC, LINES, tmp_path / "c.json"), now)
        assert report.bookings == 4
        assert seen == [ALL_KEYS] * 2
    finally:
        await writer.close()
        await admin.execute(f'DROP OWNED BY "{role}"')
        await admin.execute(f'DROP ROLE "{role}"')
        await admin.close()
