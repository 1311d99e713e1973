"""A clinic file's bookings written chunk by chunk as the file is read, in bounded memory.

Where no stored booking can match one of the file's (none of its specialists has a
booking, and none of its ids is stored), every booking is new: the ledger's matching
and its overlap check against stored bookings have nothing to do, and each chunk is
written as it comes. Otherwise the bookings are gathered and handed to the ledger whole
(Imports.import_bookings), exactly as before. Either way the writes and their order are
the ledger's: with ids first, then without, each in file order.

Written as they come, on SQLite, the bookings are not probed one by one by the overlap
trigger (migration 0019), which cost a size-a import 15-19 s of its ~120 s: the trigger
is dropped in the import's transaction and made again, from its own text, before
`finish` returns. Nothing goes unchecked meanwhile. The reader checks the file's
bookings against each other (`Compact.clean`) before the stream ends, nothing else of
their specialists is stored (`begin`), SQLite lets one transaction write at a time, and
a transaction undone brings the trigger back with the rest.

On PostgreSQL the foreign keys from the bookings to the catalog (specialist, service)
cost the most: each row written looks up its specialist and its service, ~60% of the
server's work in a size-a import (with them its stream took 38-40 s, without 25-26 s).
A large file loaded into a database that holds no clinic yet (`unkeyed`) is therefore
written without them: the keys are dropped in the import's transaction and added again
before `finish` returns, which checks every row in one join (~0.7 s for 1.5 M). Dropping
them locks the bookings, the specialists and the services against every other transaction,
readers too, until the import commits; where no clinic is stored there is nothing a reader
could be served meanwhile, and where another transaction holds one of them (NOWAIT), or
the database's role may not alter them, the keys stay. A transaction undone brings the
keys back with the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from msgspec import Struct
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from bookbot.engine.model import Booking
from bookbot.errors import Invalid, Problem
from bookbot.store.bulk import chunks
from bookbot.store.ledger import Imports, New
from bookbot.store.tables import BookingRow
from bookbot.store.uow import conflict

Busy = Callable[[str], tuple[Sequence[int], Sequence[int]]]
GUARD = "bookings_no_overlap_insert"  # SQLite's check of each booking added (migration 0019)
GUARD_TEXT = text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name")
KEYS = text(  # PostgreSQL's foreign keys from the bookings to the catalog, as it would make them
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f'"
    " AND conrelid = 'bookings'::regclass"
    " AND confrelid IN ('specialists'::regclass, 'services'::regclass) ORDER BY conname"
)
UNUSED = text("LOCK TABLE bookings, specialists, services IN ACCESS EXCLUSIVE MODE NOWAIT")


class Restart(Exception):
    """The stream cannot go on as it began: undo, and import again with `gather` or `defer`."""

    def __init__(self, gather: bool, defer: bool) -> None:
        super().__init__("restart the import")
        self.gather = gather
        self.defer = defer


class Ready(Struct):
    """A chunk checked as it was read (`ImportStream.prepare`), to be written."""

    ids: list[int]  # those the file gives: the write first makes sure none is stored
    new: New


class ImportStream:
    """Takes a file's bookings a chunk at a time (file index, booking); never commits.

    Each chunk is `prepare`d, then `add`ed; every chunk is prepared in file order, and
    added in the same order (the next may be prepared while one is added).
    `gather` hands them all to the ledger at the end; `defer` keeps the new bookings
    without an id until the end, for a file that gives ids after bookings without.
    """

    def __init__(
        self,
        imports: Imports,
        offered: Mapping[str, Collection[str]],
        *,
        gather: bool = False,
        defer: bool = False,
        unkeyed: bool = False,
    ) -> None:
        self.imports = imports
        self.offered = offered
        self.gather = gather
        self.defer = defer
        self.gathered: list[Booking] = []
        self.deferred: list[Booking] = []
        self.not_offered: list[Problem] = []
        self.without_id_taken = False  # new bookings without an id prepared to be written
        self.written: set[str] = set()  # specialists given bookings
        self.count = 0
        self.unkeyed = unkeyed
        self.lifted: list[str] | None = None  # what makes the checks lifted again; None: not yet

    async def begin(self, specialists: Sequence[str]) -> None:
        """Gathers when any of these specialists has a stored booking (the ledger matches)."""
        if self.gather:
            return
        for chunk in chunks(sorted(specialists)):
            found = await self.imports.session.scalar(
                select(BookingRow.id).where(BookingRow.specialist_id.in_(chunk)).limit(1)
            )
            if found is not None:
                self.gather = True
                return

    def prepare(self, chunk: Sequence[tuple[int, Booking]]) -> Ready | None:
        """Checks a chunk as it is read and makes its new bookings ready to write (`add`).

        Reads no database: a caller may run it in the thread that reads the file, chunk
        after chunk, while `add` writes the one before. None: nothing to write now (the
        bookings are kept for the ledger or the end, or the file is refused there).
        """
        if self.gather:
            self.gathered += [booking for _, booking in chunk]
            return None
        ids = [booking.id for _, booking in chunk if booking.id is not None]
        if ids and self.without_id_taken:
            raise Restart(gather=False, defer=True)
        self.not_offered += [
            Problem(
                "error.not_offered_by",
                {"service": booking.service, "specialist": booking.specialist},
                f"bookings[{index}].service",
            )
            for index, booking in chunk
            if booking.id is None
            and booking.live
            and booking.service not in self.offered.get(booking.specialist, ())
        ]
        if self.not_offered:
            return None  # refused at the end: nothing more is written
        with_id = [booking for _, booking in chunk if booking.id is not None]
        without = [booking for _, booking in chunk if booking.id is None]
        if self.defer:
            self.deferred += without
            without = []
        self.without_id_taken = self.without_id_taken or bool(without)
        return Ready(ids, self.imports.new(with_id + without))

    async def add(self, ready: Ready | None) -> None:
        """Writes a prepared chunk, once none of its ids is found stored."""
        if ready is None:
            return
        for part in chunks(ready.ids):
            if await self.imports.session.scalar(
                select(BookingRow.id).where(BookingRow.id.in_(part)).limit(1)
            ):
                raise Restart(gather=True, defer=False)  # a stored booking the file names
        await self._write(ready.new)

    async def finish(self, busy: Busy) -> int:
        """Writes what was kept; raises Invalid as the ledger would. Returns the writes.

        `busy` gives each specialist's live bookings in the file as their starts and ends
        (UTC epoch microseconds), which the day index then need not read back: written
        without a stored one to match, they are all the specialist has.
        """
        if self.gather:
            return await self.imports.import_bookings(self.gathered, self.offered)
        if self.not_offered:
            raise Invalid(self.not_offered)
        await self._write(self.imports.new(self.deferred))
        await self._guard()
        days = self.imports.days
        for specialist in sorted(self.written):  # every day of theirs, from the rows written
            days.schedule_changed(specialist)
            days.busy_spans_known(specialist, *busy(specialist))
        return self.count

    async def _write(self, new: New) -> None:
        if not new:
            return
        await self._lift()
        await self.imports.add_new(new)
        self.written.update(new.specialists())
        self.count += len(new)

    async def _lift(self) -> None:
        """Lifts, once, what checks each booking as it is written (see the module)."""
        if self.lifted is not None:
            return
        session = self.imports.session
        if session.get_bind().dialect.name == "sqlite":
            self.lifted = [await self._trigger()]
            await (await session.connection()).exec_driver_sql(f"DROP TRIGGER {GUARD}")
        else:
            self.lifted = await self._keys() if self.unkeyed else []

    async def _trigger(self) -> str:
        """The text of SQLite's overlap trigger."""
        found = await self.imports.session.scalar(GUARD_TEXT, {"name": GUARD})
        if found is None:
            raise RuntimeError(f"the trigger {GUARD} is missing: run `bookbot migrate`")
        return str(found)

    async def _keys(self) -> list[str]:
        """Drops PostgreSQL's foreign keys from the bookings to the catalog, where no other
        transaction uses the tables and this one may alter them; returns what adds them
        again (nothing where they stay)."""
        session = self.imports.session
        savepoint = await session.begin_nested()
        try:
            await session.execute(UNUSED)
            keys = (await session.execute(KEYS)).all()
            connection = await session.connection()
            for name, _ in keys:
                await connection.exec_driver_sql(f'ALTER TABLE bookings DROP CONSTRAINT "{name}"')
        except DBAPIError as error:  # in use (NOWAIT), or not this role's to alter
            if conflict(error):
                raise
            keys = []
        if not keys:
            await savepoint.rollback()  # and with it the locks it took
            return []
        await savepoint.commit()
        return [f'ALTER TABLE bookings ADD CONSTRAINT "{name}" {made}' for name, made in keys]

    async def _guard(self) -> None:
        """Makes the lifted checks again, as they were, once every booking is written."""
        if self.lifted:
            connection = await self.imports.session.connection()
            for statement in self.lifted:  # the database's own text: no parameters
                await connection.exec_driver_sql(statement)
        self.lifted = []
