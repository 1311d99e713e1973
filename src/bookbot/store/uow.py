"""The unit of work: one transaction, the one place that commits; and how writers take turns.

SQLite takes its one write lock at BEGIN (BEGIN IMMEDIATE, db.py), so no writer's reads
and writes interleave with another's. PostgreSQL runs READ COMMITTED: each statement sees
what was committed when it began, so two writers could each pass a check on a snapshot
the other invalidates (a day off and a booking on that day both succeed). There a writer
names, with `lock()`, the specialists' time and the clients its checks depend on, before
it reads them; transaction-scoped advisory locks make a second writer wait until the
first commits, and its next statements then see the first one's work. Writers that touch
every specialist (an import, the list of services) take the business lock exclusively
(`lock_business()`); every other writer takes it shared first. Locks are taken in one
order, the business, then clients, then specialists, each by key, so two writers never
wait for each other in a circle; a lock asked for out of that order is only tried.

Serializable transactions with retries were the other choice, and were not taken: every
writer raises the one availability counter (Catalog.bump), so nearly any two concurrent
writers would conflict and one would redo all its work, where a lock costs the second
a short wait. Deadlocks and serialization failures that still happen (a lock out of
order held by another, writers outside these locks) are retried by `retried`, and never
shown raw.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import random
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import ParamSpec, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause

from bookbot.engine.model import Booking
from bookbot.errors import BookbotError
from bookbot.store.bookings import Bookings
from bookbot.store.catalog import Catalog
from bookbot.store.chats import Chats
from bookbot.store.dayindex import DayIndex
from bookbot.store.db import WRITE, Database
from bookbot.store.inbox import Inbox
from bookbot.store.ledger import Imports
from bookbot.store.outbox import Outbox
from bookbot.store.payments import Payments
from bookbot.store.people import People
from bookbot.store.reviews import Reviews
from bookbot.store.waitlist import Waitlist

ATTEMPTS = 5  # runs of a use case before the user is told the database is busy
BACKOFF = 0.02  # seconds: the first retry waits up to this, each later one up to twice more
BULK_PAGES = 64 * 2**10  # KiB of pages SQLite may keep for a unit that writes in bulk
CONFLICTS = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
BUSINESS, CLIENT, SPECIALIST = 0, 1, 2  # kinds of lock, in the order they are taken
Lock = tuple[int, int]  # its kind and its advisory key
P = ParamSpec("P")
T = TypeVar("T")
# Waits for each key in order, the first `shared` of them shared, then reads the catalog's
# stamp with a snapshot taken after the last lock (migration 0022): a unit's first locks,
# the business shared and then the others, and its stamp are one round trip.
TAKE = text("SELECT bookbot_lock(CAST(:keys AS bigint[]), :shared)")
TRY = text(
    "SELECT bool_and(pg_try_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS k"
)


def lock_key(kind: str, name: object) -> int:
    """A stable 64-bit advisory lock key for a thing (a collision only serialises more)."""
    digest = hashlib.blake2b(f"bookbot:{kind}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


BUSINESS_KEY = lock_key("business", 1)


class OutOfOrder(Exception):
    """A lock asked for out of order is held by another writer: the use case starts over."""


class UnitOfWork:
    """Opens a session and transaction; `commit()` keeps the work, leaving without it undoes.

    `write=False` marks a unit that only reads: it never commits anything, and takes no lock.

    Usage: `async with UnitOfWork(db) as uow: await uow.lock(specialists=[...]); ...
    uow.bookings ...; await uow.commit()`. The repositories, one per noun, share the
    unit's session: `catalog`, `bookings`, `chats`, `imports`, `outbox`, `people`,
    `inbox`, `reviews`, `waitlist`, `payments`, and `days` (the day index).
    """

    def __init__(self, database: Database, *, write: bool = True) -> None:
        self.database = database
        self.write = write
        self.session: AsyncSession  # set on entering: a unit is used only inside `async with`
        self.held: set[Lock] = set()
        self.pages: int | None = None  # SQLite's cache size, while widened for a bulk write

    async def __aenter__(self) -> UnitOfWork:
        await self.database.prepare()
        self.session = self.database.sessions()
        # Asking for the connection begins the transaction (one call less than `begin()`
        # first); a read-only unit need not take SQLite's write lock at BEGIN (see db.py).
        await self.session.connection(execution_options={WRITE: self.write})
        self.days = DayIndex(self.session)
        self.catalog = Catalog(self.session, self.database.cache, self.days)
        self.bookings = Bookings(self.session, self.days)
        self.chats = Chats(self.session)
        self.imports = Imports(self.session, self.days)
        self.outbox = Outbox(self.session)
        self.people = People(self.session)
        self.inbox = Inbox(self.session)
        self.reviews = Reviews(self.session)
        self.payments = Payments(self.session)
        self.waitlist = Waitlist(self.session, self.bookings)
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
            if self.pages is not None:
                with contextlib.suppress(DBAPIError) if error else contextlib.nullcontext():
                    await self._narrow()
        finally:
            await self.session.close()

    async def widen_cache(self) -> None:
        """Lets SQLite keep BULK_PAGES KiB of pages for this unit's bulk writes (an import).

        A size-a import adds ~380,000 rows to the day index, whose indexes take them out
        of order: within SQLite's default 2 MB most of their pages were read again for
        each. The connection gets its own size back when the unit ends.
        """
        if self.database.dialect != "sqlite" or self.pages is not None:
            return
        connection = await self.session.connection()
        self.pages = (await connection.exec_driver_sql("PRAGMA cache_size")).scalar_one()
        await connection.exec_driver_sql(f"PRAGMA cache_size = -{BULK_PAGES}")

    async def _narrow(self) -> None:
        """Gives the connection its own cache size back (a read: no write lock is taken)."""
        pages, self.pages = self.pages, None
        connection = await self.session.connection(execution_options={WRITE: False})
        await connection.exec_driver_sql(f"PRAGMA cache_size = {pages}")

    async def commit(self) -> None:
        """Makes the work of this unit durable, with the day index brought in step first."""
        assert self.session is not None
        await self.settle()
        await self.session.commit()

    async def settle(self) -> None:
        """Brings derived data in step with this unit's writes: the day index, the counter.

        The counter is raised last, so PostgreSQL holds its row lock only until the commit.
        """
        if await self.days.settle(self.catalog, self.bookings):
            await self.catalog.bump()

    # -- taking turns (PostgreSQL; SQLite's writers already take turns at BEGIN) -----------

    async def lock(
        self,
        *,
        specialists: Iterable[str] = (),
        clients: Iterable[int] = (),
        bookings: Iterable[Booking] = (),
    ) -> None:
        """Makes other writers to these specialists, clients or bookings wait for this unit.

        Call it before the reads a check depends on: what the unit read before is read
        afresh afterwards. A booking stands for its specialist and its Telegram client.
        Locks are held until the unit ends.
        """
        if not self._locking():
            return
        wanted = {(SPECIALIST, lock_key("specialist", s)) for s in specialists}
        wanted |= {(CLIENT, lock_key("client", c)) for c in clients}
        for found in bookings:
            wanted.add((SPECIALIST, lock_key("specialist", found.specialist)))
            if found.client is not None and found.client.telegram_id is not None:
                wanted.add((CLIENT, lock_key("client", found.client.telegram_id)))
        first = [] if self.held else [BUSINESS_KEY]  # a unit's first lock: the business, shared
        held = self.held | {(BUSINESS, BUSINESS_KEY)}
        wanted -= held
        last = max(held)
        late = [lock for lock in wanted if lock < last]
        if late and not await self._execute(TRY, keys=[key for _, key in late]):
            raise OutOfOrder  # waiting here could close a circle; `retried` starts over
        ordered = [key for _, key in sorted(wanted - set(late))]
        keys = first + ordered
        stamp = await self._execute(TAKE, keys=keys, shared=len(first)) if keys else None
        self.held = held | wanted
        self._forget(stamp)

    async def lock_business(self) -> None:
        """Makes every other writer wait for this unit: for changes to every specialist.

        The first lock a unit takes.
        """
        if not self._locking():
            return
        if self.held:
            raise RuntimeError("the business lock must be a unit's first")
        stamp = await self._execute(TAKE, keys=[BUSINESS_KEY], shared=0)
        self.held.add((BUSINESS, BUSINESS_KEY))
        self._forget(stamp)

    def _locking(self) -> bool:
        """Tells whether this unit's database needs locks taken (PostgreSQL)."""
        assert self.session is not None and self.write, "a unit that reads takes no lock"
        return self.database.dialect == "postgresql"

    async def _execute(self, statement: TextClause, **params: object) -> object:
        """Runs one locking statement; an empty list of keys locks nothing and succeeds."""
        assert self.session is not None
        if params.get("keys") == []:
            return True
        return await self.session.scalar(statement, params)

    def _forget(self, stamp: object) -> None:
        """Drops what the session read before the lock, so it is read again as committed.

        `stamp`: the catalog's, as read after the lock (None: read it when asked).
        """
        assert self.session is not None
        self.session.expire_all()
        self.catalog.stamp = stamp if isinstance(stamp, str) else None


def retried(use_case: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Runs a use case again when PostgreSQL broke off its transaction over a conflict.

    Only for use cases that write in one unit of work, so a new run repeats nothing that
    was kept. After ATTEMPTS runs, each after a short random wait, the user is told the
    database is busy; nothing was written.
    """

    @functools.wraps(use_case)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(ATTEMPTS):
            try:
                return await use_case(*args, **kwargs)
            except (DBAPIError, OutOfOrder) as error:
                if not conflict(error):
                    raise
            await asyncio.sleep(random.uniform(0, BACKOFF * 2**attempt))
        raise BookbotError("conflict.busy")

    return run


def conflict(error: BaseException) -> bool:
    """Tells whether an error means "try again": a deadlock, a serialization failure."""
    if isinstance(error, OutOfOrder):
        return True
    return getattr(getattr(error, "orig", None), "sqlstate", None) in CONFLICTS
