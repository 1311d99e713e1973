"""The catalog: business defaults, services and specialists with their schedules.

Read through a per-process cache keyed by the business row's stamp, which every schedule
change rewrites; the availability counter on the same row is raised here too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cached_property
from uuid import uuid4

from msgspec import Struct, field
from msgspec.structs import replace
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bookbot.engine.model import WEEKDAYS, Business, Location, Service, Specialist
from bookbot.engine.policy import Prepay
from bookbot.engine.workday import Plan
from bookbot.store import holiday_dates
from bookbot.store.bulk import add_rows, chunks
from bookbot.store.catalog_rows import (
    block_of,
    business_of,
    calendar_text,
    hours_values,
    location_of,
    location_values,
    minutes,
    override_of,
    policy_text,
    seconds,
    service_of,
    specialist_of,
    weekly_of,
)
from bookbot.store.dayindex import DayIndex
from bookbot.store.tables import (
    BlockRow,
    BusinessRow,
    LocationRow,
    OfferRow,
    OverrideRow,
    ServiceRow,
    SpecialistRow,
    WeeklyRow,
)

BUSINESS_ID = 1
PLACE_SETS = 64  # sets of places whose plans are kept per service (a question's `where`)
# Read and raised by every unit, so built once, on the table rather than the mapped class:
# the ORM's update also looks for loaded rows to change, and no unit reads `version` from a
# loaded row (0.9 ms of a booking for the two before, 0.4 ms after, on a busy machine).
BUSINESSES = BusinessRow.__table__
STAMP = select(BUSINESSES.c.stamp).where(BUSINESSES.c.id == BUSINESS_ID)
BUMP = (
    update(BUSINESSES)
    .where(BUSINESSES.c.id == BUSINESS_ID)
    .values(version=BUSINESSES.c.version + 1)
)


class Snapshot(Struct, frozen=True, dict=True):
    """The slowly changing part of a clinic, as of one stamp."""

    business: Business | None
    services: tuple[Service, ...] = ()
    specialists: tuple[Specialist, ...] = ()
    positions: dict[str, int] = field(default_factory=dict)
    stamp: str = ""

    @cached_property
    def by_id(self) -> dict[str, Specialist]:
        """The specialists by id."""
        return {s.id: s for s in self.specialists}


class Catalog:
    """The repository of the business, its services and specialists; never commits."""

    def __init__(self, session: AsyncSession, cache: dict, days: DayIndex) -> None:
        self.session = session
        self.cache = cache
        self.days = days
        self.stamp: str | None = None  # as this unit read it; forgotten when it restamps

    async def catalog(self) -> Snapshot:
        """Business, services and specialists, reused while the stored stamp is unchanged.

        Every schedule change writes a new random stamp in its own transaction, so a cached
        catalog is reused only for exactly the committed state it was read from.
        """
        stamp = await self._stamp()
        if stamp is None:
            return Snapshot(None)
        cached = self.cache.get("catalog")
        if cached is not None and cached.stamp == stamp:
            return cached
        found = await self._load_catalog(stamp)
        self.cache["catalog"] = found
        return found

    async def _load_catalog(self, stamp: str) -> Snapshot:
        await holiday_dates.load(self.session)  # the engine's holiday dates, without the package
        business = await self.current_business()
        services = await self.session.scalars(
            select(ServiceRow).order_by(ServiceRow.position, ServiceRow.id)
        )
        rows = list(await self.session.scalars(select(SpecialistRow).order_by(SpecialistRow.id)))
        return Snapshot(
            business,
            tuple(service_of(r) for r in services),
            tuple(await self._assemble(rows)),
            {r.id: r.position for r in rows},
            stamp,
        )

    async def plans(self, offering: str) -> dict[str, Plan]:
        """The plans, without bookings (blocks are busy), of a service's specialists, by id.

        Cached like the catalog.
        """
        catalog = await self.catalog()
        cached = self.cache.get(("plans", offering))
        if cached is not None and cached[0] == catalog.stamp:
            return cached[1]
        assert catalog.business is not None
        found = {
            s.id: Plan(s.schedule(catalog.business))
            for s in catalog.specialists
            if offering in s.services
        }
        self.cache[("plans", offering)] = (catalog.stamp, found)
        return found

    async def plans_at(self, offering: str, places: frozenset[str]) -> dict[str, Plan]:
        """The plans of a service's specialists who work at one of `places`, by id.

        Each counts only the windows at those places. Cached like `plans`, for the last
        PLACE_SETS sets of places asked, with which specialists work where.
        """
        plans = await self.plans(offering)
        stamp = (await self.catalog()).stamp
        cached = self.cache.get(("places", offering))
        if cached is None or cached[0] != stamp:
            working: dict[str, list[str]] = defaultdict(list)
            for s, plan in plans.items():
                for site in plan.sites:
                    if site is not None:
                        working[site].append(s)
            cached = (stamp, working, {})
            self.cache[("places", offering)] = cached
        working = cached[1]
        made: dict[frozenset[str], dict[str, Plan]] = cached[2]
        found = made.get(places)
        if found is None:
            ids = sorted({s for place in places for s in working.get(place, ())})
            found = {s: Plan(plans[s].schedule, places) for s in ids}
            if len(made) >= PLACE_SETS:
                made.clear()
            made[places] = found
        return found

    async def remember_holidays(self, now: datetime | None = None) -> None:
        """Stores the holiday dates of every calendar in use (store/holiday_dates.py).

        For the years around `now`, or without it for the years already stored.
        """
        await holiday_dates.remember(self.session, now)

    async def _stamp(self) -> str | None:
        """The stored stamp, read once per unit of work (and again after it restamps).

        The unit keeps the catalog it began with, as if it had read it all at once.
        """
        if self.stamp is None:
            self.stamp = await self.session.scalar(STAMP)
        return self.stamp

    async def current_business(self) -> Business | None:
        """The business defaults as this transaction sees them, from the catalog if current."""
        cached = self.cache.get("catalog")
        if cached is not None and cached.stamp == await self._stamp():
            return cached.business
        row = await self.session.get(BusinessRow, BUSINESS_ID)
        if row is None:
            return None
        places = await self.session.scalars(
            select(LocationRow).order_by(LocationRow.position, LocationRow.id)
        )
        return business_of(row, tuple(location_of(place) for place in places))

    async def current(self, ids: Sequence[str]) -> list[Specialist]:
        """These specialists as this transaction sees them, from the catalog if it is current."""
        cached = self.cache.get("catalog")
        if cached is not None and cached.stamp == await self._stamp():
            return [cached.by_id[i] for i in sorted(set(ids)) if i in cached.by_id]
        rows = list(
            await self.session.scalars(
                select(SpecialistRow).where(SpecialistRow.id.in_(ids)).order_by(SpecialistRow.id)
            )
        )
        return await self._assemble(rows)

    async def _restamp(self) -> None:
        """Marks that the schedule changed, so every cached catalog is read afresh."""
        await self.session.execute(
            update(BusinessRow).where(BusinessRow.id == BUSINESS_ID).values(stamp=uuid4().hex)
        )
        self.stamp = None

    async def business(self) -> Business | None:
        """The business defaults, or None before anything was imported."""
        return (await self.catalog()).business

    async def save_business(self, business: Business) -> bool:
        """Writes the business defaults; tells whether anything changed.

        Locations update by id; those the business does not name are kept, after its own.
        """
        before = await self.business()
        if before is not None:
            named = {place.id for place in business.locations}
            kept = tuple(place for place in before.locations if place.id not in named)
            business = replace(business, locations=business.locations + kept)
        if before == business:
            return False
        moved = before is not None and before.locations != business.locations
        if moved:
            # A place's zone and calendars are its specialists': every schedule is asked again.
            for specialist in await self.session.scalars(select(SpecialistRow.id)):
                self.days.schedule_changed(specialist)
        if before is not None:
            inheriting = []
            if before.timezone != business.timezone:
                inheriting.append(SpecialistRow.timezone.is_(None))
            if before.holidays != business.holidays:
                inheriting.append(SpecialistRow.holidays.is_(None))
            if inheriting:
                for specialist in await self.session.scalars(
                    select(SpecialistRow.id).where(or_(*inheriting))
                ):
                    self.days.schedule_changed(specialist)
        row = await self.session.get(BusinessRow, BUSINESS_ID) or BusinessRow(id=BUSINESS_ID)
        row.timezone = business.timezone
        row.min_notice_minutes = minutes(business.rules.min_notice)
        row.horizon_days = business.rules.horizon_days
        row.holidays = ",".join(business.holidays)
        row.currency = business.currency
        row.phone = business.phone
        row.policy = policy_text(business.policy)
        if before is not None and before.currency != business.currency:
            # Prices are in the business's currency: those of another one mean nothing now.
            await self.session.execute(update(ServiceRow).values(price=None, deposit=None))
        row.stamp = uuid4().hex
        self.stamp = None
        self.session.add(row)
        await self.session.flush()
        if moved:
            await self.session.execute(delete(LocationRow))
        if business.locations and (before is None or moved):
            await add_rows(
                self.session,
                LocationRow.__table__,
                [
                    location_values(place, BUSINESS_ID, position)
                    for position, place in enumerate(business.locations)
                ],
            )
        return True

    async def services(self) -> list[Service]:
        """Every service, in file order."""
        return list((await self.catalog()).services)

    async def service(self, service_id: str) -> Service | None:
        """One service by id."""
        return next((s for s in (await self.catalog()).services if s.id == service_id), None)

    async def save_service(self, service: Service, position: int) -> bool:
        """Creates or updates a service by id; tells whether anything changed."""
        row = await self.session.get(ServiceRow, service.id)
        if row and service_of(row) == service and row.position == position:
            return False
        row = row or ServiceRow(id=service.id, business_id=BUSINESS_ID)
        row.name = service.name
        row.duration_minutes = minutes(service.duration) if service.duration else None
        row.price = service.price
        row.cancel_notice_seconds = seconds(service.cancel_notice)
        row.prepay = None if service.prepay == Prepay.NONE else str(service.prepay)
        row.deposit = service.deposit
        row.online = service.online or None
        row.position = position
        self.session.add(row)
        await self._restamp()
        await self.session.flush()
        return True

    # -- specialists -----------------------------------------------------------------------

    async def specialists(
        self,
        ids: Sequence[str] | None = None,
        *,
        offering: str | None = None,
        linked: int | None = None,
    ) -> list[Specialist]:
        """Specialists with their schedules, by id: all, those ids, those offering a service."""
        catalog = await self.catalog()
        if ids is None:
            found: Iterable[Specialist] = catalog.specialists
        else:  # a few by id, without a pass over thousands
            found = [catalog.by_id[i] for i in sorted(set(ids)) if i in catalog.by_id]
        return [
            s
            for s in found
            if (offering is None or offering in s.services)
            and (linked is None or s.telegram_id == linked)
        ]

    async def specialist(self, specialist_id: str) -> Specialist | None:
        """One specialist by id."""
        found = await self.specialists([specialist_id])
        return found[0] if found else None

    async def positions(self) -> dict[str, int]:
        """Specialist ids with their place in the file's order."""
        return dict((await self.catalog()).positions)

    async def _assemble(self, rows: list[SpecialistRow]) -> list[Specialist]:
        ids = [row.id for row in rows]
        if not ids:
            return []
        offers, weekly, overrides, blocks = (defaultdict(list) for _ in range(4))
        for chunk in chunks(ids):
            for offer in await self.session.scalars(
                select(OfferRow)
                .where(OfferRow.specialist_id.in_(chunk))
                .order_by(OfferRow.position)
            ):
                offers[offer.specialist_id].append(offer.service_id)
            for line in await self.session.scalars(
                select(WeeklyRow)
                .where(WeeklyRow.specialist_id.in_(chunk))
                .order_by(WeeklyRow.position, WeeklyRow.id)
            ):
                weekly[line.specialist_id].append(weekly_of(line))
            for change in await self.session.scalars(
                select(OverrideRow)
                .where(OverrideRow.specialist_id.in_(chunk))
                .order_by(OverrideRow.id)
            ):
                overrides[change.specialist_id].append(override_of(change))
            for block in await self.session.scalars(
                select(BlockRow).where(BlockRow.specialist_id.in_(chunk)).order_by(BlockRow.id)
            ):
                blocks[block.specialist_id].append(block_of(block))
        return [specialist_of(row, offers, weekly, overrides, blocks) for row in rows]

    async def save_specialist(self, specialist: Specialist, position: int) -> bool:
        """Creates or updates a specialist by id, schedule included; tells whether it changed."""
        return bool(await self.save_specialists([(specialist, position)]))

    async def save_specialists(self, items: Sequence[tuple[Specialist, int]]) -> int:
        """Creates or updates specialists by id, with their places; returns how many changed.

        Writes in bulk, so a file of thousands imports in seconds.
        """
        ids = [specialist.id for specialist, _ in items]
        rows: dict[str, SpecialistRow] = {}
        for chunk in chunks(ids):
            rows.update(
                (row.id, row)
                for row in await self.session.scalars(
                    select(SpecialistRow).where(SpecialistRow.id.in_(chunk))
                )
            )
        before = {s.id: s for s in await self._assemble(list(rows.values()))}
        changed = [
            (specialist, position)
            for specialist, position in items
            if specialist.id not in rows
            or rows[specialist.id].position != position
            or before[specialist.id] != specialist
        ]
        if not changed:
            return 0
        await self._restamp()
        await self._unlink_moved(rows, [specialist for specialist, _ in changed])
        for specialist, position in changed:
            row = rows.get(specialist.id) or SpecialistRow(
                id=specialist.id, business_id=BUSINESS_ID
            )
            row.name = specialist.name
            row.timezone = specialist.timezone
            row.holidays = calendar_text(specialist.holidays)
            row.telegram_id = specialist.telegram_id
            row.location = specialist.location
            row.position = position
            self.session.add(row)
            self._note_schedule(before.get(specialist.id), specialist)
        await self.session.flush()
        changed_ids = [specialist.id for specialist, _ in changed]
        for chunk in chunks(changed_ids):
            for table in (OfferRow, WeeklyRow, OverrideRow, BlockRow):
                await self.session.execute(delete(table).where(table.specialist_id.in_(chunk)))
        offers, weekly, overrides, blocks = [], [], [], []
        for specialist, _ in changed:
            offers += [
                {"specialist_id": specialist.id, "service_id": service, "position": i}
                for i, service in enumerate(specialist.services)
            ]
            weekly += [
                {
                    "specialist_id": specialist.id,
                    "position": i,
                    "days": ",".join(WEEKDAYS[d] for d in sorted(entry.days)),
                    "valid_from": entry.valid_from,
                    "valid_until": entry.valid_until,
                    **hours_values(entry.hours),
                }
                for i, entry in enumerate(specialist.weekly)
            ]
            overrides += [
                {
                    "specialist_id": specialist.id,
                    "type": str(o.type),
                    "first": o.first,
                    "last": o.last,
                    "reason": o.reason,
                    **hours_values(o.hours),
                }
                for o in specialist.overrides
            ]
            blocks += [
                {
                    "specialist_id": specialist.id,
                    "start_at": b.start,
                    "end_at": b.end,
                    "reason": b.reason,
                }
                for b in specialist.blocks
            ]
        for table, values in (
            (OfferRow, offers),
            (WeeklyRow, weekly),
            (OverrideRow, overrides),
            (BlockRow, blocks),
        ):
            await add_rows(self.session, table.__table__, values)
        return len(changed)

    async def _unlink_moved(
        self, rows: dict[str, SpecialistRow], changed: list[Specialist]
    ) -> None:
        """Clears the Telegram ids these specialists give up, before any is given to another.

        Telegram ids are unique, and checked row by row: two specialists trading their
        accounts in one import would otherwise collide halfway.
        """
        moved = [
            rows[s.id]
            for s in changed
            if s.id in rows and rows[s.id].telegram_id not in (None, s.telegram_id)
        ]
        for row in moved:
            row.telegram_id = None
        if moved:
            await self.session.flush()

    async def linked(self, telegram_ids: Sequence[int]) -> dict[int, str]:
        """The specialists these Telegram ids link, by Telegram id."""
        found: dict[int, str] = {}
        for chunk in chunks(sorted(set(telegram_ids))):
            found.update(
                (telegram, specialist)
                for specialist, telegram in (
                    await self.session.execute(
                        select(SpecialistRow.id, SpecialistRow.telegram_id).where(
                            SpecialistRow.telegram_id.in_(chunk)
                        )
                    )
                )
                if telegram is not None
            )
        return found

    def _note_schedule(self, before: Specialist | None, after: Specialist) -> None:
        """Tells the day index which dates a schedule change touches."""
        if before is None or (
            before.timezone,
            before.holidays,
            before.weekly,
            before.location,
        ) != (after.timezone, after.holidays, after.weekly, after.location):
            self.days.schedule_changed(after.id)
            return
        for override in set(before.overrides) ^ set(after.overrides):
            self.days.dates_changed(after.id, override.first, override.last)
        for block in set(before.blocks) ^ set(after.blocks):
            self.days.busy_changed(after.id, block.start, block.end)

    async def bump(self) -> None:
        """Raises the availability counter: this transaction changed what is free."""
        await self.session.execute(BUMP)

    async def save_location(self, place: Location) -> bool:
        """Adds a location after the others, or updates one by id; tells whether it changed.

        Only a changed zone or holiday calendar changes anyone's free time: then every
        specialist's days are asked again (the day index), as `save_business` does.
        """
        before = await self.business()
        assert before is not None, "a location belongs to a business"
        known = before.location(place.id)
        if known == place:
            return False
        row = await self.session.get(LocationRow, place.id)
        if row is None:
            position = len(before.locations)
            row = LocationRow(id=place.id, business_id=BUSINESS_ID, position=position)
        values = location_values(place, BUSINESS_ID, row.position)
        for name, value in values.items():
            setattr(row, name, value)
        self.session.add(row)
        if known is not None and (known.timezone, known.holidays) != (
            place.timezone,
            place.holidays,
        ):
            for specialist in await self.session.scalars(select(SpecialistRow.id)):
                self.days.schedule_changed(specialist)
        await self._restamp()
        await self.bump()  # the places the chat lists are views of the counter
        await self.session.flush()
        return True
