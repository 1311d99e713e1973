"""Reads and writes engine values; never commits (the unit of work does)."""

from __future__ import annotations

import json
from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from uuid import uuid4

from sqlalchemy import and_, bindparam, case, delete, func, insert, or_, select, union_all, update
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bookbot.engine.intervals import absolute
from bookbot.engine.model import (
    LIVE_STATUSES,
    WEEKDAYS,
    Block,
    Booking,
    BookingStatus,
    Business,
    Client,
    Hours,
    Override,
    OverrideType,
    Rules,
    Service,
    Specialist,
    WeeklyEntry,
)
from bookbot.engine.workday import Plan
from bookbot.errors import Invalid, Problem, Refused
from bookbot.store.bulk import add_rows
from bookbot.store.dayindex import Days
from bookbot.store.tables import (
    BlockRow,
    BookingRow,
    BusinessRow,
    ClientRow,
    DraftRow,
    FloodWaitRow,
    HoursColumns,
    OfferRow,
    OutboxRow,
    OverrideRow,
    ServiceRow,
    SpecialistRow,
    WeeklyRow,
)

BUSINESS_ID = 1
LIVE = [str(status) for status in LIVE_STATUSES]
WRITE_CHUNK = 20_000  # rows per bulk statement, to bound memory
NO_CALENDAR = "none"
PROFILE = (ClientRow.name, ClientRow.phone, ClientRow.locale)
DRAFT = (DraftRow.service_id, DraftRow.specialist_id, DraftRow.rescheduling_id)
# Built once: every tap runs CHAT, and building a statement cost more than running it.
CHAT = (select(BusinessRow.stamp, BusinessRow.version, *PROFILE, *DRAFT)
        .select_from(BusinessRow)
        .outerjoin(ClientRow, ClientRow.telegram_id == bindparam("telegram_id"))
        .outerjoin(DraftRow, DraftRow.telegram_id == bindparam("telegram_id"))
        .where(BusinessRow.id == BUSINESS_ID))


def _draft_upsert(insert_into):  # type: ignore[no-untyped-def]
    """Writes a draft in one statement, with the dialect's own INSERT … ON CONFLICT."""
    drafts = DraftRow.__table__.c
    values = {"service_id": bindparam("service", type_=drafts.service_id.type),
              "specialist_id": bindparam("specialist", type_=drafts.specialist_id.type),
              "rescheduling_id": bindparam("rescheduling", type_=drafts.rescheduling_id.type),
              "updated_at": bindparam("at", type_=drafts.updated_at.type)}
    return (insert_into(DraftRow).values(telegram_id=bindparam("telegram_id"), **values)
            .on_conflict_do_update(index_elements=[DraftRow.telegram_id], set_=values))


DRAFT_UPSERTS = {"sqlite": _draft_upsert(sqlite_insert), "postgresql": _draft_upsert(pg_insert)}


@dataclass(frozen=True)
class Catalog:
    """The slowly changing part of a clinic, as of one stamp."""

    business: Business | None
    services: tuple[Service, ...] = ()
    specialists: tuple[Specialist, ...] = ()
    positions: dict[str, int] = field(default_factory=dict)
    stamp: str = ""
    by_id: dict[str, Specialist] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {s.id: s for s in self.specialists})


@dataclass(frozen=True)
class Message:
    """A claimed outbox row: what to send, to whom, about which booking."""

    id: int
    kind: str
    chat_id: int
    booking_id: int | None
    payload: dict
    due_at: datetime
    attempts: int  # failed tries so far: errors only, not flood waits or lost leases


@dataclass(frozen=True)
class Profile:
    """What is remembered of a Telegram user who books."""

    telegram_id: int
    name: str | None = None
    phone: str | None = None
    locale: str | None = None


@dataclass(frozen=True)
class Draft:
    """Where a client's booking flow stands: service, specialist ("*": any), rescheduling."""

    telegram_id: int
    service: str | None = None
    specialist: str | None = None
    rescheduling: int | None = None


