"""Use cases of the clinic as a whole: load and write the clinic file, its business, zones.

An import writes all or nothing in one unit of work under the business lock; the reads
take no lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from msgspec import Struct

from bookbot import clinic_file
from bookbot.clinic_file import Clinic
from bookbot.clinic_file.streamed import Reread, Streamed
from bookbot.engine import payments
from bookbot.engine.model import BookingStatus, Business, Specialist
from bookbot.errors import BadInput, Invalid, Problem
from bookbot.services.basics import require_business
from bookbot.store.catalog import Catalog
from bookbot.store.db import Database
from bookbot.store.import_stream import ImportStream, Restart
from bookbot.store.uow import UnitOfWork, retried

T = TypeVar("T")
R = TypeVar("R")
# Bytes of a file (~150,000 bookings) from which loading a clinic into an empty
# PostgreSQL database writes without the catalog's foreign keys, locking out readers
# meanwhile (store/import_stream.py): a smaller one takes a few seconds either way.
UNKEYED = 32 * 2**20


class ImportReport(Struct, frozen=True):
    """How many things an import created or changed."""

    services: int
    specialists: int
    bookings: int
    changed: int


@retried
async def import_clinic(
    db: Database, clinic: Clinic, now: datetime | None = None, *, provider: bool = False
) -> ImportReport:
    """Loads a clinic: upserts by id, keeps what the file does not name, writes all or none.

    Specialists not yet in the day index get a span around `now` (default: the clock).
    `provider` tells whether a payment provider's token is set: without one, only
    Telegram Stars can take the prepayment a service asks, and the file is refused.
    """
    async with UnitOfWork(db) as uow:
        await uow.lock_business()
        await uow.widen_cache()
        changed = await _save_catalog(uow, clinic, provider)
        changed += await uow.imports.import_bookings(
            clinic.bookings, {s.id: s.services for s in clinic.specialists}
        )
        await _finish(uow, changed, now)
    return ImportReport(
        len(clinic.services), len(clinic.specialists), len(clinic.bookings), changed
    )


async def import_file(
    db: Database,
    path: Path,
    now: datetime | None = None,
    *,
    provider: bool = False,
    progress: Callable[[int | None], None] | None = None,
) -> ImportReport:
    """Loads a clinic file as import_clinic does, a JSON one in bounded memory.

    A JSON file's bookings are checked and written a chunk at a time as it is read, all
    in one unit of work: a problem anywhere undoes it, and the file is then read whole
    (read_file), which names every problem. A file that is not plain JSON is read whole.
    `progress` hears the bookings read so far after each chunk, and None when the day
    index is being built.
    """
    restart = Restart(gather=False, defer=False)
    try:
        while True:
            try:
                return await _import_streamed(db, path, now, provider, restart, progress)
            except Restart as again:
                restart = again
    except Reread:
        return await import_clinic(db, clinic_file.read_file(path), now, provider=provider)


@retried
async def _import_streamed(
    db: Database,
    path: Path,
    now: datetime | None,
    provider: bool,
    how: Restart,
    progress: Callable[[int | None], None] | None,
) -> ImportReport:
    """One try at streaming a file in; raises Reread or Restart, having written nothing."""
    with Streamed(path) as source:
        clinic = source.clinic
        async with UnitOfWork(db) as uow:
            await uow.lock_business()
            await uow.widen_cache()
            refusal: Invalid | None = None
            stream = ImportStream(
                uow.imports,
                {s.id: s.services for s in clinic.specialists},
                gather=how.gather,
                defer=how.defer,
                unkeyed=source.size >= UNKEYED and await uow.catalog.business() is None,
            )
            try:
                changed = await _save_catalog(uow, clinic, provider)
                await stream.begin([s.id for s in clinic.specialists])
            except Invalid as error:
                refusal = error  # raised once the file is known to have no problem of its own
            read = 0
            writing: asyncio.Future[None] | None = None
            prepare = stream.prepare if refusal is None else _unprepared
            try:
                async for size, ready in _read_ahead(
                    source.chunks(not db.served), prepare, db.served
                ):
                    if writing is not None:
                        await writing  # the chunk before, written while this one was read
                    if refusal is None:
                        writing = asyncio.ensure_future(stream.add(ready))
                    read += size
                    if progress is not None:
                        progress(read)
            finally:  # nothing is undone while a write is on its way
                if writing is not None:
                    await asyncio.gather(writing, return_exceptions=True)
            if writing is not None:
                await writing  # raises what the last write raised
            if refusal is not None:
                raise refusal
            changed += await stream.finish(source.busy)
            if progress is not None:
                progress(None)
            await _finish(uow, changed, now)
    return ImportReport(len(clinic.services), len(clinic.specialists), source.count, changed)


async def _read_ahead(
    chunks: Iterator[list[T]], prepare: Callable[[list[T]], R], server: bool
) -> AsyncIterator[tuple[int, R]]:
    """Each chunk's size and what `prepare` made of it, done in a worker thread where a
    database `server` writes the chunk before meanwhile.

    On PostgreSQL reading and preparing a chunk is this process's work and writing it the
    server's: side by side, the bookings take about the longer of the two instead of
    their sum. The rows are prepared in the thread too: made in the loop, with the next
    read taking turns with them for Python's lock, they kept the server waiting ~200 ms
    a chunk (a size-a import's stream, alternating on 2026-12-04: 40.6-48.8 s with the
    rows prepared in the thread, 43.2-58.4 s with them made in the loop).
    SQLite writes in this process, where the two threads only took turns with Python's
    lock (a size-a import took 86 s that way instead of 72 s), so there chunks are taken
    in turn, from a helper process that reads a large file meanwhile (`Streamed.chunks`).
    One chunk is taken at a time: the thread and the loop never share the reader.
    """
    if not server:
        while (taken := _taken(chunks, prepare)) is not None:
            yield taken
        return
    while (ahead := await asyncio.to_thread(_taken, chunks, prepare)) is not None:
        yield ahead


def _taken(chunks: Iterator[list[T]], prepare: Callable[[list[T]], R]) -> tuple[int, R] | None:
    """The next chunk's size and what `prepare` made of it, or None at the end (StopIteration
    cannot cross a thread's future)."""
    chunk = next(chunks, None)
    return None if chunk is None else (len(chunk), prepare(chunk))


