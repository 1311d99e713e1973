"""The import ledger: a clinic file's bookings matched to stored ones and written in bulk.

The ledger holds every stored booking of the file's specialists and ids, so matching and
the overlap check run in memory, and the writes go out as a few bulk statements.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from msgspec import Struct
from sqlalchemy import insert, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bookbot.engine.intervals import absolute
from bookbot.engine.model import Booking, BookingStatus, Client
from bookbot.errors import Invalid, Problem
from bookbot.store.bulk import add_records, chunks
from bookbot.store.dayindex import DayIndex
from bookbot.store.tables import BookingRow, ClientRow

WRITE_CHUNK = 20_000  # rows per bulk statement, to bound memory
NEW_COLUMNS = (  # of a new booking's row, its id first (left out where the database numbers)
    "id",
    "specialist_id",
    "service_id",
    "client_id",
    "start_at",
    "end_at",
    "status",
    "location",
    "created_at",
    "hold_until",
)


class Imports:
    """The repository that imports a file's bookings; never commits."""

    def __init__(self, session: AsyncSession, days: DayIndex) -> None:
        self.session = session
        self.days = days

    async def import_bookings(
        self, bookings: Sequence[Booking], offered: Mapping[str, Collection[str]] | None = None
    ) -> int:
        """Adds a file's bookings, or updates the one with the same id (else specialist, start).

        Each booking of the file is matched to one stored booking at most, and no stored
        booking to two of the file's: by id first, then the ones without an id by specialist
        and start among those left. Then it checks, in the order they are written (changes to
        stored bookings, new ones with an id, new ones without, each in file order), that no
        live booking overlaps a live one of its specialist, and raises Invalid naming the
        first that would. Returns how many were added or changed.

        With `offered` (specialist id -> their services), a new live booking without an id
        must be of a service its specialist offers; a stored one, or one with an id (export
        writes them), is a record and is kept whatever the specialist offers now.
        """
        ledger = _Ledger(
            await self._bookings_like(bookings), [b.id for b in bookings if b.id is not None]
        )
        matched = ledger.resolve(bookings)
        if offered is not None:
            _refuse_not_offered(bookings, matched, offered)
        writes: list[_Entry] = []
        new = [i for i, known in enumerate(matched) if known is None]
        for index in (
            [i for i, known in enumerate(matched) if known is not None]
            + [i for i in new if bookings[i].id is not None]
            + [i for i in new if bookings[i].id is None]
        ):
            booking, known = bookings[index], matched[index]
            if known is None:
                entry = _Entry.of(booking, booking.id, ledger.next_order(booking.id), stored=False)
            else:
                merged = Booking(
                    booking.specialist,
                    booking.service,
                    booking.start,
                    booking.end,
                    booking.status,
                    booking.client or known.booking.client,
                    known.id,
                    location=known.booking.location or booking.location,  # kept once known
                )
                if merged == known.booking:
                    continue
                entry = _Entry.of(
                    merged,
                    known.id,
                    known.order,
                    stored=True,
                    before=known.booking,
                    client_id=known.client_id,
                )
                ledger.forget(known)
            if not ledger.fits(entry):
                problem = Problem("error.overlaps_existing", {}, f"bookings[{index}].start")
                raise Invalid([problem])
            ledger.keep(entry)
            writes.append(entry)
        if not writes:
            return 0
        await self._write_bookings(writes)
        for entry in writes:
            if entry.before is not None:
                self.days.busy_changed(
                    entry.before.specialist, entry.before.start, entry.before.end
                )
            self.days.busy_changed(entry.booking.specialist, entry.booking.start, entry.booking.end)
        for specialist in {b.specialist for b in bookings}:  # all of theirs were read
            self.days.busy_known(specialist, ledger.live_bookings(specialist))
        return len(writes)

    @staticmethod
    def new(bookings: Sequence[Booking]) -> New:
        """Bookings no stored one matches, made ready for `add_new`; reads no database.

        Only this process's work, so an import can do it in the thread that reads the file
        while the database writes the chunk before.
        """
        return New(
            [_Entry.of(booking, booking.id, booking.id or 0, stored=False) for booking in bookings]
        )

    async def add_new(self, new: New) -> None:
        """Adds bookings no stored one matches, as import_bookings would: the caller checked."""
        await self._write_bookings(new.entries)

    async def _write_bookings(self, writes: list[_Entry]) -> None:
        """Updates the stored ones and adds the rest: those with ids first, then the others.

        PostgreSQL's id sequence does not see ids given explicitly, so it is moved past them
        before the database numbers the others (and every booking made later).
        """
        await self._client_ids(writes)
        changed = [e for e in writes if e.stored]
        added = [e for e in writes if not e.stored]
        try:
            for i in range(0, len(changed), WRITE_CHUNK):
                await self.session.execute(
                    update(BookingRow), [_booking_values(e) for e in changed[i : i + WRITE_CHUNK]]
                )
            for with_id in (True, False):
                batch = [e for e in added if (e.id is not None) == with_id]
                for i in range(0, len(batch), WRITE_CHUNK):
                    await add_records(
                        self.session,
                        BookingRow.__table__,
                        NEW_COLUMNS[0 if with_id else 1 :],
                        [_new_record(e, with_id) for e in batch[i : i + WRITE_CHUNK]],
                    )
                if with_id and batch:
                    await self._ids_after_explicit()
        except IntegrityError as error:
            if "bookings_no_overlap" not in str(error.orig):
                raise
            raise Invalid([Problem("error.overlaps_existing", {}, "bookings")]) from None

    async def _ids_after_explicit(self) -> None:
        """Moves PostgreSQL's booking id sequence past every id stored (never backwards)."""
        if self.session.get_bind().dialect.name != "postgresql":
            return  # SQLite numbers a new row after the largest id there is
        sequence = await self.session.scalar(
            sql_text("SELECT pg_get_serial_sequence('bookings', 'id')")
        )
        await self.session.execute(
            sql_text(
                f"SELECT setval(CAST(:sequence AS regclass), GREATEST("
                f"(SELECT COALESCE(MAX(id), 1) FROM bookings), "
                f"(SELECT last_value FROM {sequence})))"
            ),
            {"sequence": sequence},
        )

    async def _bookings_like(self, bookings: Sequence[Booking]) -> list[_Entry]:
        """Stored bookings of the same specialists or ids, with their clients."""
        query = select(
            BookingRow.id,
            BookingRow.specialist_id,
            BookingRow.service_id,
            BookingRow.start_at,
            BookingRow.end_at,
            BookingRow.status,
            BookingRow.client_id,
            ClientRow.name,
            ClientRow.phone,
            ClientRow.telegram_id,
            BookingRow.location,
        ).outerjoin(ClientRow, ClientRow.id == BookingRow.client_id)
        found: dict[int, _Entry] = {}
        specialists = sorted({b.specialist for b in bookings})
        ids = sorted({b.id for b in bookings if b.id is not None})
        wheres = [BookingRow.specialist_id.in_(chunk) for chunk in chunks(specialists)]
        wheres += [BookingRow.id.in_(chunk) for chunk in chunks(ids)]
        for where in wheres:
            for (
                row_id,
                specialist,
                service,
                start,
                end,
                status,
                client_id,
                name,
                phone,
                telegram,
                location,
            ) in await self.session.execute(query.where(where)):
                client = Client(name, phone, telegram) if client_id is not None else None
                found[row_id] = _Entry.of(
                    Booking(
                        specialist,
                        service,
                        start,
                        end,
                        BookingStatus(status),
                        client,
                        row_id,
                        location=location,
                    ),
                    row_id,
                    row_id,
                    stored=True,
                    client_id=client_id,
                )
        return list(found.values())

    async def _client_ids(self, writes: list[_Entry]) -> None:
        """Finds or creates the clients of written bookings, as `client_id` would one by one."""
        telegram = sorted(
            {
                e.booking.client.telegram_id
                for e in writes
                if e.booking.client and e.booking.client.telegram_id is not None
            }
        )
        known: dict[int, ClientRow] = {}
        for chunk in chunks(telegram):
            known.update(
                (row.telegram_id, row)
                for row in await self.session.scalars(
                    select(ClientRow).where(ClientRow.telegram_id.in_(chunk))
                )
                if row.telegram_id is not None
            )
        anonymous: list[_Entry] = []
        for entry in writes:
            client = entry.booking.client
            if client is None:
                continue
            if client.telegram_id is None:
                anonymous.append(entry)
                continue
            row = known.get(client.telegram_id)
            if row is None:
                row = known[client.telegram_id] = ClientRow(telegram_id=client.telegram_id)
                self.session.add(row)
            row.name = client.name or row.name
            row.phone = client.phone or row.phone
        await self.session.flush()
        for entry in writes:
            client = entry.booking.client
            if client is not None and client.telegram_id is not None:
                entry.client_id = known[client.telegram_id].id
        if anonymous:
            made = await self.session.scalars(
                insert(ClientRow).returning(ClientRow.id, sort_by_parameter_order=True),
                [
                    {"name": e.booking.client.name, "phone": e.booking.client.phone}  # type: ignore[union-attr]
                    for e in anonymous
                ],
            )
            for entry, client_id in zip(anonymous, made, strict=True):
                entry.client_id = client_id


