"""Reviews clients leave of their visits: at most one a booking, the database makes sure."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bookbot.engine.model import Booking, BookingStatus, Mark
from bookbot.errors import Refused
from bookbot.store.tables import BookingRow, ReviewRow


class Review(Struct, frozen=True):
    """A stored review."""

    booking_id: int
    specialist: str
    rating: int
    comment: str | None
    created_at: datetime


class Reviews:
    """The repository of reviews; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def exists(self, booking_id: int) -> bool:
        """Tells whether a booking has its review already."""
        found = select(ReviewRow.id).where(ReviewRow.booking_id == booking_id)
        return await self.session.scalar(found) is not None

    async def add(
        self, booking_id: int, rating: int, comment: str | None, created_at: datetime
    ) -> None:
        """Stores a booking's review; refused ("review.already") when it has one.

        The unique booking_id decides, so two reviews posted at once cannot both be kept.
        """
        self.session.add(
            ReviewRow(booking_id=booking_id, rating=rating, comment=comment, created_at=created_at)
        )
        try:
            await self.session.flush()
        except IntegrityError:
            raise Refused("review.already") from None

    async def listed(self, specialist: str | None = None) -> list[tuple[Review, Booking]]:
        """Reviews, newest first, each with its booking; of one specialist when named.

        The booking is the engine's view of its row, without its client.
        """
        query = (
            select(ReviewRow, BookingRow)
            .join(BookingRow, BookingRow.id == ReviewRow.booking_id)
            .order_by(ReviewRow.created_at.desc())
        )
        if specialist is not None:
            query = query.where(BookingRow.specialist_id == specialist)
        return [
            (Review(r.booking_id, b.specialist_id, r.rating, r.comment, r.created_at), _visit(b))
            for r, b in (await self.session.execute(query)).all()
        ]


def _visit(row: BookingRow) -> Booking:
    """The engine's view of a reviewed booking's row (its client is not needed)."""
    return Booking(
        row.specialist_id,
        row.service_id,
        row.start_at,
        row.end_at,
        BookingStatus(row.status),
        id=row.id,
        mark=None if row.mark is None else Mark(row.mark),
    )
