"""Where a question is asked: a location by id, or the locations near a point.

And the chat's Where? step: the places offering a service, nearest first when the client
shared where they are, each with its soonest free time. And the admins' side (/location):
adding and renaming places, and putting a specialist, their weekly days or a date's hours
at one, checked by the clinic file's rules, coming visits moving with their windows.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from msgspec import Struct
from msgspec.structs import replace

from bookbot.engine import changes, places, validate
from bookbot.engine.model import (
    WEEKDAYS,
    BookingStatus,
    Business,
    Hours,
    Location,
    Override,
    Slot,
    Specialist,
    WeeklyEntry,
)
from bookbot.engine.places import Where
from bookbot.errors import BadInput, Invalid, Refused
from bookbot.notify import messages
from bookbot.services import directory
from bookbot.services.availability import ANY, Seen, viewed
from bookbot.services.basics import require_business
from bookbot.services.catalog import check
from bookbot.services.offers import offer_freed
from bookbot.services.people import Actor, managed, require_admin
from bookbot.services.visits import Visit, named
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork, retried

ENTRY = re.compile(
    r"(weekly|overrides)\[([0-9]+)\]$"
)  # a working entry's path, as validate names it


class Place(Struct, frozen=True):
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


# -- admins: the places and who works where ------------------------------------------------


class Listed(Struct, frozen=True):
    """A place of the business with its zone and the specialists based there."""

    location: Location
    zone: str
    based: tuple[Specialist, ...]


class Placing(Struct, frozen=True):
    """Where an admin puts a specialist: their own place, their weekly days, or one date."""

    specialist: str
    location: str
    days: frozenset[int] = frozenset()  # the weekly lines on these days
    day: date | None = None  # that date's custom hours and extra slots


class Placed(Struct, frozen=True):
    """What placing did: the specialist now, the place, and the visits moved with it."""

    specialist: Specialist
    location: Location
    moved: tuple[Visit, ...] = ()


async def locations(db: Database, actor: Actor) -> list[Listed]:
    """The business's places in order, each with its zone and who is based there."""
    require_admin(actor)
    async with UnitOfWork(db, write=False) as uow:
        business = await require_business(uow.catalog)
        found = await uow.catalog.specialists()
    return [
        Listed(
            place,
            place.timezone or business.timezone,
            tuple(s for s in found if s.location == place.id),
        )
        for place in business.locations
    ]


@retried
async def add_location(db: Database, actor: Actor, place: Location) -> tuple[Location, int]:
    """Adds a place after the others; an id in use is refused.

    The first place is every specialist's then (the one place of a business is where its
    time is worked): tells how many it became the place of.
    """
    require_admin(actor)
    _coordinates(place)
    async with UnitOfWork(db) as uow:
        await uow.lock_business()
        business = await require_business(uow.catalog)
        if business.location(place.id) is not None:
            raise BadInput("location.exists", id=place.id)
        await uow.catalog.save_location(place)
        await uow.catalog.remember_holidays()  # its calendars, for the years already stored
        based = 0
        if not business.locations:
            positions = await uow.catalog.positions()
            for found in await uow.catalog.specialists():
                if found.location is None:
                    await uow.catalog.save_specialist(
                        changes.based(found, place.id), positions.get(found.id, 0)
                    )
                    based += 1
        await uow.commit()
    return place, based


@retried
async def change_location(
    db: Database,
    actor: Actor,
    place_id: str,
    name: str | None = None,
    address: str | None = None,
    point: tuple[float, float] | None = None,
) -> Location:
    """Gives a place a new name, or a new address (with new coordinates, or none)."""
    require_admin(actor)
    async with UnitOfWork(db) as uow:
        await uow.lock_business()
        business = await require_business(uow.catalog)
        found = business.location(place_id)
        if found is None:
            raise BadInput("error.unknown_location", id=place_id)
        if name is not None:
            changed = replace(found, name=name)
        else:
            assert address is not None
            lat, lon = point if point is not None else (None, None)
            changed = replace(found, address=address, lat=lat, lon=lon)
        _coordinates(changed)
        await uow.catalog.save_location(changed)
        await uow.commit()
    return changed


