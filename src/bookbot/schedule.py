"""Use cases of admins and specialists: roles, invites, schedule changes, agendas.

Values in, values out: the bot parses the arguments and renders the answers. Every
schedule change goes through the engine (engine/changes.py), is checked by the same rules
as the clinic file, and is written with Store.save_specialist, so `bookbot export` shows
it. A change that would cancel live bookings is kept in the database until its asker
confirms it; then the change, the cancellations and the clients' notices are written in
one transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from bookbot.engine import changes, search, validate
from bookbot.engine.bookings import SPECIALIST, may_ask_reason
from bookbot.engine.intervals import ONE_DAY, absolute
from bookbot.engine.model import (
    Block,
    Booking,
    BookingStatus,
    Business,
    Hours,
    Interval,
    Override,
    Service,
    Slot,
    Specialist,
    WeeklyEntry,
)
from bookbot.engine.workday import CLOSING, Plan, calendar_exists, zone
from bookbot.errors import BadInput, Invalid, Refused
from bookbot.notify import messages
from bookbot.services.basics import require_business
from bookbot.services.bookings import cancel
from bookbot.services.owed import owe_cancelled
from bookbot.services.visits import Visit, named
from bookbot.store.db import Database
from bookbot.store.people import Invite, PendingChange, People
from bookbot.store.repository import Store
from bookbot.store.uow import UnitOfWork, retried

INVITE_TTL = timedelta(days=7)
PENDING_TTL = timedelta(days=1)
REASON_TTL = timedelta(hours=1)

DAY_OFF, VACATION, HOURS, EXTRA = "dayoff", "vacation", "hours", "extra"
BLOCK, UNBLOCK, HOLIDAYS, WEEKLY = "block", "unblock", "holidays", "weekly"
KINDS = (DAY_OFF, VACATION, HOURS, EXTRA, BLOCK, UNBLOCK, HOLIDAYS, WEEKLY)
# What a linked specialist may change of their own schedule; the rest is for admins.
SPECIALIST_CHANGES = frozenset({DAY_OFF, VACATION, HOURS, EXTRA, BLOCK, UNBLOCK})


@dataclass(frozen=True)
class Actor:
    """Who is asking: their Telegram id, whether they are an admin, their specialist id."""

    telegram_id: int
    admin: bool = False
    specialist: str | None = None

    @property
    def staff(self) -> bool:
        """Tells whether this person is more than a client."""
        return self.admin or self.specialist is not None


@dataclass(frozen=True)
class Directory:
    """Specialist ids with their zones and names, and the business zone: what parsing needs."""

    timezone: str
    zones: dict[str, str]
    names: dict[str, str]


@dataclass(frozen=True)
class Change:
    """One schedule change as asked for; kept as JSON while it waits for confirmation."""

    kind: str
    specialist: str
    first: date | None = None
    last: date | None = None
    start: time | None = None
    end: time | None = None
    times: tuple[time, ...] = ()
    slot: timedelta | None = None
    break_after: timedelta = timedelta(0)
    days: frozenset[int] = frozenset()
    calendars: tuple[str, ...] = ()
    reason: str | None = None

    def as_json(self) -> dict:
        """The change as JSON-ready values."""
        return {
            "kind": self.kind,
            "specialist": self.specialist,
            "first": _iso(self.first),
            "last": _iso(self.last),
            "start": _hhmm(self.start),
            "end": _hhmm(self.end),
            "times": [_hhmm(t) for t in self.times],
            "slot": None if self.slot is None else _minutes(self.slot),
            "break_after": _minutes(self.break_after),
            "days": sorted(self.days),
            "calendars": list(self.calendars),
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: dict) -> Change:
        """The change written by `as_json`."""
        return cls(
            kind=data["kind"],
            specialist=data["specialist"],
            first=date.fromisoformat(data["first"]) if data.get("first") else None,
            last=date.fromisoformat(data["last"]) if data.get("last") else None,
            start=time.fromisoformat(data["start"]) if data.get("start") else None,
            end=time.fromisoformat(data["end"]) if data.get("end") else None,
            times=tuple(time.fromisoformat(t) for t in data.get("times", [])),
            slot=None if data.get("slot") is None else timedelta(minutes=data["slot"]),
            break_after=timedelta(minutes=data.get("break_after", 0)),
            days=frozenset(data.get("days", [])),
            calendars=tuple(data.get("calendars", [])),
            reason=data.get("reason"),
        )


@dataclass(frozen=True)
class Outcome:
    """What a change did: applied (cancelling `displaced`), or waiting as `pending` to confirm."""

    change: Change
    specialist: Specialist
    displaced: tuple[Visit, ...] = ()
    pending: int | None = None
    removed: Block | None = None  # the block an unblock took away


@dataclass(frozen=True)
class DayView:
    """One day of a specialist as it stands: closed or not, hours, bookings, blocks, free slots."""

    day: date
    closed: Override | None
    holiday: bool
    windows: tuple[Interval, ...]
    bookings: tuple[Visit, ...]
    blocks: tuple[Block, ...]
    free: tuple[Slot, ...]


@dataclass(frozen=True)
class View:
    """A specialist's days first..last, times on their wall clock."""

    specialist: Specialist
    days: tuple[DayView, ...]


