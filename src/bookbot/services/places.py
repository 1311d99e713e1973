"""Where a question is asked: a location by id, or the locations near a point."""

from __future__ import annotations

from bookbot.engine import places
from bookbot.engine.model import Business
from bookbot.engine.places import Where
from bookbot.errors import BadInput
from bookbot.services.basics import require_business
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork


async def where(
    db: Database,
    location: str | None = None,
    point: tuple[float, float] | None = None,
    within: float | None = None,
) -> Where | None:
    """The places a question counts; None when it names neither a location nor a point."""
    if within is not None and point is None:
        raise BadInput("error.within_without_near")
    if location is None and point is None:
        return None
    async with UnitOfWork(db, write=False) as uow:
        business = await require_business(uow.catalog)
    return asked(business, location, point, within)


def asked(
    business: Business,
    location: str | None,
    point: tuple[float, float] | None,
    within: float | None,
) -> Where:
    """The business's places a question names: one by id, else those near the point."""
    if location is not None:
        found = business.location(location)
        if found is None:
            raise BadInput("error.unknown_location", id=location)
        return places.at(found)
    assert point is not None  # where() asks for one or the other
    lat, lon = point
    return places.near(
        business.locations, lat, lon, places.DEFAULT_WITHIN_KM if within is None else within
    )
