"""Where a question is asked: a location by id, or the locations near a point.

And the chat's Where? step: the places offering a service, nearest first when the client
shared where they are, each with its soonest free time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from bookbot.engine import places
from bookbot.engine.model import Business, Location, Slot
from bookbot.engine.places import Where
from bookbot.errors import BadInput
from bookbot.services import directory
from bookbot.services.availability import ANY, Seen, viewed
from bookbot.services.basics import require_business
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork


@dataclass(frozen=True)
class Place:
    """A location offering a service: how far it is, and its soonest free slot if asked."""

    location: Location
    km: float | None = None
    soonest: Slot | None = None


def chosen(location: str | None) -> Where | None:
    """What the chat asks at the place a client chose; None for no place or "any" (`ANY`)."""
    return None if location in (None, ANY) else Where(frozenset({location}))


async def offering(
    db: Database,
    now: datetime,
    service: str,
    *,
    point: tuple[float, float] | None = None,
    first: int = 0,
    count: int = 0,
    seen: Seen | None = None,
) -> list[Place]:
    """The places offering a service, in the clinic's order or nearest to `point` first.

    Empty when the business has fewer than two locations (the chat then asks no Where?).
    Places `first`..`first + count` get their soonest free slot (one question each, so
    only a page of them); those without coordinates come last near a point.
    """

    async def compute() -> list[Place]:
        async with UnitOfWork(db, write=False) as uow:
            business = await require_business(uow.catalog)
            if len(business.locations) < 2:
                return []
            if await uow.catalog.service(service) is None:
                raise BadInput("error.unknown_service", id=service)
            plans = await uow.catalog.plans(service)
        sites = {site for plan in plans.values() for site in plan.sites}
        listed = [Place(p, _km(p, point)) for p in business.locations if p.id in sites]
        if point is not None:
            listed.sort(key=lambda p: (p.km is None, p.km or 0.0))
        for i in range(first, min(first + count, len(listed))):
            soonest = await directory.soonest_slot(
                db, now, service, where=places.at(listed[i].location)
            )
            listed[i] = replace(listed[i], soonest=soonest)
        return listed

    return await viewed(db, seen, now, ("places", service, point, first, count), compute)


def _km(place: Location, point: tuple[float, float] | None) -> float | None:
    if point is None or place.lat is None or place.lon is None:
        return None
    return places.distance_km(*point, place.lat, place.lon)


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