@dataclass(frozen=True)
class Linked:
    """A specialist just linked to a Telegram account, and the account it replaced, if any."""

    specialist: Specialist
    previous: int | None


@dataclass(frozen=True)
class Menu:
    """One person's roles now, and the signature of the command menu last set in their chat."""

    actor: Actor
    shown: str | None


# -- who is asking -----------------------------------------------------------------------


async def who(db: Database, telegram_id: int, admins: frozenset[int]) -> Actor:
    """The roles of a Telegram user: admin by setting or promotion, specialist by link."""
    async with UnitOfWork(db, write=False) as uow:
        return await _roles(uow, telegram_id, admins)


async def _roles(uow: UnitOfWork, telegram_id: int, admins: frozenset[int]) -> Actor:
    """`who`, within a unit of work already open."""
    admin = telegram_id in admins or await People(uow.session).is_admin(telegram_id)
    linked = await uow.store.specialists(linked=telegram_id)
    return Actor(telegram_id, admin, linked[0].id if linked else None)


async def menu(db: Database, telegram_id: int, admins: frozenset[int]) -> Menu:
    """A person's roles and the menu their chat shows, read together."""
    async with UnitOfWork(db, write=False) as uow:
        return Menu(
            await _roles(uow, telegram_id, admins), await People(uow.session).menu(telegram_id)
        )


async def menus(db: Database, admins: frozenset[int]) -> list[Menu]:
    """Everyone whose chat should or does show a menu of its own: staff, and former staff."""
    async with UnitOfWork(db, write=False) as uow:
        people = People(uow.session)
        promoted = set(await people.admins())
        shown = await people.menus()
        linked = {
            s.telegram_id: s.id for s in await uow.store.specialists() if s.telegram_id is not None
        }
    ids = sorted(set(admins) | promoted | set(linked) | set(shown))
    return [Menu(Actor(i, i in admins or i in promoted, linked.get(i)), shown.get(i)) for i in ids]


async def menu_set(db: Database, now: datetime, telegram_id: int, signature: str | None) -> None:
    """Records the menu just set in a person's chat (None: the clients' default)."""
    async with UnitOfWork(db) as uow:
        await People(uow.session).set_menu(telegram_id, signature, now)
        await uow.commit()


async def directory(db: Database) -> Directory:
    """Specialist ids with their zones and names."""
    async with UnitOfWork(db, write=False) as uow:
        business = await require_business(uow.store)
        found = await uow.store.specialists()
    return Directory(
        business.timezone, {s.id: s.zone(business) for s in found}, {s.id: s.name for s in found}
    )


