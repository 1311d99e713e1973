"""Whether the service can answer: the database is reachable and its schema up to date."""

from __future__ import annotations

from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork


async def check(db: Database) -> None:
    """Reads the catalog in a unit that only reads; raises whatever keeps it from answering."""
    async with UnitOfWork(db, write=False) as uow:
        await uow.catalog.catalog()
