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
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from sqlalchemy import select, text

from bookbot.engine.model import Booking
from bookbot.errors import Invalid, Problem
from bookbot.store.bulk import chunks
from bookbot.store.ledger import Imports
from bookbot.store.tables import BookingRow

Busy = Callable[[str], tuple[Sequence[int], Sequence[int]]]
GUARD = "bookings_no_overlap_insert"  # SQLite's check of each booking added (migration 0019)
GUARD_TEXT = text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name")


class Restart(Exception):
    """The stream cannot go on as it began: undo, and import again with `gather` or `defer`."""

    def __init__(self, gather: bool, defer: bool) -> None:
        super().__init__("restart the import")
        self.gather = gather
        self.defer = defer


class ImportStream:
    """Takes a file's bookings a chunk at a time (file index, booking); never commits.

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
    ) -> None:
        self.imports = imports
        self.offered = offered
        self.gather = gather
        self.defer = defer
        self.gathered: list[Booking] = []
        self.deferred: list[Booking] = []
        self.not_offered: list[Problem] = []
        self.without_id_written = False
        self.written: set[str] = set()  # specialists given bookings
        self.count = 0
        self.lifted: str | None = None  # the text of SQLite's trigger, while it is dropped

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

    async def add(self, chunk: Sequence[tuple[int, Booking]]) -> None:
        """Writes a chunk of new bookings, or keeps them for the ledger."""
        if self.gather:
            self.gathered += [booking for _, booking in chunk]
            return
        ids = [booking.id for _, booking in chunk if booking.id is not None]
        for part in chunks(ids):
            if await self.imports.session.scalar(
                select(BookingRow.id).where(BookingRow.id.in_(part)).limit(1)
            ):
                raise Restart(gather=True, defer=False)  # a stored booking the file names
        if ids and self.without_id_written:
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
            return  # refused at the end: nothing more is written
        with_id = [booking for _, booking in chunk if booking.id is not None]
        without = [booking for _, booking in chunk if booking.id is None]
        if self.defer:
            self.deferred += without
            without = []
        await self._write(with_id + without)
        self.without_id_written = self.without_id_written or bool(without)

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
        await self._write(self.deferred)
        await self._guard()
        days = self.imports.days
        for specialist in sorted(self.written):  # every day of theirs, from the rows written
            days.schedule_changed(specialist)
            days.busy_spans_known(specialist, *busy(specialist))
        return self.count

    async def _write(self, bookings: list[Booking]) -> None:
        if not bookings:
            return
        await self._lift()
        await self.imports.add_new(bookings)
        self.written.update(booking.specialist for booking in bookings)
        self.count += len(bookings)

    async def _lift(self) -> None:
        """Drops SQLite's overlap trigger for this transaction, once (see the module)."""
        session = self.imports.session
        if self.lifted is not None or session.get_bind().dialect.name != "sqlite":
            return
        self.lifted = await session.scalar(GUARD_TEXT, {"name": GUARD})
        if self.lifted is None:
            raise RuntimeError(f"the trigger {GUARD} is missing: run `bookbot migrate`")
        await (await session.connection()).exec_driver_sql(f"DROP TRIGGER {GUARD}")

    async def _guard(self) -> None:
        """Makes SQLite's overlap trigger again, as it was, once every booking is written."""
        if self.lifted is not None:
            connection = await self.imports.session.connection()
            await connection.exec_driver_sql(self.lifted)  # its text as is: no parameters
            self.lifted = None
