"""The waitlist: entries joined and left, the candidates for a freed slot, and offers.

An offer is a held booking that names its entry (`bookings.offer_of`): the day index, the
overlap guard and the engine treat it as any hold. The database keeps one held booking
per entry (`bookings_one_offer`); `offer` writes inside a savepoint, so a refusal leaves
the unit of work usable for the next candidate.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bookbot.engine.model import Booking, BookingStatus, Client, Slot
from bookbot.engine.waitlist import PARTS, Entry
from bookbot.store.bookings import Bookings
from bookbot.store.catalog import BUSINESS_ID
from bookbot.store.chats import find_or_add_client
from bookbot.store.tables import BookingRow, ClientRow, WaitlistRow

ONE_OFFER = "bookings_one_offer"  # the unique index's name, as PostgreSQL reports it
OFFER_COLUMN = "bookings.offer_of"  # the column, as SQLite reports it


def parts_mask(parts: Iterable[str]) -> int:
    """The bitmask stored for parts of the day: 1 morning, 2 afternoon, 4 evening; 0 any."""
    return sum(1 << PARTS.index(part) for part in set(parts))


def parts_of(mask: int) -> frozenset[str]:
    """The parts of the day a stored bitmask names."""
    return frozenset(part for bit, part in enumerate(PARTS) if mask & (1 << bit))


class Waitlist:
    """The repository of waitlist entries and their offers; never commits."""

    def __init__(self, session: AsyncSession, bookings: Bookings) -> None:
        self.session = session
        self.bookings = bookings

    async def add(
        self,
        *,
        client: int,
        service: str,
        specialist: str | None,
        location: str | None,
        first: date,
        last: date,
        parts: Iterable[str] = (),
        now: datetime,
        from_booking: int | None = None,
    ) -> Entry:
        """Writes a new entry for a client (Telegram id), joined at `now`."""
        row = WaitlistRow(
            business_id=BUSINESS_ID,
            client_id=await find_or_add_client(self.session, Client(telegram_id=client)),
            service_id=service,
            specialist_id=specialist,
            location=location,
            first_day=first,
            last_day=last,
            parts=parts_mask(parts),
            joined_at=now,
            from_booking=from_booking,
        )
        self.session.add(row)
        await self.session.flush()
        return _entry(row, client)

    async def leave(self, entry_id: int, at: datetime, client: int | None = None) -> bool:
        """Ends an entry (left, or its offer taken); tells whether it was still waiting.

        With `client` (their Telegram id), only their own entry.
        """
        query = update(WaitlistRow).where(WaitlistRow.id == entry_id, WaitlistRow.left_at.is_(None))
        if client is not None:
            owned = select(ClientRow.id).where(ClientRow.telegram_id == client)
            query = query.where(WaitlistRow.client_id.in_(owned.scalar_subquery()))
        left = await self.session.execute(query.values(left_at=at))
        return bool(left.rowcount)  # type: ignore[attr-defined]

    async def entry(self, entry_id: int) -> Entry | None:
        """One entry by id, left or not."""
        found = (await self.session.execute(_ENTRIES.where(WaitlistRow.id == entry_id))).first()
        return _entry(*found) if found else None

    async def entries(self, client: int, today: date) -> list[Entry]:
        """A client's entries still waiting on `today` (local), earliest joined first."""
        rows = await self.session.execute(
            _ENTRIES.where(
                ClientRow.telegram_id == client,
                WaitlistRow.left_at.is_(None),
                WaitlistRow.last_day >= today,
            ).order_by(WaitlistRow.joined_at, WaitlistRow.id)
        )
        return [_entry(row, telegram_id) for row, telegram_id in rows]

    async def candidates(self, service: str, specialist: str, day: date) -> list[Entry]:
        """Entries a slot of `service` with `specialist` on local `day` might go to.

        Waiting for that service with that specialist or any, on dates that hold `day`,
        and holding no held booking (an offer, live or run out and not yet expired);
        earliest joined first. The engine's `pick` decides by parts of the day and
        location, and passes over clients holding another offer (`offered_clients`).
        """
        held = exists().where(
            BookingRow.offer_of == WaitlistRow.id, BookingRow.status == BookingStatus.HELD
        )
        rows = await self.session.execute(
            _ENTRIES.where(
                WaitlistRow.service_id == service,
                WaitlistRow.left_at.is_(None),
                WaitlistRow.first_day <= day,
                WaitlistRow.last_day >= day,
                or_(WaitlistRow.specialist_id.is_(None), WaitlistRow.specialist_id == specialist),
                ~held,
            ).order_by(WaitlistRow.joined_at, WaitlistRow.id)
        )
        return [_entry(row, telegram_id) for row, telegram_id in rows]

    async def offered_clients(self, now: datetime) -> set[int]:
        """The clients (Telegram ids) holding a live offer at `now`."""
        return set(
            await self.session.scalars(
                select(ClientRow.telegram_id)
                .join(BookingRow, BookingRow.client_id == ClientRow.id)
                .where(
                    BookingRow.offer_of.is_not(None),
                    BookingRow.status == BookingStatus.HELD,
                    BookingRow.hold_until > now,
                )
            )
        )

    async def offer(
        self, entry: Entry, slot: Slot, now: datetime, hold_until: datetime
    ) -> Booking | None:
        """Holds a slot of the entry's service for its client until `hold_until`, or None.

        None when the entry holds a booking already (a second process offered it one
        first); a slot taken meanwhile is refused as "refused.taken". Either way nothing
        was written and the unit of work goes on.
        """
        held = Booking(
            slot.specialist,
            entry.service,
            slot.start,
            slot.end,
            BookingStatus.HELD,
            client=Client(telegram_id=entry.client),
            location=slot.location,
        )
        try:
            async with self.session.begin_nested():
                return await self.bookings.add_booking(held, now, hold_until, offer_of=entry.id)
        except IntegrityError as error:
            if ONE_OFFER in str(error.orig) or OFFER_COLUMN in str(error.orig):
                return None
            raise

    async def offered(self, booking_id: int) -> Entry | None:
        """The entry a booking was offered for, or None for a booking not offered."""
        found = (
            await self.session.execute(
                _ENTRIES.join(BookingRow, BookingRow.offer_of == WaitlistRow.id).where(
                    BookingRow.id == booking_id
                )
            )
        ).first()
        return _entry(*found) if found else None

    async def let_go(self, specialist: str, start: datetime) -> set[int]:
        """The entries that let an offer of this start with this specialist go.

        Passed ("Not this one") or run out: that slot is not offered to them again.
        """
        return set(
            await self.session.scalars(
                select(BookingRow.offer_of).where(
                    BookingRow.offer_of.is_not(None),
                    BookingRow.specialist_id == specialist,
                    BookingRow.start_at == start,
                    BookingRow.status.in_([BookingStatus.EXPIRED, BookingStatus.CANCELLED]),
                )
            )
        )  # type: ignore[arg-type]

    async def offer_of(self, entry_id: int) -> Booking | None:
        """The held booking offered for an entry, live or run out and not yet expired."""
        found = await self.session.scalar(
            select(BookingRow.id).where(
                BookingRow.offer_of == entry_id, BookingRow.status == BookingStatus.HELD
            )
        )
        return None if found is None else await self.bookings.booking(found)

    async def passed(self, today: date) -> list[Entry]:
        """Entries not yet ended whose last date is before `today` (local)."""
        rows = await self.session.execute(
            _ENTRIES.where(WaitlistRow.left_at.is_(None), WaitlistRow.last_day < today)
        )
        return [_entry(row, telegram_id) for row, telegram_id in rows]

    async def waiting(self, today: date, service: str | None = None) -> list[Entry]:
        """Every entry still waiting on `today` (local), of one service or all, oldest first."""
        query = _ENTRIES.where(WaitlistRow.left_at.is_(None), WaitlistRow.last_day >= today)
        if service is not None:
            query = query.where(WaitlistRow.service_id == service)
        rows = await self.session.execute(query.order_by(WaitlistRow.joined_at, WaitlistRow.id))
        return [_entry(row, telegram_id) for row, telegram_id in rows]


_ENTRIES = select(WaitlistRow, ClientRow.telegram_id).join(
    ClientRow, ClientRow.id == WaitlistRow.client_id
)


def _entry(row: WaitlistRow, client: int | None) -> Entry:
    assert client is not None  # an entry is added for a Telegram id (`add`), which stays
    return Entry(
        id=row.id,
        client=client,
        service=row.service_id,
        specialist=row.specialist_id,
        location=row.location,
        first=row.first_day,
        last=row.last_day,
        joined_at=row.joined_at,
        parts=parts_of(row.parts),
        from_booking=row.from_booking,
    )