def _unprepared(chunk: object) -> None:
    """Prepares nothing: the import is refused once the file is read (`_import_streamed`)."""


async def _save_catalog(uow: UnitOfWork, clinic: Clinic, provider: bool) -> int:
    """Saves the business, services and specialists; raises Invalid as the import refuses."""
    unpayable = payments.problems(clinic.services, clinic.business.currency, provider)
    if unpayable:
        raise Invalid(unpayable)
    catalog = uow.catalog
    changed = int(await catalog.save_business(clinic.business))
    for position, service in enumerate(clinic.services):
        changed += await catalog.save_service(service, position)
    known = {s.id for s in await catalog.services()}
    problems = [
        Problem("error.unknown_service", {"id": service}, f"specialists[{i}].services")
        for i, specialist in enumerate(clinic.specialists)
        for service in specialist.services
        if service not in known
    ]
    problems += await _linked_elsewhere(catalog, clinic)
    if problems:
        raise Invalid(problems)
    return changed + await catalog.save_specialists(
        [(specialist, position) for position, specialist in enumerate(clinic.specialists)]
    )


async def _finish(uow: UnitOfWork, changed: int, now: datetime | None) -> None:
    """Stores the holiday dates in use, indexes new specialists and changed days; commits."""
    now = now or datetime.now(UTC)
    await uow.catalog.remember_holidays(now)  # first: the day index is built from the same dates
    await uow.days.cover(now)
    await uow.settle()
    if changed:
        await uow.days.analyze()
    await uow.commit()


async def _linked_elsewhere(catalog: Catalog, clinic: Clinic) -> list[Problem]:
    """Telegram ids the file gives that link a specialist it does not name (one each)."""
    named = {specialist.id for specialist in clinic.specialists}
    owners = await catalog.linked(
        [s.telegram_id for s in clinic.specialists if s.telegram_id is not None]
    )
    return [
        Problem(
            "file.linked_elsewhere",
            {"id": specialist.telegram_id, "other": owners[specialist.telegram_id]},
            f"specialists[{i}].telegram_id",
        )
        for i, specialist in enumerate(clinic.specialists)
        if specialist.telegram_id is not None
        and owners.get(specialist.telegram_id, specialist.id) not in named
    ]


async def export_clinic(db: Database) -> Clinic:
    """The whole schedule as a Clinic, ready to be written as a clinic file."""
    async with UnitOfWork(db, write=False) as uow:
        business = await require_business(uow.catalog)
        bookings = [
            b
            for b in await uow.bookings.bookings()
            if b.status in (BookingStatus.CONFIRMED, BookingStatus.CANCELLED)
        ]
        return Clinic(
            business,
            tuple(await uow.catalog.services()),
            tuple(await _in_file_order(uow.catalog)),
            tuple(bookings),
            tuple(await uow.payments.every()),
        )


async def _in_file_order(catalog: Catalog) -> list[Specialist]:
    positions = await catalog.positions()
    return sorted(await catalog.specialists(), key=lambda s: (positions.get(s.id, 0), s.id))


async def business(db: Database) -> Business:
    """The business defaults, or a clear error when nothing is loaded yet."""
    async with UnitOfWork(db, write=False) as uow:
        return await require_business(uow.catalog)


async def specialist_zone(db: Database, specialist: str) -> str:
    """The time zone a specialist's wall times are in."""
    async with UnitOfWork(db, write=False) as uow:
        business = await require_business(uow.catalog)
        found = await uow.catalog.specialist(specialist)
    if found is None:
        raise BadInput("error.unknown_specialist", id=specialist)
    return found.zone(business)