def _require_admin(actor: Actor) -> None:
    if not actor.admin:
        raise Refused("admin.not_allowed")


async def _target(store: Store, actor: Actor, specialist_id: str) -> tuple[Business, Specialist]:
    """The business and a specialist this actor may see and change, or why not."""
    business = await require_business(store)
    if not actor.admin:
        if actor.specialist is None:
            raise Refused("admin.not_allowed")
        if specialist_id != actor.specialist:
            raise Refused("admin.not_yours")
    found = await store.specialist(specialist_id)
    if found is None:
        raise BadInput("error.unknown_specialist", id=specialist_id)
    return business, found


# -- schedule changes --------------------------------------------------------------------


@retried
async def change(db: Database, now: datetime, actor: Actor, asked: Change) -> Outcome:
    """Applies a schedule change; one that would cancel live bookings waits to be confirmed."""
    if asked.kind not in SPECIALIST_CHANGES:
        _require_admin(actor)
    async with UnitOfWork(db) as uow:
        await uow.lock(specialists=[asked.specialist])
        business, before = await _target(uow.store, actor, asked.specialist)
        after, asked, removed = _apply(business, before, asked)
        await _check(uow.store, after)
        hit = await _displaced(uow.store, now, business, before, after)
        confirmed = [b for b in hit if b.status == BookingStatus.CONFIRMED]
        if confirmed:
            pending = await People(uow.session).add_pending(
                actor.telegram_id,
                before.id,
                {"change": asked.as_json(), "shown": [b.id for b in confirmed]},
                now,
                now + PENDING_TTL,
            )
            shown = tuple([await named(uow.store, b) for b in confirmed])
            await uow.commit()
            return Outcome(asked, before, shown, pending, removed)
        await _write(uow, now, actor, after, hit, asked.reason)
        await uow.commit()
    return Outcome(asked, after, (), None, removed)


@retried
async def confirm(db: Database, now: datetime, actor: Actor, pending_id: int) -> Outcome:
    """Applies a change its asker confirmed, cancelling the bookings it displaces.

    The change, the cancellations and the notices the clients are owed (with the soonest
    alternatives) are one transaction. If more bookings would be hit than were shown, the
    change is refused, so nobody's booking is cancelled without being listed first.
    """
    async with UnitOfWork(db) as uow:
        people = People(uow.session)
        pending = await _pending(people, now, actor, pending_id)
        asked = Change.from_json(pending.change["change"])
        if asked.kind not in SPECIALIST_CHANGES:
            _require_admin(actor)
        await uow.lock(specialists=[asked.specialist])
        business, before = await _target(uow.store, actor, asked.specialist)
        after, asked, removed = _apply(business, before, asked)
        await _check(uow.store, after)
        hit = await _displaced(uow.store, now, business, before, after)
        confirmed = [b for b in hit if b.status == BookingStatus.CONFIRMED]
        if not {b.id for b in confirmed} <= set(pending.change["shown"]):
            raise Refused("admin.pending_stale")
        cancelled = tuple([await named(uow.store, b) for b in confirmed])
        if not await people.settle(pending_id, "applied", now):  # a second tap loses here
            raise Refused("admin.pending_settled")
        await _write(uow, now, actor, after, hit, asked.reason)
        await uow.commit()
    return Outcome(asked, after, cancelled, None, removed)


@retried
async def keep(db: Database, now: datetime, actor: Actor, pending_id: int) -> Change:
    """Drops a change waiting for confirmation: nothing is written, no booking is touched."""
    async with UnitOfWork(db) as uow:
        people = People(uow.session)
        pending = await _pending(people, now, actor, pending_id, expired_ok=True)
        await people.settle(pending_id, "kept", now)
        await uow.commit()
    return Change.from_json(pending.change["change"])


