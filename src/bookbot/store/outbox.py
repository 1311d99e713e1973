"""The outbox: messages owed, written in the transaction that owes them, sent later.

One sender at a time claims a row under a lease; Telegram's flood waits are kept per chat.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from msgspec import Struct
from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bookbot.store.tables import ClientRow, FloodWaitRow, OutboxRow


class Message(Struct, frozen=True):
    """A claimed outbox row: what to send, to whom, about which booking."""

    id: int
    kind: str
    chat_id: int
    booking_id: int | None
    payload: dict
    due_at: datetime
    attempts: int  # failed tries so far: errors only, not flood waits or lost leases


class Outbox:
    """The outbox table: messages owed, claimed by one sender at a time."""

    LEASE = timedelta(minutes=2)

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        kind: str,
        chat_id: int,
        due_at: datetime,
        now: datetime,
        booking_id: int | None = None,
        payload: dict | None = None,
    ) -> None:
        """Records a message owed; it goes out when due, from the same committed transaction."""
        self.session.add(
            OutboxRow(
                kind=kind,
                chat_id=chat_id,
                booking_id=booking_id,
                due_at=due_at,
                payload=json.dumps(payload or {}, ensure_ascii=False),
                status="pending",
                attempts=0,
                created_at=now,
            )
        )
        await self.session.flush()

    async def add_once(
        self, kind: str, chat_id: int, due_at: datetime, now: datetime, payload: dict
    ) -> None:
        """Records a message owed once per kind, chat and payload: a second is not added.

        A row still waiting is brought forward to `due_at` when that is sooner; one sent
        already stays the only one. The caller locks what the payload is about.
        """
        text = json.dumps(payload, ensure_ascii=False)
        found = (
            await self.session.execute(
                select(OutboxRow.id, OutboxRow.status, OutboxRow.due_at).where(
                    OutboxRow.kind == kind,
                    OutboxRow.chat_id == chat_id,
                    OutboxRow.booking_id.is_(None),
                    OutboxRow.payload == text,
                    OutboxRow.status.in_(("pending", "claimed", "sent")),
                )
            )
        ).first()
        if found is None:
            await self.add(kind, chat_id, due_at, now, None, payload)
        elif found.status == "pending" and due_at < found.due_at:
            await self.session.execute(
                update(OutboxRow).where(OutboxRow.id == found.id).values(due_at=due_at)
            )

    async def drop(self, booking_id: int, now: datetime, kinds: Sequence[str]) -> None:
        """Drops the unsent messages of these kinds about a booking (it was cancelled or moved)."""
        await self.session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.booking_id == booking_id,
                OutboxRow.kind.in_(kinds),
                OutboxRow.status.in_(("pending", "claimed")),
            )
            .values(status="dropped", error="booking changed", sent_at=now)
        )

    async def claim(self, now: datetime, limit: int, per_chat: int) -> list[Message]:
        """Takes due rows for this sender: pending ones, and claims whose lease ran out.

        At most `per_chat` of one chat's, its soonest. Rows to a chat Telegram told to
        wait stay where they are. PostgreSQL skips rows another sender has locked;
        SQLite's immediate transaction already makes this the only writer. A claim is no
        attempt: `attempts` counts errors only.
        """
        waiting = select(FloodWaitRow.chat_id).where(
            FloodWaitRow.chat_id == OutboxRow.chat_id, FloodWaitRow.until > now
        )
        claimable = or_(
            OutboxRow.status == "pending",
            and_(OutboxRow.status == "claimed", OutboxRow.claimed_until <= now),
        )
        ranked = (
            select(
                OutboxRow.id,
                OutboxRow.due_at,
                func.row_number()
                .over(partition_by=OutboxRow.chat_id, order_by=(OutboxRow.due_at, OutboxRow.id))
                .label("rank"),
            )
            .where(
                OutboxRow.due_at <= now,
                claimable,
                ~waiting.exists(),
            )
            .subquery()
        )
        due = (
            select(ranked.c.id)
            .where(ranked.c.rank <= per_chat)
            .order_by(ranked.c.due_at, ranked.c.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            # FOR UPDATE cannot share a query with a window function: lock in an outer one.
            # The outer query says again what is claimable: PostgreSQL re-checks its own
            # conditions on a row another sender claimed and committed meanwhile, but not
            # the inner query's, which read the snapshot before (two jobs sent 37 rows twice).
            due = (
                select(OutboxRow.id)
                .where(OutboxRow.id.in_(due), claimable)
                .order_by(OutboxRow.due_at, OutboxRow.id)
                .with_for_update(skip_locked=True)
            )
        ids = list(await self.session.scalars(due))
        if not ids:
            return []
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(ids))
            .values(status="claimed", claimed_until=now + self.LEASE)
        )
        rows = await self.session.scalars(
            select(OutboxRow).where(OutboxRow.id.in_(ids)).order_by(OutboxRow.due_at, OutboxRow.id)
        )
        return [
            Message(
                r.id, r.kind, r.chat_id, r.booking_id, json.loads(r.payload), r.due_at, r.attempts
            )
            for r in rows
        ]

    async def finish(
        self,
        message_id: int,
        status: str,
        now: datetime,
        error: str | None = None,
        *,
        attempt: bool = False,
    ) -> None:
        """Marks a claimed row sent, dropped or failed (`attempt`: after an error, counted)."""
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == message_id)
            .values(
                status=status,
                sent_at=now,
                error=error,
                claimed_until=None,
                attempts=OutboxRow.attempts + int(attempt),
            )
        )

    async def postpone(
        self, message_id: int, due_at: datetime, error: str, *, attempt: bool = False
    ) -> None:
        """Puts a claimed row back to wait until `due_at`.

        `attempt` counts a failed try (a passing error); a flood wait is none.
        """
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == message_id)
            .values(
                status="pending",
                due_at=due_at,
                error=error,
                claimed_until=None,
                attempts=OutboxRow.attempts + int(attempt),
            )
        )

    async def wait_out(self, chat_id: int, until: datetime, now: datetime) -> None:
        """Writes down that Telegram told a chat to wait until `until`; the later wait wins.

        Waits that are over are swept away here, the only place that adds one.
        """
        await self.session.execute(delete(FloodWaitRow).where(FloodWaitRow.until <= now))
        postgres = self.session.get_bind().dialect.name == "postgresql"
        insert_into = pg_insert if postgres else sqlite_insert
        asked = insert_into(FloodWaitRow).values(chat_id=chat_id, until=until)
        later = case(
            (asked.excluded.until > FloodWaitRow.until, asked.excluded.until),
            else_=FloodWaitRow.until,
        )
        await self.session.execute(
            asked.on_conflict_do_update(
                index_elements=[FloodWaitRow.chat_id], set_={"until": later}
            )
        )

    async def waiting(self, chat_id: int, now: datetime) -> datetime | None:
        """Until when a chat must still wait (a 429 any sender got), or None."""
        return await self.session.scalar(
            select(FloodWaitRow.until).where(
                FloodWaitRow.chat_id == chat_id, FloodWaitRow.until > now
            )
        )

    async def unreachable(self, chat_id: int) -> None:
        """Marks a client who blocked the bot, and drops what is still owed to them."""
        await self.session.execute(
            update(ClientRow).where(ClientRow.telegram_id == chat_id).values(unreachable=True)
        )
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.chat_id == chat_id, OutboxRow.status == "pending")
            .values(status="failed", error="blocked by the user")
        )

    async def counts(self) -> dict[str, int]:
        """How many rows are in each status."""
        rows = await self.session.execute(
            select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
        )
        return dict(rows.all())
