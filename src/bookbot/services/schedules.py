"""Use cases of schedule changes and of what stands: admins and specialists at work.

Values in, values out: the bot parses the arguments and renders the answers. Every
schedule change goes through the engine (engine/changes.py), is checked by the same rules
as the clinic file (services/catalog.py `check`), and is saved in the catalog, so
`bookbot export` shows it. A change that would cancel live bookings is kept in the
database until its asker confirms it; then the change, the cancellations and the
clients' notices are written in one transaction.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from msgspec import Struct
from msgspec.structs import replace

from bookbot.engine import changes, search
from bookbot.engine.intervals import ONE_DAY, absolute
from bookbot.engine.model import (
    Block,
    Booking,
    BookingStatus,
    Business,
    Hours,
    Interval,
    Override,
    Slot,
    Specialist,
    WeeklyEntry,
)
from bookbot.engine.workday import CLOSING, Plan, calendar_exists, zone
from bookbot.errors import BadInput, Refused
from bookbot.services.basics import require_business
from bookbot.services.catalog import check
from bookbot.services.offers import offer_freed
from bookbot.services.owed import owe_cancelled
from bookbot.services.people import Actor, managed, require_admin
from bookbot.services.visits import Visit, named
from bookbot.store.bookings import Bookings
from bookbot.store.db import Database
from bookbot.store.people import PendingChange, People
from bookbot.store.uow import UnitOfWork, retried

PENDING_TTL = timedelta(days=1)

DAY_OFF, VACATION, HOURS, EXTRA = "dayoff", "vacation", "hours", "extra"
BLOCK, UNBLOCK, HOLIDAYS, WEEKLY = "block", "unblock", "holidays", "weekly"
KINDS = (DAY_OFF, VACATION, HOURS, EXTRA, BLOCK, UNBLOCK, HOLIDAYS, WEEKLY)
# What a linked specialist may change of their own schedule; the rest is for admins.
SPECIALIST_CHANGES = frozenset({DAY_OFF, VACATION, HOURS, EXTRA, BLOCK, UNBLOCK})


class Change(Struct, frozen=True):
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


class Outcome(Struct, frozen=True):
    """What a change did: applied (cancelling `displaced`), or waiting as `pending` to confirm."""

    change: Change
    specialist: Specialist
    displaced: tuple[Visit, ...] = ()
    pending: int | None = None
    removed: Block | None = None  # the block an unblock took away


class DayView(Struct, frozen=True):
    """One day of a specialist as it stands: closed or not, hours, bookings, blocks, free slots."""

    day: date
    closed: Override | None
    holiday: bool
    windows: tuple[Interval, ...]
    bookings: tuple[Visit, ...]
    blocks: tuple[Block, ...]
    free: tuple[Slot, ...]
    places: tuple[str | None, ...] = ()  # each window's place (name), with several places


class View(Struct, frozen=True):
    """A specialist's days first..last, times on their wall clock."""

    specialist: Specialist
    days: tuple[DayView, ...]


# -- schedule changes --------------------------------------------------------------------


@retried
async def change(db: Database, now: datetime, actor: Actor, asked: Change) -> Outcome:
    """Applies a schedule change; one that would cancel live bookings waits to be confirmed."""
    if asked.kind not in SPECIALIST_CHANGES:
        require_admin(actor)
    async with UnitOfWork(db) as uow:
        await uow.lock(specialists=[asked.specialist])
        business, before = await managed(uow.catalog, actor, asked.specialist)
        after, asked, removed = _apply(business, before, asked)
        await check(uow.catalog, after)
        hit = await _displaced(uow.bookings, now, business, before, after)
        confirmed = [b for b in hit if b.status == BookingStatus.CONFIRMED]
        if confirmed:
            pending = await uow.people.add_pending(
                actor.telegram_id,
                before.id,
                {"change": asked.as_json(), "shown": [b.id for b in confirmed]},
                now,
                now + PENDING_TTL,
            )
            shown = tuple([await named(uow.catalog, b) for b in confirmed])
            await uow.commit()
            return Outcome(asked, before, shown, pending, removed)
        await _write(uow, now, actor, after, hit, asked)
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
        pending = await _pending(uow.people, now, actor, pending_id)
        asked = Change.from_json(pending.change["change"])
        if asked.kind not in SPECIALIST_CHANGES:
            require_admin(actor)
        await uow.lock(specialists=[asked.specialist])
        business, before = await managed(uow.catalog, actor, asked.specialist)
        after, asked, removed = _apply(business, before, asked)
        await check(uow.catalog, after)
        hit = await _displaced(uow.bookings, now, business, before, after)
        confirmed = [b for b in hit if b.status == BookingStatus.CONFIRMED]
        if not {b.id for b in confirmed} <= set(pending.change["shown"]):
            raise Refused("admin.pending_stale")
        cancelled = tuple([await named(uow.catalog, b) for b in confirmed])
        if not await uow.people.settle(pending_id, "applied", now):  # a second tap loses here
            raise Refused("admin.pending_settled")
        await _write(uow, now, actor, after, hit, asked)
        await uow.commit()
    return Outcome(asked, after, cancelled, None, removed)


