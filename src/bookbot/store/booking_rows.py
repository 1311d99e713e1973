"""A booking's row to an engine value, and what occupies time: no SQLAlchemy imported.

Shared by the repository (store/bookings.py) and the plain reader (store/reader.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bookbot.engine import bookings as rules
from bookbot.engine.model import Booking, BookingStatus, Client, Mark

# Only named: store/reader.py hands in rows of sqlite3 alone with the same attributes.
if TYPE_CHECKING:
    from bookbot.store.tables import BookingRow, ClientRow


def occupies(booking: Booking, now: datetime) -> bool:
    """Tells whether a booking occupies its time at `now`, as store/bookings.py asks in SQL.

    The engine's rule (`is_live`), except that a hold without `hold_until` does not occupy
    (SQL's comparison with NULL), so rows read with dead holds among them count as the
    index's own query counts them.
    """
    if booking.status == BookingStatus.HELD and booking.hold_until is None:
        return False
    return rules.is_live(booking, now)


def booking_of(row: BookingRow, client: ClientRow | None) -> Booking:
    return Booking(
        specialist=row.specialist_id,
        service=row.service_id,
        start=row.start_at,
        end=row.end_at,
        status=BookingStatus(row.status),
        client=Client(client.name, client.phone, client.telegram_id) if client else None,
        id=row.id,
        hold_until=row.hold_until if row.status == BookingStatus.HELD else None,
        due=row.due if row.status == BookingStatus.HELD else None,
        attending_at=row.attending_at,
        mark=None if row.mark is None else Mark(row.mark),
        marked_at=row.marked_at,
        location=row.location,
    )