async def _pending(
    people: People, now: datetime, actor: Actor, pending_id: int, expired_ok: bool = False
) -> PendingChange:
    """The asker's own change still waiting for an answer, or why it cannot be answered."""
    found = await people.pending(pending_id)
    if found is None or found.telegram_id != actor.telegram_id:
        raise BadInput("admin.pending_unknown")
    if found.status != "pending":
        raise Refused("admin.pending_settled")
    if found.expires_at <= now and not expired_ok:
        raise Refused("admin.pending_expired")
    return found


def _apply(
    business: Business, before: Specialist, asked: Change
) -> tuple[Specialist, Change, Block | None]:
    """The specialist after the change, the change with defaults filled in, a removed block."""
    tz = before.zone(business)
    slot = asked.slot or changes.shortest_slot(before)
    kind, day = asked.kind, asked.first
    if kind in (HOURS, EXTRA, WEEKLY):
        asked = replace(asked, slot=slot)
    if kind == DAY_OFF and day:
        return changes.day_off(before, day, asked.reason), asked, None
    if kind == VACATION and day and asked.last:
        if asked.last < day:
            raise BadInput(
                "error.range_backwards", first=day.isoformat(), last=asked.last.isoformat()
            )
        return changes.vacation(before, day, asked.last, asked.reason), asked, None
    if kind == HOURS and day and asked.start and asked.end:
        hours = Hours(slot=slot, start=asked.start, end=asked.end, break_after=asked.break_after)
        return changes.custom_hours(before, day, hours), asked, None
    if kind == EXTRA and day and asked.times:
        return changes.extra_slots(before, day, Hours(slot=slot, times=asked.times)), asked, None
    if kind == BLOCK and day and asked.start and asked.end:
        start = changes.wall_instant(day, asked.start, tz)
        end = changes.wall_instant(day, asked.end, tz)
        return changes.block(before, Block(start, end, asked.reason)), asked, None
    if kind == UNBLOCK and day and asked.start:
        removed = changes.covering(before, changes.wall_instant(day, asked.start, tz))
        if removed is None:
            raise BadInput("admin.no_block", day=day.isoformat(), time=_hhmm(asked.start))
        local = replace(
            removed, start=removed.start.astimezone(zone(tz)), end=removed.end.astimezone(zone(tz))
        )
        return changes.unblock(before, removed), asked, local
    if kind == HOLIDAYS:
        for code in asked.calendars:
            if not calendar_exists(code):
                raise BadInput("error.unknown_calendar", value=code)
        return changes.holidays(before, asked.calendars), asked, None
    if kind == WEEKLY and asked.days and asked.start and asked.end:
        hours = Hours(slot=slot, start=asked.start, end=asked.end, break_after=asked.break_after)
        return changes.weekly(before, WeeklyEntry(asked.days, hours)), asked, None
    raise BadInput("admin.bad_change", kind=kind)


async def _check(
    store: Store, specialist: Specialist | None, services: tuple[Service, ...] | None = None
) -> None:
    """Checks a specialist and the catalog by the clinic file's own rules (engine/validate.py)."""
    offered = tuple(await store.services()) if services is None else services
    problems = validate.services(offered)
    if specialist is not None:
        problems += validate.specialist(specialist, {s.id for s in offered}, "specialists[0]")
    if problems:
        raise Invalid(problems)


async def _displaced(
    store: Store, now: datetime, business: Business, before: Specialist, after: Specialist
) -> list[Booking]:
    """Live bookings not yet begun that fit the schedule before the change and not after."""
    coming = await store.bookings(specialists=[before.id], since=now, live_at=now)
    return [b for b in changes.displaced(business, before, after, coming) if b.start > now]


