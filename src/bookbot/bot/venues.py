"""The map pin of a visit's place, sent after its confirmation in the chat."""

from __future__ import annotations

from telegram import Update

from bookbot.services.visits import Visit


async def pin(update: Update, visit: Visit) -> None:
    """Sends the visit's place as a venue (sendVenue), where the place has coordinates."""
    where = visit.business.location(visit.booking.location)
    if where is None or where.lat is None or where.lon is None:
        return
    assert update.effective_chat is not None
    await update.effective_chat.send_venue(
        latitude=where.lat, longitude=where.lon, title=where.name, address=where.address
    )
