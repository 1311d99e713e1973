"""Rebuilding the day index: `bookbot reindex`, a few hundred specialists at a time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bookbot.services.basics import require_business
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork, retried

REINDEX_CHUNK = 200  # specialists per transaction, so writers wait seconds at most


async def reindex(
    db: Database, now: datetime, progress: Callable[[int, int], None] | None = None
) -> int:
    """Rebuilds the day index around `now` (today − 1 .. the horizon); returns the count.

    A few hundred specialists per transaction, so bookings wait seconds at most.
    """
    async with UnitOfWork(db, write=False) as uow:
        await require_business(uow.catalog)
        ids = await uow.days.specialists()
    await _remember(db, now)  # first: the index is rebuilt from the dates it stores
    for i in range(0, len(ids), REINDEX_CHUNK):
        await _reindex(db, ids[i : i + REINDEX_CHUNK], now)
        if progress is not None:
            progress(min(i + REINDEX_CHUNK, len(ids)), len(ids))
    async with UnitOfWork(db) as uow:
        await uow.days.analyze()
        await uow.commit()
    return len(ids)


@retried
async def _remember(db: Database, now: datetime) -> None:
    """Stores the holiday dates of the calendars in use, for the years around `now`."""
    async with UnitOfWork(db) as uow:
        await uow.catalog.remember_holidays(now)
        await uow.commit()


@retried
async def _reindex(db: Database, ids: list[str], now: datetime) -> None:
    """Rebuilds the day index of these specialists, with their bookings and schedules still."""
    async with UnitOfWork(db) as uow:
        await uow.lock(specialists=ids)
        await uow.days.reindex(ids, now)
        await uow.commit()
