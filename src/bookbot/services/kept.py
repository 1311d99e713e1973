"""What questions reuse from one unit of work to the next, in the process's cache.

Two kinds. `Cast`: what follows from a service's plans alone, kept while the catalog
hands out the same plans (it replaces them, never changes them, when its stamp changes).
`Kept`: what the day index answered for one version of the data, in units that only
read; every transaction that changes the index (its rows, its spans) raises the
availability counter, and which specialists offer a service changes the stamp.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime, tzinfo
from typing import TypeVar

from msgspec import Struct

from bookbot.engine import search
from bookbot.engine.model import Service, Specialist
from bookbot.engine.places import Where
from bookbot.engine.workday import Plan
from bookbot.store.catalog import PLACE_SETS
from bookbot.store.dayindex import DayIndex
from bookbot.store.uow import UnitOfWork

CASTS = PLACE_SETS + 1  # per service: asked nowhere, and each set of places with plans kept
T = TypeVar("T")


class Cast(Struct, frozen=True):
    """What a question takes from a service's plans alone, made once per catalog stamp."""

    specialists: dict[str, Specialist]  # of the plans, by id
    ids: list[str]  # the plans' ids, in order
    zones: tuple[tzinfo, ...]  # the plans' time zones, each once
    unordered: tuple[str, ...]  # whose first own free slot may not bound the service's

    @staticmethod
    def of(plans: dict[str, Plan], by_id: dict[str, Specialist], service: Service) -> Cast:
        """Made afresh from the plans of a service's specialists."""
        return Cast(
            {s: by_id[s] for s in plans},
            sorted(plans),
            tuple({plan.tz: None for plan in plans.values()}),
            tuple(s for s, plan in plans.items() if not search.ordered(plan, service.duration)),
        )


async def cast_of(
    uow: UnitOfWork, service: Service, plans: dict[str, Plan], where: Where | None
) -> Cast:
    """The cast of these plans, kept while the catalog hands them out.

    Per service, for the last CASTS sets of places asked (as the catalog keeps their plans).
    """
    kept = uow.catalog.cache.setdefault(("casts", service.id), {})
    key = None if where is None else where.places
    found = kept.get(key)
    if found is not None and found[0] is plans and found[1] is service:
        return found[2]
    cast = Cast.of(plans, (await uow.catalog.catalog()).by_id, service)
    if len(kept) >= CASTS:
        kept.clear()
    kept[key] = (plans, service, cast)
    return cast


class Kept(Struct, frozen=True):
    """The process's cache as a unit that only reads uses it: for its version of the data."""

    cache: dict
    days: DayIndex
    stamp: str
    version: int | None

    async def get(self, name: Hashable, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """What `load` answers for this version and key: kept, else loaded (one per name).

        Kept only if the counter reads the same after loading, so on PostgreSQL too (each
        statement sees what was committed when it began) it is this version's answer. What
        is kept is shared: never changed by whoever is handed it.
        """
        version = (self.stamp, self.version, key)
        known = self.cache.get(name)
        if known is not None and known[0] == version:
            return known[1]
        found = await load()
        if await self.days.version() == self.version:
            self.cache[name] = (version, found)
        return found


async def kept_of(uow: UnitOfWork, now: datetime) -> tuple[Kept | None, set[str]]:
    """The cache for this unit's version of the data, with the index's `lapsed_holds` at
    `now` read in the same statement.

    No cache in a unit that may write: what it changed is its own until it commits.
    """
    if uow.write:
        return None, await uow.days.lapsed_holds(now)
    stamp = (await uow.catalog.catalog()).stamp
    version, lapsed = await uow.days.versioned_lapsed(now)
    return Kept(uow.catalog.cache, uow.days, stamp, version), lapsed
