"""What is booked, as the command line lists it: bookings on their specialists' clocks.

Apart from the use cases that change bookings (services/bookings.py), so that listing them
loads no SQLAlchemy where the plain reader answers (store/reader.py).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from msgspec.structs import replace

from bookbot.engine.model import Booking
from bookbot.engine.workday import zone
from bookbot.errors import BadInput
from bookbot.services.availability import reading
from bookbot.services.basics import require_business

if TYPE_CHECKING:
    from bookbot.store.catalog import Catalog
    from bookbot.store.db import Database
    from bookbot.store.reader import Catalog as PlainCatalog
    from bookbot.store.reader import Reader


async def list_bookings(
    db: Database | Reader,
    *,
    specialist: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[Booking]:
    """Bookings by start, of one specialist or all, on local dates first..last."""
    async with reading(db) as uow:
        await require_business(uow.catalog)
        if specialist and await uow.catalog.specialist(specialist) is None:
            raise BadInput("error.unknown_specialist", id=specialist)
        found = await uow.bookings.bookings(specialists=[specialist] if specialist else None)
        found = await localized(uow.catalog, found)
    return [
        b
        for b in found
        if (first is None or first <= b.start.date()) and (last is None or b.start.date() <= last)
    ]


async def localized(catalog: Catalog | PlainCatalog, found: list[Booking]) -> list[Booking]:
    """Bookings with their times on their specialists' wall clocks."""
    business = await require_business(catalog)
    ids = sorted({b.specialist for b in found})
    zones = {s.id: zone(s.zone(business)) for s in await catalog.specialists(ids)}
    return [
        replace(
            b,
            start=b.start.astimezone(zones[b.specialist]),
            end=b.end.astimezone(zones[b.specialist]),
        )
        for b in found
    ]