class Store:
    """The repository of a clinic: business, services, specialists, clients and bookings."""

    def __init__(self, session: AsyncSession, cache: dict | None = None) -> None:
        self.session = session
        self.cache = {} if cache is None else cache
        self.days = Days(self)
        self.stamp: str | None = None  # as this unit read it; forgotten when it restamps

    async def settle(self) -> None:
        """Brings derived data in step with this transaction's writes: the day index, the counter.

        The counter is raised last, so PostgreSQL holds its row lock only until the commit.
        """
        changed = bool(self.days.changes)
        await self.days.settle()
        if changed:
            await self.bump()

    # -- the catalog: business, services, specialists ---------------------------------------

    async def catalog(self) -> Catalog:
        """Business, services and specialists, reused while the stored stamp is unchanged.

        Every schedule change writes a new random stamp in its own transaction, so a cached
        catalog is reused only for exactly the committed state it was read from.
        """
        stamp = await self._stamp()
        if stamp is None:
            return Catalog(None)
        cached = self.cache.get("catalog")
        if cached is not None and cached.stamp == stamp:
            return cached
        found = await self._load_catalog(stamp)
        self.cache["catalog"] = found
        return found

    async def _load_catalog(self, stamp: str) -> Catalog:
        business = await self.current_business()
        services = await self.session.scalars(
            select(ServiceRow).order_by(ServiceRow.position, ServiceRow.id))
        rows = list(await self.session.scalars(select(SpecialistRow).order_by(SpecialistRow.id)))
        return Catalog(business, tuple(_service(r) for r in services),
                       tuple(await self._assemble(rows)), {r.id: r.position for r in rows}, stamp)

    async def plans(self, offering: str) -> dict[str, Plan]:
        """The plans, without bookings (blocks are busy), of a service's specialists, by id.

        Cached like the catalog.
        """
        catalog = await self.catalog()
        cached = self.cache.get(("plans", offering))
        if cached is not None and cached[0] == catalog.stamp:
            return cached[1]
        assert catalog.business is not None
        found = {s.id: Plan(s.schedule(catalog.business)) for s in catalog.specialists
                 if offering in s.services}
        self.cache[("plans", offering)] = (catalog.stamp, found)
        return found

    async def _stamp(self) -> str | None:
        """The stored stamp, read once per unit of work (and again after it restamps).

        The unit keeps the catalog it began with, as if it had read it all at once.
        """
        if self.stamp is None:
            self.stamp = await self.session.scalar(
                select(BusinessRow.stamp).where(BusinessRow.id == BUSINESS_ID))
        return self.stamp

    async def current_business(self) -> Business | None:
        """The business defaults as this transaction sees them, from the catalog if current."""
        cached = self.cache.get("catalog")
        if cached is not None and cached.stamp == await self._stamp():
            return cached.business
        row = await self.session.get(BusinessRow, BUSINESS_ID)
        if row is None:
            return None
        return Business(
            timezone=row.timezone,
            rules=Rules(timedelta(minutes=row.min_notice_minutes), row.horizon_days),
            holidays=_codes(row.holidays) or (),
        )

    async def current(self, ids: Sequence[str]) -> list[Specialist]:
        """These specialists as this transaction sees them, from the catalog if it is current."""
        cached = self.cache.get("catalog")
        if cached is not None and cached.stamp == await self._stamp():
            return [cached.by_id[i] for i in sorted(set(ids)) if i in cached.by_id]
        rows = list(await self.session.scalars(
            select(SpecialistRow).where(SpecialistRow.id.in_(ids)).order_by(SpecialistRow.id)))
        return await self._assemble(rows)

    async def _restamp(self) -> None:
        """Marks that the schedule changed, so every cached catalog is read afresh."""
        await self.session.execute(
            update(BusinessRow).where(BusinessRow.id == BUSINESS_ID).values(stamp=uuid4().hex))
        self.stamp = None

    async def business(self) -> Business | None:
        """The business defaults, or None before anything was imported."""
        return (await self.catalog()).business

    async def save_business(self, business: Business) -> bool:
        """Writes the business defaults; tells whether anything changed."""
        before = await self.business()
        if before == business:
            return False
        if before is not None:
            inheriting = []
            if before.timezone != business.timezone:
                inheriting.append(SpecialistRow.timezone.is_(None))
            if before.holidays != business.holidays:
                inheriting.append(SpecialistRow.holidays.is_(None))
            if inheriting:
                for specialist in await self.session.scalars(
                        select(SpecialistRow.id).where(or_(*inheriting))):
                    self.days.schedule_changed(specialist)
        row = await self.session.get(BusinessRow, BUSINESS_ID) or BusinessRow(id=BUSINESS_ID)
        row.timezone = business.timezone
        row.min_notice_minutes = _minutes(business.rules.min_notice)
        row.horizon_days = business.rules.horizon_days
        row.holidays = ",".join(business.holidays)
        row.stamp = uuid4().hex
        self.stamp = None
        self.session.add(row)
        await self.session.flush()
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
        if row and _service(row) == service and row.position == position:
            return False
        row = row or ServiceRow(id=service.id, business_id=BUSINESS_ID)
        row.name = service.name
        row.duration_minutes = _minutes(service.duration) if service.duration else None
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
            s for s in found
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
        for chunk in _chunks(ids):
            for offer in await self.session.scalars(
                select(OfferRow).where(OfferRow.specialist_id.in_(chunk)).order_by(
                    OfferRow.position)
            ):
                offers[offer.specialist_id].append(offer.service_id)
            for line in await self.session.scalars(
                select(WeeklyRow).where(WeeklyRow.specialist_id.in_(chunk)).order_by(
                    WeeklyRow.position, WeeklyRow.id)
            ):
                weekly[line.specialist_id].append(_weekly(line))
            for line in await self.session.scalars(
                select(OverrideRow).where(OverrideRow.specialist_id.in_(chunk)).order_by(
                    OverrideRow.id)
            ):
                overrides[line.specialist_id].append(_override(line))
            for line in await self.session.scalars(
                select(BlockRow).where(BlockRow.specialist_id.in_(chunk)).order_by(
                    BlockRow.id)
            ):
                blocks[line.specialist_id].append(Block(line.start_at, line.end_at, line.reason))
        return [
            Specialist(
                id=row.id,
                name=row.name,
                services=tuple(offers[row.id]),
                weekly=tuple(weekly[row.id]),
                overrides=tuple(overrides[row.id]),
                blocks=tuple(blocks[row.id]),
                timezone=row.timezone,
                holidays=_codes(row.holidays),
                telegram_id=row.telegram_id,
            )
            for row in rows
        ]

    async def save_specialist(self, specialist: Specialist, position: int) -> bool:
        """Creates or updates a specialist by id, schedule included; tells whether it changed."""
        return bool(await self.save_specialists([(specialist, position)]))

    async def save_specialists(self, items: Sequence[tuple[Specialist, int]]) -> int:
        """Creates or updates specialists by id, with their places; returns how many changed.

        Writes in bulk, so a file of thousands imports in seconds.
        """
        ids = [specialist.id for specialist, _ in items]
        rows: dict[str, SpecialistRow] = {}
        for chunk in _chunks(ids):
            rows.update((row.id, row) for row in await self.session.scalars(
                select(SpecialistRow).where(SpecialistRow.id.in_(chunk))))
        before = {s.id: s for s in await self._assemble(list(rows.values()))}
        changed = [(specialist, position) for specialist, position in items
                   if specialist.id not in rows or rows[specialist.id].position != position
                   or before[specialist.id] != specialist]
        if not changed:
            return 0
        await self._restamp()
        await self._unlink_moved(rows, [specialist for specialist, _ in changed])
        for specialist, position in changed:
            row = rows.get(specialist.id) or SpecialistRow(id=specialist.id,
                                                           business_id=BUSINESS_ID)
            row.name = specialist.name
            row.timezone = specialist.timezone
            row.holidays = None if specialist.holidays is None else (
                ",".join(specialist.holidays) or NO_CALENDAR)
            row.telegram_id = specialist.telegram_id
            row.position = position
            self.session.add(row)
            self._note_schedule(before.get(specialist.id), specialist)
        await self.session.flush()
        changed_ids = [specialist.id for specialist, _ in changed]
        for chunk in _chunks(changed_ids):
            for table in (OfferRow, WeeklyRow, OverrideRow, BlockRow):
                await self.session.execute(delete(table).where(table.specialist_id.in_(chunk)))
        offers, weekly, overrides, blocks = [], [], [], []
        for specialist, _ in changed:
            offers += [{"specialist_id": specialist.id, "service_id": service, "position": i}
                       for i, service in enumerate(specialist.services)]
            weekly += [{"specialist_id": specialist.id, "position": i,
                        "days": ",".join(WEEKDAYS[d] for d in sorted(entry.days)),
                        "valid_from": entry.valid_from, "valid_until": entry.valid_until,
                        **_hours_values(entry.hours)}
                       for i, entry in enumerate(specialist.weekly)]
            overrides += [{"specialist_id": specialist.id, "type": str(o.type), "first": o.first,
                           "last": o.last, "reason": o.reason, **_hours_values(o.hours)}
                          for o in specialist.overrides]
            blocks += [{"specialist_id": specialist.id, "start_at": b.start, "end_at": b.end,
                        "reason": b.reason} for b in specialist.blocks]
        for table, values in ((OfferRow, offers), (WeeklyRow, weekly), (OverrideRow, overrides),
                              (BlockRow, blocks)):
            await add_rows(self.session, table.__table__, values)
        return len(changed)

    async def _unlink_moved(self, rows: dict[str, SpecialistRow],
                            changed: list[Specialist]) -> None:
        """Clears the Telegram ids these specialists give up, before any is given to another.

        Telegram ids are unique, and checked row by row: two specialists trading their
        accounts in one import would otherwise collide halfway.
        """
        moved = [rows[s.id] for s in changed if s.id in rows
                 and rows[s.id].telegram_id not in (None, s.telegram_id)]
        for row in moved:
            row.telegram_id = None
        if moved:
            await self.session.flush()

    async def linked(self, telegram_ids: Sequence[int]) -> dict[int, str]:
        """The specialists these Telegram ids link, by Telegram id."""
        found: dict[int, str] = {}
        for chunk in _chunks(sorted(set(telegram_ids))):  # type: ignore[arg-type]
            found.update((telegram, specialist) for specialist, telegram in (
                await self.session.execute(select(SpecialistRow.id, SpecialistRow.telegram_id)
                                           .where(SpecialistRow.telegram_id.in_(chunk)))))
        return found

    def _note_schedule(self, before: Specialist | None, after: Specialist) -> None:
        """Tells the day index which dates a schedule change touches."""
        if before is None or (before.timezone, before.holidays, before.weekly) != (
                after.timezone, after.holidays, after.weekly):
            self.days.schedule_changed(after.id)
            return
        for override in set(before.overrides) ^ set(after.overrides):
            self.days.dates_changed(after.id, override.first, override.last)
        for block in set(before.blocks) ^ set(after.blocks):
            self.days.busy_changed(after.id, block.start, block.end)

    # -- clients and bookings --------------------------------------------------------------

    async def client_id(self, client: Client) -> int:
        """The id of this client: found by Telegram id, else a new row."""
        row = None
        if client.telegram_id is not None:
            row = await self.session.scalar(
                select(ClientRow).where(ClientRow.telegram_id == client.telegram_id))
        if row is None:
            row = ClientRow(telegram_id=client.telegram_id)
            self.session.add(row)
        row.name = client.name or row.name
        row.phone = client.phone or row.phone
        await self.session.flush()
        return row.id

    async def chat(self, telegram_id: int) -> tuple[Profile, Draft, tuple[str, int] | None]:
        """A user's profile and draft, and the data's version (stamp, counter): what a tap reads.

        One prepared statement; the version keys the views taps share (flow.py).
        """
        found = (await self.session.execute(CHAT, {"telegram_id": telegram_id})).first()
        if found is None:  # nothing imported yet
            return await self.profile(telegram_id), await self.draft(telegram_id), None
        return (Profile(telegram_id, *found[2:5]), Draft(telegram_id, *found[5:8]),
                (found[0], found[1]))

    async def bump(self) -> None:
        """Raises the availability counter: this transaction changed what is free."""
        await self.session.execute(update(BusinessRow).where(BusinessRow.id == BUSINESS_ID)
                                   .values(version=BusinessRow.version + 1))

    async def profile(self, telegram_id: int) -> Profile:
        """What is remembered of a Telegram user (nothing yet is an empty profile)."""
        found = (await self.session.execute(select(*PROFILE).where(
            ClientRow.telegram_id == telegram_id))).first()
        return Profile(telegram_id, *found) if found else Profile(telegram_id)

    async def save_profile(self, profile: Profile) -> None:
        """Remembers a Telegram user's name, phone and language."""
        await self.client_id(Client(profile.name, profile.phone, profile.telegram_id))
        if profile.locale:
            await self.session.execute(update(ClientRow).where(
                ClientRow.telegram_id == profile.telegram_id).values(locale=profile.locale))

    async def draft(self, telegram_id: int) -> Draft:
        """Where this user's booking flow stands."""
        found = (await self.session.execute(select(*DRAFT).where(
            DraftRow.telegram_id == telegram_id))).first()
        return Draft(telegram_id, *found) if found else Draft(telegram_id)

    async def save_draft(self, draft: Draft, now: datetime) -> None:
        """Writes where this user's booking flow stands, in one statement."""
        await self.session.execute(DRAFT_UPSERTS[self.session.bind.dialect.name], {
            "telegram_id": draft.telegram_id, "service": draft.service,
            "specialist": draft.specialist, "rescheduling": draft.rescheduling, "at": now})

    async def overlapping(self, specialists: Sequence[str], since: datetime, until: datetime,
                          live_at: datetime | None = None) -> list[Booking]:
        """Held and confirmed bookings of these specialists that overlap [since, until).

        With `live_at`, only those occupying time then (holds not yet run out). Found by
        index however long the history: live bookings never overlap, so of those starting
        before `since` only the last one can reach into it.
        """
        columns = (BookingRow.specialist_id, BookingRow.service_id, BookingRow.start_at,
                   BookingRow.end_at, BookingRow.status, BookingRow.hold_until)
        earlier = aliased(BookingRow)
        last_before = (select(earlier.id)
                       .where(earlier.specialist_id == SpecialistRow.id,
                              earlier.status.in_(LIVE), earlier.start_at < since)
                       .order_by(earlier.start_at.desc(), earlier.end_at.desc())
                       .limit(1).scalar_subquery())
        found = []
        for chunk in _chunks(sorted(set(specialists))):
            # The status is checked here, not in SQL: SQLite would take the status index.
            starting = select(*columns).where(
                BookingRow.specialist_id.in_(chunk), BookingRow.start_at >= since,
                BookingRow.start_at < until)
            reaching = select(*columns).where(
                BookingRow.id.in_(select(last_before).where(SpecialistRow.id.in_(chunk))),
                BookingRow.end_at > since)
            found += list(await self.session.execute(union_all(starting, reaching)))
        return [Booking(specialist, service, start, end, BookingStatus(status))
                for specialist, service, start, end, status, held in found
                if status in LIVE and (live_at is None or status == BookingStatus.CONFIRMED
                                       or (held is not None and held > live_at))]

    async def bookings(
        self,
        *,
        specialists: Sequence[str] | None = None,
        client: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        live_at: datetime | None = None,
    ) -> list[Booking]:
        """Bookings by start, filtered; with `live_at`, only those occupying time then."""
        query = select(BookingRow, ClientRow).outerjoin(
            ClientRow, ClientRow.id == BookingRow.client_id
        ).order_by(BookingRow.start_at, BookingRow.id)
        if specialists is not None:
            query = query.where(BookingRow.specialist_id.in_(specialists))
        if client is not None:
            query = query.where(ClientRow.telegram_id == client)
        if since is not None:
            query = query.where(BookingRow.end_at > since)
        if until is not None:
            query = query.where(BookingRow.start_at < until)
        if live_at is not None:
            query = query.where(_live(live_at))
        rows = await self.session.execute(query)
        return [_booking(row, client) for row, client in rows]

    async def booking(self, booking_id: int) -> Booking | None:
        """One booking by id."""
        row = await self.session.execute(
            select(BookingRow, ClientRow).outerjoin(ClientRow, ClientRow.id == BookingRow.client_id)
            .where(BookingRow.id == booking_id))
        found = row.first()
        return _booking(*found) if found else None

    async def find_booking(self, specialist: str, start: datetime) -> Booking | None:
        """The booking of a specialist that starts at `start`, live ones first."""
        rows = await self.session.execute(
            select(BookingRow, ClientRow).outerjoin(ClientRow, ClientRow.id == BookingRow.client_id)
            .where(BookingRow.specialist_id == specialist, BookingRow.start_at == start)
            .order_by(BookingRow.status.in_([BookingStatus.CANCELLED]), BookingRow.id))
        found = rows.first()
        return _booking(*found) if found else None

    async def hold_until(self, booking_id: int) -> datetime | None:
        """When a held booking's hold runs out."""
        return await self.session.scalar(
            select(BookingRow.hold_until).where(BookingRow.id == booking_id))

    async def expire_holds(self, now: datetime, client: int | None = None,
                           specialists: Sequence[str] | None = None) -> None:
        """Marks holds whose time ran out (or all of one client's) so they free their slot.

        A writer names the specialists it locked (UnitOfWork.lock): it changes no other's.
        """
        ended = BookingRow.hold_until <= now
        if client is not None:
            owned = select(ClientRow.id).where(ClientRow.telegram_id == client)
            ended = or_(ended, BookingRow.client_id.in_(owned))
        expired = await self.session.execute(
            update(BookingRow)
            .where(BookingRow.status == BookingStatus.HELD, ended,
                   *([] if specialists is None else
                     [BookingRow.specialist_id.in_(specialists)]))
            .values(status=BookingStatus.EXPIRED)
            .returning(BookingRow.specialist_id, BookingRow.start_at, BookingRow.end_at)
        )
        for specialist, start, end in expired:
            self.days.busy_changed(specialist, start, end)

    async def add_booking(self, booking: Booking, now: datetime,
                          hold_until: datetime | None = None) -> Booking:
        """Writes a new booking; the database refuses one that overlaps a live booking."""
        client_id = await self.client_id(booking.client) if booking.client else None
        row = BookingRow(
            id=booking.id, specialist_id=booking.specialist, service_id=booking.service,
            client_id=client_id, start_at=booking.start, end_at=booking.end,
            status=str(booking.status), hold_until=hold_until, created_at=now,
        )
        self.session.add(row)
        await self._flush_or_refuse()
        self.days.busy_changed(booking.specialist, booking.start, booking.end)
        return _booking(row, await self.session.get(ClientRow, client_id) if client_id else None)

    async def import_bookings(self, bookings: Sequence[Booking],
                              offered: Mapping[str, Collection[str]] | None = None) -> int:
        """Adds a file's bookings, or updates the one with the same id (else specialist, start).

        Each booking of the file is matched to one stored booking at most, and no stored
        booking to two of the file's: by id first, then the ones without an id by specialist
        and start among those left. Then it checks, in the order they are written (changes to
        stored bookings, new ones with an id, new ones without, each in file order), that no
        live booking overlaps a live one of its specialist, and raises Invalid naming the
        first that would. Returns how many were added or changed.

        With `offered` (specialist id -> their services), a new live booking without an id
        must be of a service its specialist offers; a stored one, or one with an id (export
        writes them), is a record and is kept whatever the specialist offers now.
        """
        ledger = _Ledger(await self._bookings_like(bookings),
                         [b.id for b in bookings if b.id is not None])
        matched = ledger.resolve(bookings)
        if offered is not None:
            _refuse_not_offered(bookings, matched, offered)
        writes: list[_Entry] = []
        new = [i for i, known in enumerate(matched) if known is None]
        for index in ([i for i, known in enumerate(matched) if known is not None]
                      + [i for i in new if bookings[i].id is not None]
                      + [i for i in new if bookings[i].id is None]):
            booking, known = bookings[index], matched[index]
            if known is None:
                entry = _Entry(booking, booking.id, ledger.next_order(booking.id), stored=False)
            else:
                merged = Booking(booking.specialist, booking.service, booking.start, booking.end,
                                 booking.status, booking.client or known.booking.client,
                                 known.id)
                if merged == known.booking:
                    continue
                entry = _Entry(merged, known.id, known.order, stored=True, before=known.booking,
                               client_id=known.client_id)
                ledger.forget(known)
            if not ledger.fits(entry):
                problem = Problem("error.overlaps_existing", {}, f"bookings[{index}].start")
                raise Invalid([problem])
            ledger.keep(entry)
            writes.append(entry)
        if not writes:
            return 0
        await self._write_bookings(writes)
        for entry in writes:
            if entry.before is not None:
                self.days.busy_changed(entry.before.specialist, entry.before.start,
                                       entry.before.end)
            self.days.busy_changed(entry.booking.specialist, entry.booking.start,
                                   entry.booking.end)
        for specialist in {b.specialist for b in bookings}:  # all of theirs were read
            self.days.busy_known(specialist, ledger.live_bookings(specialist))
        return len(writes)

    async def _write_bookings(self, writes: list[_Entry]) -> None:
        """Updates the stored ones and adds the rest: those with ids first, then the others.

        PostgreSQL's id sequence does not see ids given explicitly, so it is moved past them
        before the database numbers the others (and every booking made later).
        """
        await self._client_ids(writes)
        changed = [e for e in writes if e.stored]
        added = [e for e in writes if not e.stored]
        try:
            for i in range(0, len(changed), WRITE_CHUNK):
                await self.session.execute(update(BookingRow), [
                    _booking_values(e) for e in changed[i : i + WRITE_CHUNK]])
            for with_id in (True, False):
                batch = [e for e in added if (e.id is not None) == with_id]
                for i in range(0, len(batch), WRITE_CHUNK):
                    rows = [{**_booking_values(e), "created_at": e.booking.start,
                             "hold_until": None} for e in batch[i : i + WRITE_CHUNK]]
                    for row in rows if not with_id else []:
                        del row["id"]
                    await add_rows(self.session, BookingRow.__table__, rows)
                if with_id and batch:
                    await self._ids_after_explicit()
        except IntegrityError as error:
            if "bookings_no_overlap" not in str(error.orig):
                raise
            raise Invalid([Problem("error.overlaps_existing", {}, "bookings")]) from None

    async def _ids_after_explicit(self) -> None:
        """Moves PostgreSQL's booking id sequence past every id stored (never backwards)."""
        if self.session.bind.dialect.name != "postgresql":
            return  # SQLite numbers a new row after the largest id there is
        sequence = await self.session.scalar(
            sql_text("SELECT pg_get_serial_sequence('bookings', 'id')"))
        await self.session.execute(sql_text(
            f"SELECT setval(CAST(:sequence AS regclass), GREATEST("
            f"(SELECT COALESCE(MAX(id), 1) FROM bookings), (SELECT last_value FROM {sequence})))"
        ), {"sequence": sequence})

    async def _bookings_like(self, bookings: Sequence[Booking]) -> list[_Entry]:
        """Stored bookings of the same specialists or ids, with their clients."""
        query = select(BookingRow.id, BookingRow.specialist_id, BookingRow.service_id,
                       BookingRow.start_at, BookingRow.end_at, BookingRow.status,
                       BookingRow.client_id, ClientRow.name, ClientRow.phone,
                       ClientRow.telegram_id).outerjoin(
            ClientRow, ClientRow.id == BookingRow.client_id)
        found: dict[int, _Entry] = {}
        specialists = sorted({b.specialist for b in bookings})
        ids = sorted({b.id for b in bookings if b.id is not None})
        wheres = [BookingRow.specialist_id.in_(chunk) for chunk in _chunks(specialists)]
        wheres += [BookingRow.id.in_(chunk) for chunk in _chunks(ids)]  # type: ignore[arg-type]
        for where in wheres:
            for (row_id, specialist, service, start, end, status, client_id, name, phone,
                 telegram) in await self.session.execute(query.where(where)):
                client = Client(name, phone, telegram) if client_id is not None else None
                found[row_id] = _Entry(Booking(specialist, service, start, end,
                                               BookingStatus(status), client, row_id),
                                       row_id, row_id, stored=True, client_id=client_id)
        return list(found.values())

    async def _client_ids(self, writes: list[_Entry]) -> None:
        """Finds or creates the clients of written bookings, as `client_id` would one by one."""
        telegram = sorted({e.booking.client.telegram_id for e in writes
                           if e.booking.client and e.booking.client.telegram_id is not None})
        known: dict[int, ClientRow] = {}
        for chunk in _chunks(telegram):  # type: ignore[arg-type]
            known.update((row.telegram_id, row) for row in await self.session.scalars(
                select(ClientRow).where(ClientRow.telegram_id.in_(chunk))))
        anonymous: list[_Entry] = []
        for entry in writes:
            client = entry.booking.client
            if client is None:
                continue
            if client.telegram_id is None:
                anonymous.append(entry)
                continue
            row = known.get(client.telegram_id)
            if row is None:
                row = known[client.telegram_id] = ClientRow(telegram_id=client.telegram_id)
                self.session.add(row)
            row.name = client.name or row.name
            row.phone = client.phone or row.phone
        await self.session.flush()
        for entry in writes:
            client = entry.booking.client
            if client is not None and client.telegram_id is not None:
                entry.client_id = known[client.telegram_id].id
        if anonymous:
            made = await self.session.scalars(
                insert(ClientRow).returning(ClientRow.id, sort_by_parameter_order=True),
                [{"name": e.booking.client.name, "phone": e.booking.client.phone}  # type: ignore[union-attr]
                 for e in anonymous])
            for entry, client_id in zip(anonymous, made, strict=True):
                entry.client_id = client_id

    async def update_booking(self, booking: Booking) -> None:
        """Writes a booking's times, status and client back by id."""
        row = await self.session.get(BookingRow, booking.id)
        assert row is not None
        self.days.busy_changed(row.specialist_id, row.start_at, row.end_at)
        self.days.busy_changed(booking.specialist, booking.start, booking.end)
        row.service_id = booking.service
        row.specialist_id = booking.specialist
        row.start_at, row.end_at, row.status = booking.start, booking.end, str(booking.status)
        if booking.client:
            row.client_id = await self.client_id(booking.client)
        await self._flush_or_refuse()

    async def set_status(self, booking_id: int, status: BookingStatus, at: datetime,
                         by: str | None = None, reason: str | None = None) -> None:
        """Moves a booking to a new status, recording who cancelled it and why."""
        row = await self.session.get(BookingRow, booking_id)
        assert row is not None
        self.days.busy_changed(row.specialist_id, row.start_at, row.end_at)
        row.status = str(status)
        if status == BookingStatus.CANCELLED:
            row.cancelled_at, row.cancelled_by, row.cancel_reason = at, by, reason
        if status == BookingStatus.CONFIRMED:
            row.hold_until = None
        await self._flush_or_refuse()

    async def _flush_or_refuse(self) -> None:
        try:
            await self.session.flush()
        except IntegrityError as error:
            if "bookings_no_overlap" in str(error.orig):
                raise Refused("refused.taken") from None
            raise


