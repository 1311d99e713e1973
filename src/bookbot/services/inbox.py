"""The update inbox's use cases: keep updates once, take over those left, mark them handled.

bot/inbox.py decides when (the lease, the sweep's pace, what is handed to PTB); these
are the transactions it runs, one unit of work each. An update is kept as its JSON text,
keyed by its update_id, so a second delivery of one is dropped by `keep`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork

Update = dict[str, Any]  # an update as Telegram sends it, parsed from JSON


async def keep(
    db: Database, updates: Sequence[Update], now: datetime, claimed_until: datetime
) -> set[int]:
    """Stores the updates not stored before, claimed until `claimed_until`; returns their ids.

    The work is committed when this returns: Telegram may be told the updates arrived.
    """
    async with UnitOfWork(db) as uow:
        new = await uow.inbox.keep(
            [(u["update_id"], json.dumps(u, ensure_ascii=False)) for u in updates],
            now,
            claimed_until,
        )
        await uow.commit()
    return new


async def waiting(db: Database, now: datetime) -> bool:
    """Whether an update is unhandled and claimed by no one; reads only, so it takes no lock."""
    async with UnitOfWork(db, write=False) as uow:
        return await uow.inbox.waiting(now)


async def take_over(
    db: Database,
    now: datetime,
    claimed_until: datetime,
    held: Collection[int],
    most: int,
    prune_before: datetime | None,
) -> list[tuple[int, Update]]:
    """Renews the claims on `held`, claims up to `most` updates no one holds, prunes.

    Returns the updates claimed (with their bodies), oldest first. With `prune_before`,
    updates handled before it are deleted in the same transaction.
    """
    async with UnitOfWork(db) as uow:
        if held:
            await uow.inbox.renew(held, claimed_until)
        left = await uow.inbox.claim(now, claimed_until, held, most)
        if prune_before is not None:
            await uow.inbox.prune(prune_before)
        await uow.commit()
    return [(update_id, json.loads(body)) for update_id, body in left]


async def handled(db: Database, update_ids: Collection[int], now: datetime) -> None:
    """Marks updates handled, all in one transaction: no look for unhandled ones takes them."""
    async with UnitOfWork(db) as uow:
        await uow.inbox.handled(update_ids, now)
        await uow.commit()