@retried
async def keep(db: Database, now: datetime, actor: Actor, pending_id: int) -> Change:
    """Drops a change waiting for confirmation: nothing is written, no booking is touched."""
    async with UnitOfWork(db) as uow:
        pending = await _pending(uow.people, now, actor, pending_id, expired_ok=True)
        await uow.people.settle(pending_id, "kept", now)
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


async def _displaced(
    bookings: Bookings, now: datetime, business: Business, before: Specialist, after: Specialist
) -> list[Booking]:
    """Live bookings not yet begun that fit the schedule before the change and not after."""
    coming = await bookings.bookings(specialists=[before.id], since=now, live_at=now)
    return [b for b in changes.displaced(business, before, after, coming) if b.start > now]


async def _write(
    uow: UnitOfWork,
    now: datetime,
    actor: Actor,
    after: Specialist,
    hit: list[Booking],
    asked: Change,
) -> None:
    """Saves the changed schedule, cancels what it displaced, and owes the clients notices.

    Time it opens on the changed dates (all coming ones for weekly hours or holidays) is
    offered to the waitlist.
    """
    reason = asked.reason
    position = (await uow.catalog.positions()).get(after.id, 0)
    await uow.catalog.save_specialist(after, position)
    if asked.kind == HOLIDAYS:
        await uow.catalog.remember_holidays(now)  # a calendar may have come into use
    by = "specialist" if actor.specialist == after.id and not actor.admin else "admin"
    for found in hit:
        assert found.id is not None
        if found.status == BookingStatus.HELD:  # a hold just lapses; the client sees that
            await uow.bookings.set_status(found.id, BookingStatus.EXPIRED, now)
            continue
        await uow.bookings.set_status(found.id, BookingStatus.CANCELLED, now, by, reason)
        await owe_cancelled(uow, found, now, by, reason)
    if asked.kind in (WEEKLY, HOLIDAYS):
        await offer_freed(uow, now, after.id)
    else:
        await offer_freed(uow, now, after.id, first=asked.first, last=asked.last or asked.first)


# -- what stands -------------------------------------------------------------------------


async def view(
    db: Database, now: datetime, actor: Actor, specialist_id: str, first: date, last: date
) -> View:
    """A specialist's local days first..last: hours, bookings with clients, blocks, free slots."""
    async with UnitOfWork(db, write=False) as uow:
        business, found = await managed(uow.catalog, actor, specialist_id)
        tz = zone(found.zone(business))
        since = datetime.combine(first, time(0), tz) - ONE_DAY
        until = datetime.combine(last, time(0), tz) + 2 * ONE_DAY
        busy = await uow.bookings.bookings(
            specialists=[found.id], since=since, until=until, live_at=now
        )
        held = [await named(uow.catalog, b) for b in busy if b.status == BookingStatus.CONFIRMED]
    bare = Plan(found.schedule(business))
    plan = Plan(found.schedule(business, busy))
    several = len(business.locations) > 1
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
                places=tuple(_place_name(business, p) for p in work.places) if several else (),
            )
        )
    return View(found, tuple(days))


async def agenda(
    db: Database, now: datetime, actor: Actor, specialist_id: str | None, first: date, last: date
) -> list[Visit]:
    """Confirmed bookings on local dates first..last, of one specialist or (admins) of all."""
    async with UnitOfWork(db, write=False) as uow:
        if specialist_id is None:
            require_admin(actor)
            business = await require_business(uow.catalog)
            ids = None
        else:
            business, found = await managed(uow.catalog, actor, specialist_id)
            ids = [found.id]
        tz = zone(business.timezone)
        since = datetime.combine(first, time(0), tz) - 2 * ONE_DAY
        until = datetime.combine(last, time(0), tz) + 3 * ONE_DAY
        found_bookings = [
            b
            for b in await uow.bookings.bookings(specialists=ids, since=since, until=until)
            if b.status == BookingStatus.CONFIRMED
        ]
        visits = [await named(uow.catalog, b) for b in found_bookings]
    return sorted(
        (h for h in visits if first <= h.booking.start.date() <= last),
        key=lambda h: (absolute(h.booking.start), h.specialist.id),
    )


def _place_name(business: Business, place: str | None) -> str | None:
    """A location's name, by its id."""
    found = business.location(place)
    return found.name if found else place


def today(now: datetime, timezone: str) -> date:
    """The local date in a zone at `now`."""
    return now.astimezone(zone(timezone)).date()


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _hhmm(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value else None


def _minutes(value: timedelta) -> int:
    return int(value.total_seconds() // 60)