class Outbox:
    """The outbox table: messages owed, claimed by one sender at a time."""

    LEASE = timedelta(minutes=2)

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, kind: str, chat_id: int, due_at: datetime, now: datetime,
                  booking_id: int | None = None, payload: dict | None = None) -> None:
        """Records a message owed; it goes out when due, from the same committed transaction."""
        self.session.add(OutboxRow(
            kind=kind, chat_id=chat_id, booking_id=booking_id, due_at=due_at,
            payload=json.dumps(payload or {}, ensure_ascii=False), status="pending",
            attempts=0, created_at=now))
        await self.session.flush()

    async def drop(self, booking_id: int, now: datetime, kinds: Sequence[str]) -> None:
        """Drops the unsent messages of these kinds about a booking (it was cancelled or moved)."""
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.booking_id == booking_id, OutboxRow.kind.in_(kinds),
                   OutboxRow.status.in_(("pending", "claimed")))
            .values(status="dropped", error="booking changed", sent_at=now))

    async def claim(self, now: datetime, limit: int, per_chat: int) -> list[Message]:
        """Takes due rows for this sender: pending ones, and claims whose lease ran out.

        At most `per_chat` of one chat's, its soonest. Rows to a chat Telegram told to
        wait stay where they are. PostgreSQL skips rows another sender has locked;
        SQLite's immediate transaction already makes this the only writer. A claim is no
        attempt: `attempts` counts errors only.
        """
        waiting = select(FloodWaitRow.chat_id).where(FloodWaitRow.chat_id == OutboxRow.chat_id,
                                                     FloodWaitRow.until > now)
        ranked = (select(OutboxRow.id, OutboxRow.due_at, func.row_number().over(
                      partition_by=OutboxRow.chat_id,
                      order_by=(OutboxRow.due_at, OutboxRow.id)).label("rank"))
                  .where(OutboxRow.due_at <= now, or_(
                      OutboxRow.status == "pending",
                      and_(OutboxRow.status == "claimed", OutboxRow.claimed_until <= now)),
                      ~waiting.exists())
                  .subquery())
        due = (select(ranked.c.id).where(ranked.c.rank <= per_chat)
               .order_by(ranked.c.due_at, ranked.c.id).limit(limit))
        if self.session.bind.dialect.name == "postgresql":
            # FOR UPDATE cannot share a query with a window function: lock in an outer one.
            due = (select(OutboxRow.id).where(OutboxRow.id.in_(due))
                   .order_by(OutboxRow.due_at, OutboxRow.id).with_for_update(skip_locked=True))
        ids = list(await self.session.scalars(due))
        if not ids:
            return []
        await self.session.execute(
            update(OutboxRow).where(OutboxRow.id.in_(ids))
            .values(status="claimed", claimed_until=now + self.LEASE))
        rows = await self.session.scalars(
            select(OutboxRow).where(OutboxRow.id.in_(ids)).order_by(OutboxRow.due_at,
                                                                     OutboxRow.id))
        return [Message(r.id, r.kind, r.chat_id, r.booking_id, json.loads(r.payload), r.due_at,
                        r.attempts) for r in rows]

    async def finish(self, message_id: int, status: str, now: datetime,
                     error: str | None = None, *, attempt: bool = False) -> None:
        """Marks a claimed row sent, dropped or failed (`attempt`: after an error, counted)."""
        await self.session.execute(
            update(OutboxRow).where(OutboxRow.id == message_id)
            .values(status=status, sent_at=now, error=error, claimed_until=None,
                    attempts=OutboxRow.attempts + int(attempt)))

    async def postpone(self, message_id: int, due_at: datetime, error: str, *,
                       attempt: bool = False) -> None:
        """Puts a claimed row back to wait until `due_at`.

        `attempt` counts a failed try (a passing error); a flood wait is none.
        """
        await self.session.execute(
            update(OutboxRow).where(OutboxRow.id == message_id)
            .values(status="pending", due_at=due_at, error=error, claimed_until=None,
                    attempts=OutboxRow.attempts + int(attempt)))

    async def wait_out(self, chat_id: int, until: datetime, now: datetime) -> None:
        """Writes down that Telegram told a chat to wait until `until`; the later wait wins.

        Waits that are over are swept away here, the only place that adds one.
        """
        await self.session.execute(delete(FloodWaitRow).where(FloodWaitRow.until <= now))
        insert_into = pg_insert if self.session.bind.dialect.name == "postgresql" else sqlite_insert
        asked = insert_into(FloodWaitRow).values(chat_id=chat_id, until=until)
        later = case((asked.excluded.until > FloodWaitRow.until, asked.excluded.until),
                     else_=FloodWaitRow.until)
        await self.session.execute(asked.on_conflict_do_update(
            index_elements=[FloodWaitRow.chat_id], set_={"until": later}))

    async def waiting(self, chat_id: int, now: datetime) -> datetime | None:
        """Until when a chat must still wait (a 429 any sender got), or None."""
        return await self.session.scalar(select(FloodWaitRow.until).where(
            FloodWaitRow.chat_id == chat_id, FloodWaitRow.until > now))

    async def unreachable(self, chat_id: int) -> None:
        """Marks a client who blocked the bot, and drops what is still owed to them."""
        await self.session.execute(
            update(ClientRow).where(ClientRow.telegram_id == chat_id).values(unreachable=True))
        await self.session.execute(
            update(OutboxRow).where(OutboxRow.chat_id == chat_id,
                                    OutboxRow.status == "pending")
            .values(status="failed", error="blocked by the user"))

    async def counts(self) -> dict[str, int]:
        """How many rows are in each status."""
        rows = await self.session.execute(
            select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
        return dict(rows.all())


@dataclass(slots=True)
class _Entry:
    """A booking of an import: stored, or written by it; `order` is its id's place."""

    booking: Booking
    id: int | None
    order: int  # unique in a ledger: the id, or for a new booking without one, past them all
    stored: bool  # its row exists already
    before: Booking | None = None  # what the stored row held before this import changed it
    client_id: int | None = None
    interval: tuple[datetime, datetime, int] = field(init=False)  # UTC start, end, order

    def __post_init__(self) -> None:
        self.interval = (absolute(self.booking.start), absolute(self.booking.end), self.order)

    @property
    def key(self) -> tuple[str, datetime]:
        return self.booking.specialist, self.interval[0]


class _Ledger:
    """Stored and imported bookings by id, by specialist and start, and the live ones in order.

    Live bookings of one specialist never overlap, so a new one fits when its neighbours
    by start do not reach into it.
    """

    def __init__(self, stored: list[_Entry], named: list[int]) -> None:
        self.by_id = {e.id: e for e in stored}
        self.by_key: dict[tuple[str, datetime], list[_Entry]] = defaultdict(list)
        self.live: dict[str, list[tuple[datetime, datetime, int]]] = defaultdict(list)
        self.by_order: dict[int, _Entry] = {}
        # New bookings without an id are placed past every id stored or named in the file,
        # so none takes the place of an id the file names further down.
        self.last_order = max([e.order for e in stored] + named, default=0)
        for entry in stored:
            self.keep(entry)

    def next_order(self, explicit: int | None) -> int:
        """The place of a new booking's id: its own, else one past every id so far."""
        if explicit is not None:
            return explicit
        self.last_order += 1
        return self.last_order

    def resolve(self, bookings: Sequence[Booking]) -> list[_Entry | None]:
        """The stored booking each of these updates, or None for a new one; none taken twice.

        Ids claim theirs first. A booking without an id takes, among the stored ones at its
        specialist and start that no other booking of the file took, the one with its
        status, else a live one, else the lowest id. Two bookings with one id raise Invalid.
        """
        found: list[_Entry | None] = [None] * len(bookings)
        named: set[int] = set()
        for index, booking in enumerate(bookings):
            if booking.id is None:
                continue
            if booking.id in named:
                raise Invalid([Problem("error.duplicate_id", {"id": booking.id},
                                       f"bookings[{index}].id")])
            named.add(booking.id)
            found[index] = self.by_id.get(booking.id)
        taken = {entry.order for entry in found if entry is not None}
        for index, booking in enumerate(bookings):
            if booking.id is not None:
                continue
            free = [e for e in self.by_key.get((booking.specialist, absolute(booking.start)), [])
                    if e.order not in taken]
            best = min(free, default=None, key=lambda e: (
                e.booking.status != booking.status, not e.booking.live, e.order))
            if best is not None:
                found[index] = best
                taken.add(best.order)
        return found

    def fits(self, entry: _Entry) -> bool:
        """Tells whether a booking overlaps no live booking of its specialist."""
        if not entry.booking.live:
            return True
        line = self.live[entry.booking.specialist]
        start, end, _ = entry.interval
        i = bisect_left(line, (start,))
        return not ((i > 0 and line[i - 1][1] > start) or (i < len(line) and line[i][0] < end))

    def keep(self, entry: _Entry) -> None:
        if entry.id is not None:
            self.by_id[entry.id] = entry
        self.by_key[entry.key].append(entry)
        if entry.booking.live:
            insort(self.live[entry.booking.specialist], entry.interval)
            self.by_order[entry.order] = entry

    def live_bookings(self, specialist: str) -> list[Booking]:
        """The live bookings of a specialist, as the import leaves them."""
        return [self.by_order[order].booking for _, _, order in self.live[specialist]]

    def forget(self, entry: _Entry) -> None:
        self.by_key[entry.key].remove(entry)
        if entry.booking.live:
            self.live[entry.booking.specialist].remove(entry.interval)


def _refuse_not_offered(bookings: Sequence[Booking], matched: list[_Entry | None],
                        offered: Mapping[str, Collection[str]]) -> None:
    """Raises Invalid naming every new live booking of a service its specialist does not offer."""
    problems = [
        Problem("error.not_offered_by", {"service": booking.service,
                                         "specialist": booking.specialist},
                f"bookings[{index}].service")
        for index, (booking, known) in enumerate(zip(bookings, matched, strict=True))
        if known is None and booking.id is None and booking.live
        and booking.service not in offered.get(booking.specialist, ())
    ]
    if problems:
        raise Invalid(problems)


def _booking_values(entry: _Entry) -> dict:
    booking = entry.booking
    return {"id": entry.id, "specialist_id": booking.specialist, "service_id": booking.service,
            "client_id": entry.client_id, "start_at": booking.start, "end_at": booking.end,
            "status": str(booking.status)}


def _live(now: datetime):  # type: ignore[no-untyped-def]
    """Rows that occupy time at `now`: confirmed, or held and not yet run out."""
    return or_(
        BookingRow.status == BookingStatus.CONFIRMED,
        and_(BookingRow.status == BookingStatus.HELD, BookingRow.hold_until > now),
    )


def _chunks(ids: list[str], size: int = 900) -> Iterable[list[str]]:
    """Splits ids so an IN list stays under SQLite's parameter limit."""
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _minutes(value: timedelta) -> int:
    return int(value.total_seconds() // 60)


def _codes(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    if text in ("", NO_CALENDAR):
        return ()
    return tuple(text.split(","))


def _service(row: ServiceRow) -> Service:
    duration = timedelta(minutes=row.duration_minutes) if row.duration_minutes else None
    return Service(row.id, row.name, duration)


def _hours(row: HoursColumns) -> Hours:
    return Hours(
        slot=timedelta(minutes=row.slot_minutes),
        start=row.start,
        end=row.end,
        times=tuple(time.fromisoformat(t) for t in row.times.split(",") if t),
        break_after=timedelta(minutes=row.break_minutes),
    )


def _hours_values(hours: Hours | None) -> dict:
    if hours is None:
        return {"start": None, "end": None, "times": "", "slot_minutes": 60, "break_minutes": 0}
    return {"start": hours.start, "end": hours.end,
            "times": ",".join(t.strftime("%H:%M") for t in hours.times),
            "slot_minutes": _minutes(hours.slot), "break_minutes": _minutes(hours.break_after)}


def _weekly(row: WeeklyRow) -> WeeklyEntry:
    days = frozenset(WEEKDAYS.index(day) for day in row.days.split(","))
    return WeeklyEntry(days, _hours(row), row.valid_from, row.valid_until)


def _override(row: OverrideRow) -> Override:
    kind = OverrideType(row.type)
    hours = _hours(row) if kind in (OverrideType.CUSTOM_HOURS, OverrideType.EXTRA_SLOTS) else None
    return Override(kind, row.first, row.last, hours, row.reason)


def _booking(row: BookingRow, client: ClientRow | None) -> Booking:
    return Booking(
        specialist=row.specialist_id,
        service=row.service_id,
        start=row.start_at,
        end=row.end_at,
        status=BookingStatus(row.status),
        client=Client(client.name, client.phone, client.telegram_id) if client else None,
        id=row.id,
    )
