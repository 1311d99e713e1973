"""The unit of work: one transaction, the one place that commits."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession

from bookbot.store.db import WRITE, Database
from bookbot.store.repository import Outbox, Store


class UnitOfWork:
    """Opens a session and transaction; `commit()` keeps the work, leaving without it undoes.

    `write=False` marks a unit that only reads: it never commits anything.

    Usage: `async with UnitOfWork(db) as uow: ... uow.store ...; await uow.commit()`.
    """

    def __init__(self, database: Database, *, write: bool = True) -> None:
        self.database = database
        self.write = write
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> UnitOfWork:
        await self.database.prepare()
        self.session = self.database.sessions()
        await self.session.begin()
        # A read-only unit need not take SQLite's write lock at BEGIN (see db.py).
        await self.session.connection(execution_options={WRITE: self.write})
        self.store = Store(self.session, self.database.cache)
        self.outbox = Outbox(self.session)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self.session is not None
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        """Makes the work of this unit durable, with the day index brought in step first."""
        assert self.session is not None
        await self.store.settle()
        await self.session.commit()