async def _write(
    uow: UnitOfWork,
    now: datetime,
    actor: Actor,
    after: Specialist,
    hit: list[Booking],
    reason: str | None,
) -> None:
    """Saves the changed schedule, cancels what it displaced, and owes the clients notices."""
    position = (await uow.store.positions()).get(after.id, 0)
    await uow.store.save_specialist(after, position)
    by = "specialist" if actor.specialist == after.id and not actor.admin else "admin"
    for found in hit:
        assert found.id is not None
        if found.status == BookingStatus.HELD:  # a hold just lapses; the client sees that
            await uow.store.set_status(found.id, BookingStatus.EXPIRED, now)
            continue
        await uow.store.set_status(found.id, BookingStatus.CANCELLED, now, by, reason)
        await owe_cancelled(uow, found, now, by, reason)


# -- what stands -------------------------------------------------------------------------


async def view(
    db: Database, now: datetime, actor: Actor, specialist_id: str, first: date, last: date
) -> View:
    """A specialist's local days first..last: hours, bookings with clients, blocks, free slots."""
    async with UnitOfWork(db, write=False) as uow:
        business, found = await _target(uow.store, actor, specialist_id)
        tz = zone(found.zone(business))
        since = datetime.combine(first, time(0), tz) - ONE_DAY
        until = datetime.combine(last, time(0), tz) + 2 * ONE_DAY
        busy = await uow.store.bookings(
            specialists=[found.id], since=since, until=until, live_at=now
        )
        held = [await named(uow.store, b) for b in busy if b.status == BookingStatus.CONFIRMED]
    bare = Plan(found.schedule(business))
    plan = Plan(found.schedule(business, busy))
    days = []
    for day in search.dates(first, last):
        closed = next((o for o in found.overrides if o.type in CLOSING and o.covers(day)), None)
        work = bare.work_day(day)
        days.append(
            DayView(
                day=day,
                closed=closed,
                holiday=closed is None and day not in bare.custom and bare.is_holiday(day),
                windows=tuple(Interval(bare.local(s), bare.local(e)) for s, e in work.windows),
                bookings=tuple(h for h in held if h.booking.start.date() == day),
                blocks=tuple(
                    Block(b.start.astimezone(tz), b.end.astimezone(tz), b.reason)
                    for b in found.blocks
                    if b.start.astimezone(tz).date() <= day <= b.end.astimezone(tz).date()
                    and b.end.astimezone(tz) > datetime.combine(day, time(0), tz)
                ),
                free=() if closed else tuple(search.day_slots(plan, day, now, business.rules)),
            )
        )
    return View(found, tuple(days))


async def agenda(
    db: Database, now: datetime, actor: Actor, specialist_id: str | None, first: date, last: date
) -> list[Visit]:
    """Confirmed bookings on local dates first..last, of one specialist or (admins) of all."""
    async with UnitOfWork(db, write=False) as uow:
        if specialist_id is None:
            _require_admin(actor)
            business = await require_business(uow.store)
            ids = None
        else:
            business, found = await _target(uow.store, actor, specialist_id)
            ids = [found.id]
        tz = zone(business.timezone)
        since = datetime.combine(first, time(0), tz) - 2 * ONE_DAY
        until = datetime.combine(last, time(0), tz) + 3 * ONE_DAY
        found_bookings = [
            b
            for b in await uow.store.bookings(specialists=ids, since=since, until=until)
            if b.status == BookingStatus.CONFIRMED
        ]
        visits = [await named(uow.store, b) for b in found_bookings]
    return sorted(
        (h for h in visits if first <= h.booking.start.date() <= last),
        key=lambda h: (absolute(h.booking.start), h.specialist.id),
    )


def today(now: datetime, timezone: str) -> date:
    """The local date in a zone at `now`."""
    return now.astimezone(zone(timezone)).date()


# -- people ------------------------------------------------------------------------------


@retried
async def invite(db: Database, now: datetime, actor: Actor, specialist_id: str) -> Invite:
    """Makes a one-time invite code that links a specialist to whoever opens it (7 days)."""
    _require_admin(actor)
    async with UnitOfWork(db) as uow:
        await _target(uow.store, actor, specialist_id)
        made = Invite(
            secrets.token_urlsafe(9), specialist_id, actor.telegram_id, now, now + INVITE_TTL
        )
        await People(uow.session).add_invite(made)
        await uow.commit()
    return made