def _coordinates(place: Location) -> None:
    """Refuses coordinates out of bounds (the clinic file's rule)."""
    problems = validate.coordinates(place.lat, place.lon, "")
    if problems:
        raise Invalid(problems)


@retried
async def put(db: Database, now: datetime, actor: Actor, asked: Placing) -> Placed:
    """Puts a specialist, their weekly days or one date's hours at a place.

    Checked by the clinic file's rules (one place at a time, every window at a known
    place). Coming visits in windows now at another place move with them: each keeps its
    time, its place is the new one, and its client is told. A change that would leave a
    visit across two places' windows is refused, naming how many.
    """
    require_admin(actor)
    async with UnitOfWork(db) as uow:
        await uow.lock(specialists=[asked.specialist])
        business, before = await managed(uow.catalog, actor, asked.specialist)
        where = business.location(asked.location)
        if where is None:
            raise BadInput("error.unknown_location", id=asked.location)
        after = _placed(before, asked)
        try:
            await check(uow.catalog, after)
        except Invalid as error:
            raise _clash(error, after, business, where) from None
        coming = [
            b
            for b in await uow.bookings.bookings(specialists=[before.id], since=now, live_at=now)
            if b.start > now
        ]
        split = changes.displaced(business, before, after, coming)
        if split:
            raise Refused("location.would_split", count=len(split), specialist=before.name)
        await uow.catalog.save_specialist(after, (await uow.catalog.positions()).get(after.id, 0))
        moved = []
        for booking, site in changes.moved(business, before, after, coming):
            assert booking.id is not None
            await uow.bookings.set_location(booking.id, site)
            booking = replace(booking, location=site)
            if booking.status == BookingStatus.CONFIRMED:
                await messages.place_changed(uow.outbox, booking, now)
                moved.append(await named(uow.catalog, booking))
        await offer_freed(uow, now, after.id, first=asked.day, last=asked.day)
        await uow.commit()
    return Placed(after, where, tuple(moved))


def _placed(before: Specialist, asked: Placing) -> Specialist:
    """The specialist with the asked time at the asked place, or why there is none to move."""
    if asked.day is not None:
        if not changes.dated_hours(before, asked.day):
            raise BadInput("location.no_dated", specialist=before.name, day=asked.day.isoformat())
        return changes.placed_on(before, asked.location, asked.day)
    if asked.days:
        if not changes.works_on(before, asked.days):
            days = ",".join(WEEKDAYS[d] for d in sorted(asked.days))
            raise BadInput("location.no_weekly", specialist=before.name, days=days)
        return changes.placed_weekly(before, asked.location, asked.days)
    return changes.based(before, asked.location)


def _clash(error: Invalid, after: Specialist, business: Business, where: Location) -> Exception:
    """A plain refusal for windows at two places at once; other problems as they are."""
    found = next((p for p in error.problems if p.key == "file.overlaps_elsewhere"), None)
    if found is None:
        return error
    weekly, overrides = after.placed()
    entries = [
        entry
        for path in (found.path, str(found.params.get("other", "")))
        if (entry := _entry(path, weekly, overrides)) is not None
    ]
    sites = [hours.location for _, hours in entries if hours.location != where.id]
    other = business.location(sites[0] if sites else None)
    return Refused(
        "location.two_places",
        specialist=after.name,
        place=where.name,
        other=other.name if other else "?",
        when=entries[0][0] if entries else "?",
    )


def _entry(
    path: str, weekly: tuple[WeeklyEntry, ...], overrides: tuple[Override, ...]
) -> tuple[str, Hours] | None:
    """When a working entry named by its path is worked (weekdays or a date), and its hours."""
    match = ENTRY.search(path)
    if match is None:
        return None
    i = int(match[2])
    if match[1] == "weekly" and i < len(weekly):
        return ",".join(WEEKDAYS[d] for d in sorted(weekly[i].days)), weekly[i].hours
    hours = overrides[i].hours if match[1] == "overrides" and i < len(overrides) else None
    return None if hours is None else (overrides[i].first.isoformat(), hours)