class _Entry(Struct):
    """A booking of an import: stored, or written by it; `order` is its id's place."""

    booking: Booking
    id: int | None
    order: int  # unique in a ledger: the id, or for a new booking without one, past them all
    stored: bool  # its row exists already
    interval: tuple[datetime, datetime, int]  # UTC start, end, order
    before: Booking | None = None  # what the stored row held before this import changed it
    client_id: int | None = None

    @classmethod
    def of(
        cls,
        booking: Booking,
        id: int | None,
        order: int,
        *,
        stored: bool,
        before: Booking | None = None,
        client_id: int | None = None,
    ) -> _Entry:
        """An entry of this booking, with its interval."""
        interval = (absolute(booking.start), absolute(booking.end), order)
        return cls(booking, id, order, stored, interval, before, client_id)

    @property
    def key(self) -> tuple[str, datetime]:
        return self.booking.specialist, self.interval[0]


class New(Struct):
    """New bookings made ready to write (`Imports.new`)."""

    entries: list[_Entry]

    def __len__(self) -> int:
        return len(self.entries)

    def specialists(self) -> set[str]:
        """Whose bookings these are."""
        return {entry.booking.specialist for entry in self.entries}


class _Ledger:
    """Stored and imported bookings by id, by specialist and start, and the live ones in order.

    Live bookings of one specialist never overlap, so a new one fits when its neighbours
    by start do not reach into it.
    """

    def __init__(self, stored: list[_Entry], named: list[int]) -> None:
        self.by_id = {e.id: e for e in stored}
        self.by_key: dict[tuple[str, datetime], list[_Entry]] = defaultdict(list)
        self.live: dict[str, list[tuple[datetime, datetime, int]]] = defaultdict(list)
        self.by_order: dict[int, _Entry] = {}
        # New bookings without an id are placed past every id stored or named in the file,
        # so none takes the place of an id the file names further down.
        self.last_order = max([e.order for e in stored] + named, default=0)
        for entry in stored:
            self.keep(entry)

    def next_order(self, explicit: int | None) -> int:
        """The place of a new booking's id: its own, else one past every id so far."""
        if explicit is not None:
            return explicit
        self.last_order += 1
        return self.last_order

    def resolve(self, bookings: Sequence[Booking]) -> list[_Entry | None]:
        """The stored booking each of these updates, or None for a new one; none taken twice.

        Ids claim theirs first. A booking without an id takes, among the stored ones at its
        specialist and start that no other booking of the file took, the one with its
        status, else a live one, else the lowest id. Two bookings with one id raise Invalid.
        """
        found: list[_Entry | None] = [None] * len(bookings)
        named: set[int] = set()
        for index, booking in enumerate(bookings):
            if booking.id is None:
                continue
            if booking.id in named:
                raise Invalid(
                    [Problem("error.duplicate_id", {"id": booking.id}, f"bookings[{index}].id")]
                )
            named.add(booking.id)
            found[index] = self.by_id.get(booking.id)
        taken = {entry.order for entry in found if entry is not None}
        for index, booking in enumerate(bookings):
            if booking.id is not None:
                continue
            free = [
                e
                for e in self.by_key.get((booking.specialist, absolute(booking.start)), [])
                if e.order not in taken
            ]
            best = min(
                free,
                default=None,
                key=lambda e: (e.booking.status != booking.status, not e.booking.live, e.order),
            )
            if best is not None:
                found[index] = best
                taken.add(best.order)
        return found

    def fits(self, entry: _Entry) -> bool:
        """Tells whether a booking overlaps no live booking of its specialist."""
        if not entry.booking.live:
            return True
        line = self.live[entry.booking.specialist]
        start, end, _ = entry.interval
        i = bisect_left(line, (start,))
        return not ((i > 0 and line[i - 1][1] > start) or (i < len(line) and line[i][0] < end))

    def keep(self, entry: _Entry) -> None:
        if entry.id is not None:
            self.by_id[entry.id] = entry
        self.by_key[entry.key].append(entry)
        if entry.booking.live:
            insort(self.live[entry.booking.specialist], entry.interval)
            self.by_order[entry.order] = entry

    def live_bookings(self, specialist: str) -> list[Booking]:
        """The live bookings of a specialist, as the import leaves them."""
        return [self.by_order[order].booking for _, _, order in self.live[specialist]]

    def forget(self, entry: _Entry) -> None:
        self.by_key[entry.key].remove(entry)
        if entry.booking.live:
            self.live[entry.booking.specialist].remove(entry.interval)