@retried
async def link(db: Database, now: datetime, telegram_id: int, code: str) -> Linked:
    """Links the specialist of an unused, unexpired invite to this Telegram account.

    The account it replaces, if any, is owed a notice in the same transaction.
    """
    async with UnitOfWork(db) as uow:
        people = People(uow.session)
        found = await people.invite(code)
        if found is None:
            raise BadInput("admin.invite_unknown")
        if found.used_at is not None:
            raise Refused("admin.invite_used")
        if found.expires_at <= now:
            raise Refused("admin.invite_expired")
        await uow.lock(clients=[telegram_id], specialists=[found.specialist])
        specialist = await uow.store.specialist(found.specialist)
        if specialist is None:
            raise BadInput("admin.invite_unknown")
        other = await uow.store.specialists(linked=telegram_id)
        if other and other[0].id != specialist.id:
            raise Refused("admin.linked_elsewhere", name=other[0].name)
        if not await people.use_invite(code, telegram_id, now):
            raise Refused("admin.invite_used")
        previous = specialist.telegram_id if specialist.telegram_id != telegram_id else None
        linked = replace(specialist, telegram_id=telegram_id)
        await uow.store.save_specialist(linked, (await uow.store.positions()).get(linked.id, 0))
        if previous is not None:
            await messages.unlinked(uow.outbox, previous, linked, now)
        await uow.commit()
    return Linked(linked, previous)


@retried
async def promote(db: Database, now: datetime, actor: Actor, telegram_id: int) -> bool:
    """Makes someone an admin; tells whether they were not one already."""
    _require_admin(actor)
    async with UnitOfWork(db) as uow:
        await uow.lock(clients=[telegram_id])
        added = await People(uow.session).promote(telegram_id, actor.telegram_id, now)
        await uow.commit()
    return added


@retried
async def demote(db: Database, actor: Actor, telegram_id: int, admins: frozenset[int]) -> bool:
    """Takes a promoted admin's role back; tells whether they had it.

    An admin of BOOKBOT_ADMINS stays one: the setting, not the chat, says so.
    """
    _require_admin(actor)
    if telegram_id in admins:
        raise Refused("admin.demote_configured", id=telegram_id)
    async with UnitOfWork(db) as uow:
        await uow.lock(clients=[telegram_id])  # as promote does: the two take turns
        removed = await People(uow.session).demote(telegram_id)
        await uow.commit()
    return removed


# -- the catalog -------------------------------------------------------------------------


@retried
async def add_service(db: Database, actor: Actor, service: Service) -> Service:
    """Adds a service at the end of the list; an id in use is refused."""
    _require_admin(actor)
    async with UnitOfWork(db) as uow:
        await uow.lock_business()
        await require_business(uow.store)
        services = await uow.store.services()
        if any(s.id == service.id for s in services):
            raise BadInput("admin.service_exists", id=service.id)
        await _check(uow.store, None, (*services, service))
        await uow.store.save_service(service, len(services))
        await uow.commit()
    return service


@retried
async def rename_service(db: Database, actor: Actor, service_id: str, name: str) -> Service:
    """Gives a service a new name."""
    _require_admin(actor)
    async with UnitOfWork(db) as uow:
        await uow.lock_business()
        await require_business(uow.store)
        services = await uow.store.services()
        found = next((s for s in services if s.id == service_id), None)
        if found is None:
            raise BadInput("error.unknown_service", id=service_id)
        renamed = replace(found, name=name)
        await uow.store.save_service(renamed, services.index(found))
        await uow.commit()
    return renamed


