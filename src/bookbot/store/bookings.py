"""Bookings and holds: reading, adding, moving to a new status, expiring; attendance marks.

The database refuses a live booking that overlaps another of its specialist (the
`bookings_no_overlap` constraint); that refusal reaches the user as "refused.taken". Every
change to busy time is noted in the day index, which settles before the commit. A
client's no-shows are counted from the marks on their bookings since they were forgiven.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Date,
    Select,
    String,
    and_,
    any_,
    bindparam,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from bookbot.engine import bookings as rules
from bookbot.engine.intervals import absolute
from bookbot.engine.model import LIVE_STATUSES, Booking, BookingStatus, Client, Mark
from bookbot.engine.stats import Record
from bookbot.engine.workday import MICROSECOND, microseconds
from bookbot.errors import Refused
from bookbot.store.booking_rows import booking_of, occupies
from bookbot.store.bulk import chunks
from bookbot.store.chats import find_or_add_client
from bookbot.store.dayindex import DayIndex, Span
from bookbot.store.tables import HELD_ONLY, BookingRow, ClientRow, DaySpanRow, SpecialistRow

LIVE = [str(status) for status in LIVE_STATUSES]
# The same as constants in the SQL: a list bound as parameters is expanded into the text
# on every run (the statuses are plain words, safe to write in).
LIVE_SQL: list[ColumnElement[str]] = [literal_column(f"'{status}'") for status in LIVE]
COLUMNS = (  # what occupies time: `overlapping` reads these
    BookingRow.specialist_id,
    BookingRow.service_id,
    BookingRow.start_at,
    BookingRow.end_at,
    BookingRow.status,
    BookingRow.hold_until,
)


def _overlapping(columns: Sequence[Any] = COLUMNS, one: bool = False) -> tuple[Select, Select]:
    """The two parts of `overlapping`'s query: bookings starting in [:since, :until), and
    the last live one of each specialist starting before `since`, if it reaches into it.

    Of the specialists in the list :specialists, or with `one`, of the one :specialist
    (`around`: a list is expanded into the statement's text on every run, which cost a
    fifth of its time). The status is checked by the caller, not in SQL: SQLite would
    take the status index.
    """

    def of(column: InstrumentedAttribute[str]) -> ColumnElement[bool]:
        if one:
            return column == bindparam("specialist")
        return column.in_(bindparam("specialists", expanding=True))

    since: BindParameter[datetime] = bindparam("since")
    earlier = aliased(BookingRow)
    last_before = (
        select(earlier.id)
        .where(
            earlier.specialist_id == SpecialistRow.id,
            earlier.status.in_(LIVE_SQL),
            earlier.start_at < since,
        )
        .order_by(earlier.start_at.desc(), earlier.end_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    starting = select(*columns).where(
        of(BookingRow.specialist_id),
        BookingRow.start_at >= since,
        BookingRow.start_at < bindparam("until"),
    )
    reaching = select(*columns).where(
        BookingRow.id.in_(select(last_before).where(of(SpecialistRow.id))),
        BookingRow.end_at > since,
    )
    return starting, reaching


ADD = insert(BookingRow.__table__)  # Core: the ORM's unit of work costs more than the insert


def _overlapping_listed() -> CompoundSelect:
    """`overlapping`'s query on PostgreSQL: the specialists one array, :specialists.

    Its text is the same however many are asked (one statement, prepared once), and the
    last live booking before `since` of each is found by a LATERAL probe of the index.
    """
    since: BindParameter[datetime] = bindparam("since")
    listed = bindparam("specialists", type_=ARRAY(String))
    starting = select(*COLUMNS).where(
        BookingRow.specialist_id == any_(listed),
        BookingRow.start_at >= since,
        BookingRow.start_at < bindparam("until"),
    )
    asked = func.unnest(listed).table_valued("id").render_derived(name="asked")
    earlier = BookingRow.__table__.alias("earlier")
    last_before = (
        select(*(earlier.c[column.key] for column in COLUMNS))
        .where(
            earlier.c.specialist_id == asked.c.id,
            earlier.c.status.in_(LIVE_SQL),
            earlier.c.start_at < since,
        )
        .order_by(earlier.c.start_at.desc(), earlier.c.end_at.desc())
        .limit(1)
        .lateral("last_before")
    )
    reaching = (
        select(*last_before.c)
        .select_from(asked)
        .join(last_before, true())
        .where(last_before.c.end_at > since)
    )
    return union_all(starting, reaching)


# Built once (building them cost more than running them). `around` asks, besides the
# bookings, a first row of the specialist: whether a hold of theirs ran out at :now and is
# not marked yet, and their span of indexed dates (`header`, `lapsed`, `first`, `last`).
OVERLAPPING = {"sqlite": union_all(*_overlapping()), "postgresql": _overlapping_listed()}


def _busy(text: bool) -> CompoundSelect:
    """`overlapping`'s query for the times alone: specialist, start, end, status.

    With `text`, the instants as SQLite keeps them (read by `_micro`): a whole specialist's
    days need hundreds of bookings, and making a datetime of each cost a third of a reindex.
    """
    start, end = BookingRow.start_at, BookingRow.end_at
    if text:
        start, end = type_coerce(start, String), type_coerce(end, String)  # type: ignore[assignment]
    return union_all(*_overlapping((BookingRow.specialist_id, start, end, BookingRow.status)))


BUSY = {"postgresql": _busy(text=False), "sqlite": _busy(text=True)}
NAIVE_EPOCH = datetime(1970, 1, 1)
HEADER = (literal(False), literal(False), literal(None, Date), literal(None, Date))
AROUND: CompoundSelect = union_all(
    select(
        SpecialistRow.id,
        *(literal(None, column.type) for column in COLUMNS[1:]),
        literal(True),
        select(BookingRow.id)
        .where(
            BookingRow.specialist_id == SpecialistRow.id,
            HELD_ONLY,
            BookingRow.hold_until <= bindparam("now"),
        )
        .exists(),
        DaySpanRow.first,
        DaySpanRow.last,
    )
    .outerjoin(DaySpanRow, DaySpanRow.specialist_id == SpecialistRow.id)
    .where(SpecialistRow.id == bindparam("specialist")),
    *(part.add_columns(*HEADER) for part in _overlapping(one=True)),
)


class Bookings:
    """The repository of bookings and holds; never commits."""

    def __init__(self, session: AsyncSession, days: DayIndex) -> None:
        self.session = session
        self.days = days

    async def overlapping(
        self,
        specialists: Sequence[str],
        since: datetime,
        until: datetime,
        live_at: datetime | None = None,
    ) -> list[Booking]:
        """Held and confirmed bookings of these specialists that overlap [since, until).

        With `live_at`, only those occupying time then (holds not yet run out). Found by
        index however long the history: live bookings never overlap, so of those starting
        before `since` only the last one can reach into it.
        """
        dialect = self.session.get_bind().dialect.name
        ids = sorted(set(specialists))
        found = []
        for chunk in [ids] if dialect == "postgresql" else chunks(ids):
            asked = {"specialists": chunk, "since": since, "until": until}
            found += list(await self.session.execute(OVERLAPPING[dialect], asked))
        return [
            booking
            for booking in map(_occupying, found)
            if booking.live and (live_at is None or occupies(booking, live_at))
        ]

    async def busy(
        self, specialists: Sequence[str], since: datetime, until: datetime
    ) -> list[tuple[str, int, int]]:
        """`overlapping`'s bookings as times alone: specialist, start and end (UTC epoch
        microseconds), without making a booking of each row."""
        statement = BUSY[self.session.get_bind().dialect.name]
        lo, hi = microseconds(since), microseconds(until)
        found = []
        for chunk in chunks(sorted(set(specialists))):
            asked = {"specialists": chunk, "since": since, "until": until}
            for specialist, start, end, status in await self.session.execute(statement, asked):
                begin, finish = _micro(start), _micro(end)
                if status in LIVE and begin < hi and finish > lo:
                    found.append((specialist, begin, finish))
        return found

    async def around(
        self, specialist: str, since: datetime, until: datetime, now: datetime
    ) -> tuple[list[Booking], bool]:
        """A specialist's held and confirmed bookings overlapping [since, until), and whether
        a hold of theirs ran out at `now` but is not marked yet (`expire_holds`).

        The bookings are `overlapping`'s without `live_at` (holds that ran out among them),
        each hold with its `hold_until`. They and the specialist's span of indexed dates,
        read in the same statement, are handed to the day index, which then need not read
        them again when it settles (DayIndex.busy_known, span_known).
        """
        asked = {"specialist": specialist, "since": since, "until": until, "now": now}
        found, lapsed = [], False
        for *row, header, ran_out, first, last in await self.session.execute(AROUND, asked):
            if header:
                lapsed = bool(ran_out)
                self.days.span_known(specialist, Span(first, last) if first else None)
            elif row[4] in LIVE:
                found.append(_occupying(row))
        self.days.busy_known(specialist, found, since, until)
        return found, lapsed

    async def bookings(
        self,
        *,
        specialists: Sequence[str] | None = None,
        client: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        live_at: datetime | None = None,
    ) -> list[Booking]:
        """Bookings by start, filtered; with `live_at`, only those occupying time then."""
        query = (
            select(BookingRow, ClientRow)
            .outerjoin(ClientRow, ClientRow.id == BookingRow.client_id)
            .order_by(BookingRow.start_at, BookingRow.id)
        )
        if specialists is not None:
            query = query.where(BookingRow.specialist_id.in_(specialists))
        if client is not None:
            query = query.where(ClientRow.telegram_id == client)
        if since is not None:
            query = query.where(BookingRow.end_at > since)
        if until is not None:
            query = query.where(BookingRow.start_at < until)
        if live_at is not None:
            query = query.where(_live(live_at))
        rows = await self.session.execute(query)
        return [booking_of(row, client) for row, client in rows]

    async def booking(self, booking_id: int) -> Booking | None:
        """One booking by id."""
        row = await self.session.execute(
            select(BookingRow, ClientRow)
            .outerjoin(ClientRow, ClientRow.id == BookingRow.client_id)
            .where(BookingRow.id == booking_id)
        )
        found = row.first()
        return booking_of(*found) if found else None

    async def hold_until(self, booking_id: int) -> datetime | None:
        """When a held booking's hold runs out."""
        return await self.session.scalar(
            select(BookingRow.hold_until).where(BookingRow.id == booking_id)
        )

    async def expire_holds(
        self, now: datetime, client: int | None = None, specialists: Sequence[str] | None = None
    ) -> list[tuple[str, datetime, datetime]]:
        """Marks holds whose time ran out (or all of one client's) so they free their slot.

        A writer names the specialists it locked (UnitOfWork.lock): it changes no other's.
        Tells the time freed: (specialist, start, end) of each hold expired.
        """
        ended = BookingRow.hold_until <= now
        if client is not None:
            owned = select(ClientRow.id).where(ClientRow.telegram_id == client)
            ended = or_(ended, BookingRow.client_id.in_(owned))
        expired = await self.session.execute(
            update(BookingRow)
            .where(
                HELD_ONLY,
                ended,
                *([] if specialists is None else [BookingRow.specialist_id.in_(specialists)]),
            )
            .values(status=BookingStatus.EXPIRED)
            .returning(BookingRow.specialist_id, BookingRow.start_at, BookingRow.end_at)
        )
        freed = [(specialist, start, end) for specialist, start, end in expired]
        for specialist, start, end in freed:
            self.days.busy_changed(specialist, start, end)
        return freed

    async def add_booking(
        self,
        booking: Booking,
        now: datetime,
        hold_until: datetime | None = None,
        offer_of: int | None = None,
    ) -> Booking:
        """Writes a new booking; the database refuses one that overlaps a live booking.

        `offer_of` makes a hold a waitlist offer to that entry (store/waitlist.py).
        """
        client_id = (
            await find_or_add_client(self.session, booking.client) if booking.client else None
        )
        status = BookingStatus(booking.status)
        values = {
            "specialist_id": booking.specialist,
            "service_id": booking.service,
            "client_id": client_id,
            "start_at": booking.start,
            "end_at": booking.end,
            "status": str(status),
            "hold_until": hold_until,
            "created_at": now,
            "offer_of": offer_of,
            "location": booking.location,
        }
        if booking.id is not None:
            values["id"] = booking.id
        try:
            written = await self.session.execute(ADD, values)
        except IntegrityError as error:
            _refuse_overlap(error)
            raise
        client = await self.session.get(ClientRow, client_id) if client_id else None
        added = Booking(  # as `booking_of` reads it back
            booking.specialist,
            booking.service,
            booking.start,
            booking.end,
            status,
            Client(client.name, client.phone, client.telegram_id) if client else None,
            written.inserted_primary_key[0],  # type: ignore[attr-defined]
            hold_until if status == BookingStatus.HELD else None,
            location=booking.location,
        )
        self.days.busy_changed(booking.specialist, booking.start, booking.end, added)
        return added

    async def set_status(
        self,
        booking_id: int,
        status: BookingStatus,
        at: datetime,
        by: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Moves a booking to a new status, recording who cancelled it and why."""
        row = await self.session.get(BookingRow, booking_id)
        assert row is not None
        self.days.busy_changed(row.specialist_id, row.start_at, row.end_at)
        row.status = str(status)
        if status == BookingStatus.CANCELLED:
            row.cancelled_at, row.cancelled_by, row.cancel_reason = at, by, reason
        if status == BookingStatus.CONFIRMED:
            row.hold_until = row.due = None
        await self._flush_or_refuse()

    async def set_location(self, booking_id: int, location: str) -> None:
        """Records the place a booking's window is at now (its place was moved)."""
        await self.session.execute(
            update(BookingRow).where(BookingRow.id == booking_id).values(location=location)
        )

    async def await_payment(self, booking_id: int, until: datetime, due: int) -> None:
        """Keeps a hold until `until` for a payment of `due` (minor units) to confirm it.

        A hold awaiting payment stays a hold: the overlap guard and the day index count
        it as one, and it lapses as one.
        """
        row = await self.session.get(BookingRow, booking_id)
        assert row is not None and row.status == BookingStatus.HELD
        self.days.busy_changed(row.specialist_id, row.start_at, row.end_at)
        row.hold_until, row.due = until, due
        await self.session.flush()

    # -- attendance and no-shows ----------------------------------------------------------

    async def attend(self, booking_id: int, at: datetime) -> bool:
        """Records that the client will come; tells whether they had not said so before.

        The first time is kept: saying it again changes nothing.
        """
        said = await self.session.execute(
            update(BookingRow)
            .where(BookingRow.id == booking_id, BookingRow.attending_at.is_(None))
            .values(attending_at=at)
        )
        return bool(said.rowcount)  # type: ignore[attr-defined]

    async def mark(self, booking_id: int, mark: Mark | None, at: datetime, by: str) -> None:
        """Sets (or with None, clears) staff's mark on a visit, with when and who (an actor)."""
        await self.session.execute(
            update(BookingRow)
            .where(BookingRow.id == booking_id)
            .values(mark=None if mark is None else str(mark), marked_at=at, marked_by=by)
        )

    async def no_shows(self, client: int, now: datetime, window: timedelta | None) -> int:
        """How many no-shows count against a client (Telegram id) at `now`.

        Confirmed visits marked no-show since the client was last forgiven, counted by the
        engine within `window` back from now (None: all).
        """
        query = (
            select(BookingRow.start_at)
            .join(ClientRow, ClientRow.id == BookingRow.client_id)
            .where(
                ClientRow.telegram_id == client,
                BookingRow.mark == Mark.NO_SHOW,
                BookingRow.status == BookingStatus.CONFIRMED,
                or_(ClientRow.forgiven_at.is_(None), BookingRow.marked_at > ClientRow.forgiven_at),
            )
        )
        if window is not None:
            query = query.where(BookingRow.start_at > now - window)
        return rules.no_shows(await self.session.scalars(query), now, window)

    async def forgive(self, client: int, at: datetime) -> bool:
        """Voids a client's no-shows marked before `at`; tells whether the client is known."""
        forgiven = await self.session.execute(
            update(ClientRow).where(ClientRow.telegram_id == client).values(forgiven_at=at)
        )
        return bool(forgiven.rowcount)  # type: ignore[attr-defined]

    # -- figures ---------------------------------------------------------------------------

    async def records(self, since: datetime, until: datetime) -> list[Record]:
        """Confirmed and cancelled bookings starting in [since, until), as the figures read them.

        Holds and expired holds never became visits and are left out.
        """
        rows = await self.session.execute(
            select(
                BookingRow.specialist_id,
                BookingRow.service_id,
                BookingRow.start_at,
                BookingRow.end_at,
                BookingRow.status,
                BookingRow.cancelled_at,
                BookingRow.cancelled_by,
                BookingRow.mark,
                BookingRow.offer_of,
                BookingRow.cancel_reason,
            )
            .where(
                BookingRow.start_at >= since,
                BookingRow.start_at < until,
                BookingRow.status.in_([BookingStatus.CONFIRMED, BookingStatus.CANCELLED]),
            )
            .order_by(BookingRow.start_at, BookingRow.id)
        )
        return [
            Record(
                row.specialist_id,
                row.service_id,
                row.start_at,
                row.end_at,
                BookingStatus(row.status),
                row.cancelled_at,
                row.cancelled_by,
                None if row.mark is None else Mark(row.mark),
                row.offer_of is not None,
                row.cancel_reason,
            )
            for row in rows
        ]

    async def _flush_or_refuse(self) -> None:
        try:
            await self.session.flush()
        except IntegrityError as error:
            _refuse_overlap(error)
            raise


def _refuse_overlap(error: IntegrityError) -> None:
    """Raises "refused.taken" for the database's refusal of an overlapping live booking."""
    if "bookings_no_overlap" in str(error.orig):
        raise Refused("refused.taken") from None


def _micro(instant: datetime | str) -> int:
    """An instant as UTC epoch microseconds, from PostgreSQL's datetime or SQLite's text."""
    if isinstance(instant, str):  # UTC, as UTCDateTime writes it
        return (datetime.fromisoformat(instant) - NAIVE_EPOCH) // MICROSECOND
    return microseconds(absolute(instant))


def _occupying(row: Sequence) -> Booking:
    """A booking from a row of COLUMNS: what occupies time, a hold with its `hold_until`."""
    specialist, service, start, end, status, held = row
    status = BookingStatus(status)
    hold_until = held if status == BookingStatus.HELD else None
    return Booking(specialist, service, start, end, status, hold_until=hold_until)


def _live(now: datetime):  # type: ignore[no-untyped-def]
    """Rows that occupy time at `now`: confirmed, or held and not yet run out."""
    return or_(
        BookingRow.status == BookingStatus.CONFIRMED,
        and_(BookingRow.status == BookingStatus.HELD, BookingRow.hold_until > now),
    )
