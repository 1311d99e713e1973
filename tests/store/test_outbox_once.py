"""A message owed once per kind, chat and payload (the confirm_by list of a specialist's day)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bookbot.store.db import Database
from bookbot.store.tables import OutboxRow
from bookbot.store.uow import UnitOfWork

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
DAY = {"specialist": "ann", "day": "2026-12-01"}


async def rows(db: Database) -> list[tuple[str, datetime, str]]:
    async with UnitOfWork(db, write=False) as uow:
        found = await uow.session.execute(
            select(OutboxRow.payload, OutboxRow.due_at, OutboxRow.status).order_by(OutboxRow.id)
        )
        return [tuple(r) for r in found]  # type: ignore[misc]


async def owe(db: Database, due: datetime, payload: dict = DAY) -> None:
    async with UnitOfWork(db) as uow:
        await uow.outbox.add_once("unconfirmed", 7, due, NOW, payload)
        await uow.commit()


async def test_a_second_owing_adds_no_row_and_only_brings_a_waiting_one_forward(
    db: Database,
) -> None:
    await db.prepare()
    later, sooner = NOW + timedelta(hours=5), NOW + timedelta(hours=2)
    await owe(db, later)
    await owe(db, sooner)
    await owe(db, later)
    assert [(due, status) for _, due, status in await rows(db)] == [(sooner, "pending")]
    await owe(db, later, {"specialist": "ann", "day": "2026-12-02"})  # another day: its own
    assert len(await rows(db)) == 2


async def test_one_sent_already_stays_the_only_one(db: Database) -> None:
    await db.prepare()
    await owe(db, NOW + timedelta(hours=2))
    async with UnitOfWork(db) as uow:
        [claimed] = await uow.outbox.claim(NOW + timedelta(hours=3), 10, per_chat=3)
        await uow.outbox.finish(claimed.id, "sent", NOW + timedelta(hours=3))
        await uow.commit()
    await owe(db, NOW + timedelta(hours=1))
    assert [status for _, _, status in await rows(db)] == ["sent"]