@retried
async def add_specialist(db: Database, actor: Actor, specialist_id: str, name: str) -> Specialist:
    """Adds a specialist with no hours and no services yet; an id in use is refused."""
    _require_admin(actor)
    async with UnitOfWork(db) as uow:
        await uow.lock(specialists=[specialist_id])
        await require_business(uow.store)
        if await uow.store.specialist(specialist_id) is not None:
            raise BadInput("admin.specialist_exists", id=specialist_id)
        made = Specialist(specialist_id, name)
        await _check(uow.store, made)
        positions = await uow.store.positions()
        await uow.store.save_specialist(made, max(positions.values(), default=-1) + 1)
        await uow.commit()
    return made


@retried
async def rename_specialist(
    db: Database, actor: Actor, specialist_id: str, name: str
) -> Specialist:
    """Gives a specialist a new name."""
    _require_admin(actor)
    async with UnitOfWork(db) as uow:
        await uow.lock(specialists=[specialist_id])
        _, found = await _target(uow.store, actor, specialist_id)
        renamed = replace(found, name=name)
        await uow.store.save_specialist(renamed, (await uow.store.positions()).get(found.id, 0))
        await uow.commit()
    return renamed


@retried
async def offer(
    db: Database, actor: Actor, specialist_id: str, services: tuple[str, ...]
) -> Specialist:
    """Sets which services a specialist offers."""
    _require_admin(actor)
    async with UnitOfWork(db) as uow:
        await uow.lock(specialists=[specialist_id])
        business, found = await _target(uow.store, actor, specialist_id)
        changed = replace(found, services=services)
        known = {s.id for s in await uow.store.services()}
        for service in services:
            if service not in known:
                raise BadInput("error.unknown_service", id=service)
        await _check(uow.store, changed)
        await uow.store.save_specialist(changed, (await uow.store.positions()).get(found.id, 0))
        await uow.commit()
    return changed


# -- a specialist cancels with a reason --------------------------------------------------


@retried
async def ask_reason(db: Database, now: datetime, actor: Actor, booking_id: int) -> Visit:
    """Starts cancelling one's own coming booking: the next text will be the reason."""
    async with UnitOfWork(db) as uow:
        found = await uow.store.booking(booking_id)
        if found is None or not (actor.admin or actor.specialist == found.specialist):
            raise BadInput("error.unknown_booking", id=booking_id)
        refusal = may_ask_reason(found, now)
        if refusal:
            raise Refused(refusal, id=booking_id, status=str(found.status))
        await People(uow.session).await_reason(actor.telegram_id, booking_id, now)
        await uow.commit()
        return await named(uow.store, found)


async def awaited_reason(db: Database, now: datetime, telegram_id: int) -> int | None:
    """The booking this person is asked a cancel reason for, while the question is fresh."""
    async with UnitOfWork(db, write=False) as uow:
        wait = await People(uow.session).reason_wait(telegram_id)
    return wait.booking_id if wait and now - wait.created_at <= REASON_TTL else None


@retried
async def drop_reason(db: Database, telegram_id: int) -> None:
    """Forgets an awaited reason: the booking stays as it is."""
    async with UnitOfWork(db) as uow:
        await People(uow.session).drop_reason_wait(telegram_id)
        await uow.commit()


async def give_reason(db: Database, now: datetime, actor: Actor, reason: str) -> Visit:
    """Cancels the booking a reason was awaited for; the client is told, with alternatives."""
    async with UnitOfWork(db) as uow:
        wait = await People(uow.session).drop_reason_wait(actor.telegram_id)
        found = await uow.store.booking(wait.booking_id) if wait else None
        await uow.commit()
    if wait is None or found is None or now - wait.created_at > REASON_TTL:
        raise Refused("specialist.reason_stale")
    if not (actor.admin or actor.specialist == found.specialist):
        raise BadInput("error.unknown_booking", id=wait.booking_id)
    return await cancel(db, now, wait.booking_id, SPECIALIST, reason)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _hhmm(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value else None


def _minutes(value: timedelta) -> int:
    return int(value.total_seconds() // 60)
