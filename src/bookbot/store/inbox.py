"""The inbox table: updates from Telegram, stored once by update_id, claimed, marked handled."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bookbot.store.tables import InboxRow

INSERTS: dict[str, Callable[[type[InboxRow]], postgresql.Insert | sqlite.Insert]] = {
    "sqlite": sqlite_insert,
    "postgresql": pg_insert,
}


class Inbox:
    """Reads and writes the inbox; never commits (the unit of work does)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def keep(
        self, bodies: Sequence[tuple[int, str]], now: datetime, claimed_until: datetime
    ) -> set[int]:
        """Stores the updates not stored before, claimed by the caller; returns their ids.

        An update_id already here (a second delivery, or one another process took) is left
        as it is: whoever holds it, or the next look for unhandled ones, handles it.
        """
        if not bodies:
            return set()
        insert_into = INSERTS[self.session.get_bind().dialect.name]
        statement = (
            insert_into(InboxRow)
            .values(
                [
                    {
                        "update_id": update_id,
                        "body": body,
                        "received_at": now,
                        "claimed_until": claimed_until,
                    }
                    for update_id, body in bodies
                ]
            )
            .on_conflict_do_nothing(index_elements=[InboxRow.update_id])
            .returning(InboxRow.update_id)
        )
        return set(await self.session.scalars(statement))

    async def waiting(self, now: datetime) -> bool:
        """Whether an update is unhandled and claimed by no one (a claim ran out, say)."""
        found = await self.session.scalar(
            select(InboxRow.update_id).where(_unclaimed(now)).limit(1)
        )
        return found is not None

    async def claim(
        self, now: datetime, claimed_until: datetime, skip: Collection[int], limit: int
    ) -> list[tuple[int, str]]:
        """Claims unhandled updates no one holds, oldest first, except `skip`; with bodies.

        PostgreSQL skips rows another process has locked; SQLite's immediate transaction
        already makes this the only writer.
        """
        free = (
            select(InboxRow.update_id)
            .where(_unclaimed(now))
            .order_by(InboxRow.update_id)
            .limit(limit)
        )
        if skip:
            free = free.where(InboxRow.update_id.not_in(skip))
        if self.session.get_bind().dialect.name == "postgresql":
            free = free.with_for_update(skip_locked=True)
        ids = list(await self.session.scalars(free))
        if not ids:
            return []
        await self.session.execute(
            update(InboxRow).where(InboxRow.update_id.in_(ids)).values(claimed_until=claimed_until)
        )
        rows = await self.session.execute(
            select(InboxRow.update_id, InboxRow.body)
            .where(InboxRow.update_id.in_(ids))
            .order_by(InboxRow.update_id)
        )
        return [(update_id, body) for update_id, body in rows]

    async def renew(self, update_ids: Collection[int], claimed_until: datetime) -> None:
        """Extends this process's claim on the updates it is still handling."""
        await self.session.execute(
            update(InboxRow)
            .where(InboxRow.update_id.in_(update_ids), InboxRow.handled_at.is_(None))
            .values(claimed_until=claimed_until)
        )

    async def handled(self, update_ids: Collection[int], now: datetime) -> None:
        """Marks updates handled: no look for unhandled ones takes them again."""
        await self.session.execute(
            update(InboxRow)
            .where(InboxRow.update_id.in_(update_ids))
            .values(handled_at=now, claimed_until=None)
        )

    async def prune(self, before: datetime) -> int:
        """Deletes updates handled before `before`; returns how many."""
        result = await self.session.execute(delete(InboxRow).where(InboxRow.handled_at < before))
        # SQLAlchemy types every result Result; a DELETE's is a CursorResult, with rowcount.
        return result.rowcount or 0  # type: ignore[attr-defined]

    async def counts(self) -> dict[str, int]:
        """How many updates are handled, and how many are not."""
        rows = await self.session.execute(
            select(InboxRow.handled_at.is_not(None), func.count()).group_by(
                InboxRow.handled_at.is_not(None)
            )
        )
        found = {bool(done): count for done, count in rows}
        return {"handled": found.get(True, 0), "unhandled": found.get(False, 0)}


def _unclaimed(now: datetime):  # type: ignore[no-untyped-def]
    """Unhandled, and no claim on it runs past `now`."""
    return InboxRow.handled_at.is_(None) & or_(
        InboxRow.claimed_until.is_(None), InboxRow.claimed_until <= now
    )
