"""Use cases of the catalog: the services, the specialists, and who offers what.

Admins add and rename services and specialists from the chat; every edit is checked by
the clinic file's own rules (engine/validate.py), so `bookbot export` shows it and
`bookbot import` would take it back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from msgspec import Struct
from msgspec.structs import replace

from bookbot.engine import validate
from bookbot.engine.model import Service, Specialist
from bookbot.errors import BadInput, Invalid
from bookbot.services.basics import require_business
from bookbot.services.people import Actor, managed, require_admin
from bookbot.store.catalog import Catalog
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork, retried

Entry = TypeVar("Entry", Service, Specialist)


class Roster(Struct, frozen=True):
    """Specialist ids with their zones and names, and the business zone: what parsing needs."""

    timezone: str
    zones: dict[str, str]
    names: dict[str, str]


async def roster(db: Database) -> Roster:
    """Specialist ids with their zones and names."""
    async with UnitOfWork(db, write=False) as uow:
        business = await require_business(uow.catalog)
        found = await uow.catalog.specialists()
    return Roster(
        business.timezone, {s.id: s.zone(business) for s in found}, {s.id: s.name for s in found}
    )


async def check(
    catalog: Catalog, specialist: Specialist | None, services: tuple[Service, ...] | None = None
) -> None:
    """Checks a specialist and the catalog by the clinic file's own rules (engine/validate.py)."""
    offered = tuple(await catalog.services()) if services is None else services
    problems = validate.services(offered)
    if specialist is not None:
        problems += validate.specialist(specialist, {s.id for s in offered}, "specialists[0]")
        business = await catalog.business()
        if business is not None:
            problems += validate.places(specialist, business, "specialists[0]")
    if problems:
        raise Invalid(problems)


# -- adding and renaming -----------------------------------------------------------------


class _Kind(Struct, Generic[Entry], frozen=True):
    """How one kind of catalog entry is locked, listed in the file's order, checked and saved."""

    lock: Callable[[UnitOfWork, str], Awaitable[None]]  # before reading, as writers take turns
    listed: Callable[[Catalog], Awaitable[dict[str, tuple[Entry, int]]]]  # id: entry, place
    check: Callable[[Catalog, Entry, list[Entry]], Awaitable[None]]  # a new one, the others
    save: Callable[[Catalog, Entry, int], Awaitable[bool]]
    exists: str  # the refusal of an id in use
    unknown: str  # the refusal of an id not found


async def _services(catalog: Catalog) -> dict[str, tuple[Service, int]]:
    return {s.id: (s, place) for place, s in enumerate(await catalog.services())}


async def _specialists(catalog: Catalog) -> dict[str, tuple[Specialist, int]]:
    places = await catalog.positions()
    return {s.id: (s, places.get(s.id, 0)) for s in await catalog.specialists()}


_SERVICES = _Kind[Service](
    lock=lambda uow, _: uow.lock_business(),  # every specialist's slots may change
    listed=_services,
    check=lambda catalog, made, others: check(catalog, None, (*others, made)),
    save=Catalog.save_service,
    exists="admin.service_exists",
    unknown="error.unknown_service",
)
_SPECIALISTS = _Kind[Specialist](
    lock=lambda uow, specialist: uow.lock(specialists=[specialist]),
    listed=_specialists,
    check=lambda catalog, made, _: check(catalog, made),
    save=Catalog.save_specialist,
    exists="admin.specialist_exists",
    unknown="error.unknown_specialist",
)


@retried
async def add_service(db: Database, actor: Actor, service: Service) -> Service:
    """Adds a service at the end of the list; an id in use is refused."""
    return await _add(db, actor, _SERVICES, service)


@retried
async def rename_service(db: Database, actor: Actor, service_id: str, name: str) -> Service:
    """Gives a service a new name."""
    return await _rename(db, actor, _SERVICES, service_id, name)


@retried
async def add_specialist(db: Database, actor: Actor, specialist_id: str, name: str) -> Specialist:
    """Adds a specialist with no hours and no services yet; an id in use is refused."""
    return await _add(db, actor, _SPECIALISTS, Specialist(specialist_id, name))


@retried
async def rename_specialist(
    db: Database, actor: Actor, specialist_id: str, name: str
) -> Specialist:
    """Gives a specialist a new name."""
    return await _rename(db, actor, _SPECIALISTS, specialist_id, name)


async def _add(db: Database, actor: Actor, kind: _Kind[Entry], made: Entry) -> Entry:
    """Adds an entry after the others of its kind; an id in use is refused."""
    require_admin(actor)
    async with UnitOfWork(db) as uow:
        await kind.lock(uow, made.id)
        await require_business(uow.catalog)
        listed = await kind.listed(uow.catalog)
        if made.id in listed:
            raise BadInput(kind.exists, id=made.id)
        await kind.check(uow.catalog, made, [entry for entry, _ in listed.values()])
        last = max((place for _, place in listed.values()), default=-1)
        await kind.save(uow.catalog, made, last + 1)
        await uow.commit()
    return made


async def _rename(
    db: Database, actor: Actor, kind: _Kind[Entry], entry_id: str, name: str
) -> Entry:
    """Gives an entry a new name; it keeps its place."""
    require_admin(actor)
    async with UnitOfWork(db) as uow:
        await kind.lock(uow, entry_id)
        await require_business(uow.catalog)
        listed = await kind.listed(uow.catalog)
        if entry_id not in listed:
            raise BadInput(kind.unknown, id=entry_id)
        found, place = listed[entry_id]
        renamed = replace(found, name=name)
        await kind.save(uow.catalog, renamed, place)
        await uow.commit()
    return renamed


# -- who offers what ---------------------------------------------------------------------


@retried
async def offer(
    db: Database, actor: Actor, specialist_id: str, services: tuple[str, ...]
) -> Specialist:
    """Sets which services a specialist offers."""
    require_admin(actor)
    async with UnitOfWork(db) as uow:
        await uow.lock(specialists=[specialist_id])
        _, found = await managed(uow.catalog, actor, specialist_id)
        changed = replace(found, services=services)
        known = {s.id for s in await uow.catalog.services()}
        for service in services:
            if service not in known:
                raise BadInput("error.unknown_service", id=service)
        await check(uow.catalog, changed)
        await uow.catalog.save_specialist(changed, (await uow.catalog.positions()).get(found.id, 0))
        await uow.commit()
    return changed