def _refuse_not_offered(
    bookings: Sequence[Booking],
    matched: list[_Entry | None],
    offered: Mapping[str, Collection[str]],
) -> None:
    """Raises Invalid naming every new live booking of a service its specialist does not offer."""
    problems = [
        Problem(
            "error.not_offered_by",
            {"service": booking.service, "specialist": booking.specialist},
            f"bookings[{index}].service",
        )
        for index, (booking, known) in enumerate(zip(bookings, matched, strict=True))
        if known is None
        and booking.id is None
        and booking.live
        and booking.service not in offered.get(booking.specialist, ())
    ]
    if problems:
        raise Invalid(problems)


def _new_record(entry: _Entry, with_id: bool) -> tuple:
    """The values of NEW_COLUMNS for a new booking (without the id when `with_id` is false)."""
    booking = entry.booking
    values = (
        booking.specialist,
        booking.service,
        entry.client_id,
        booking.start,
        booking.end,
        str(booking.status),
        booking.location,
        booking.start,  # created_at: the start, as an import has always written it
        None,
    )
    return (entry.id, *values) if with_id else values


def _booking_values(entry: _Entry) -> dict:
    booking = entry.booking
    return {
        "id": entry.id,
        "specialist_id": booking.specialist,
        "service_id": booking.service,
        "client_id": entry.client_id,
        "start_at": booking.start,
        "end_at": booking.end,
        "status": str(booking.status),
        "location": booking.location,
    }
