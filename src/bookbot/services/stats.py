"""The figures of a stretch of days for admins: `/stats` in the chat, `bookbot stats`.

A range is of local dates of the business zone; a booking belongs to it by its start.
What counts:

- booked: confirmed visits starting in the range;
- cancellations of visits starting in the range, by how engine/stats.py `cancel_timing`
  counts them: a client's before or after the cut-off (engine/policy.py `cutoff` for the
  visit's service and the business policy), and any by a specialist, an admin or the
  operator apart, "by staff". A visit a client moved (engine/stats.py `moved`) is no
  cancellation: its new time counts as booked;
- no-shows: confirmed visits marked no-show;
- refilled: confirmed visits made from a waitlist offer;
- each specialist's booked minutes inside their working windows (engine/workday.py
  `Plan.windows` of those dates, in the specialist's zone) over the windows' minutes.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from fractions import Fraction

from msgspec import Struct

from bookbot.engine import stats
from bookbot.engine.model import BookingStatus, Interval, Mark
from bookbot.engine.payments import Takings, takings
from bookbot.engine.policy import cutoff
from bookbot.engine.workday import LocalClock, Plan, zone
from bookbot.services.basics import check_range, require_business
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork

DEFAULT_DAYS = 30  # with no range asked: the last 30 days, today included


class Share(Struct, frozen=True):
    """One specialist's booked minutes of their open minutes; `share` is None when never open."""

    specialist: str
    name: str
    booked: int
    open: int
    share: Fraction | None


class Figures(Struct, frozen=True):
    """What happened to the visits of the dates first..last (see the module's docstring)."""

    first: date
    last: date
    booked: int
    cancelled_before: int
    cancelled_after: int
    cancelled_by_staff: int
    no_shows: int
    refilled: int
    shares: tuple[Share, ...]
    takings: tuple[Takings, ...] = ()  # payments made in the range, by currency


def default_range(today: date) -> tuple[date, date]:
    """The range asked when none is given: DEFAULT_DAYS days ending today."""
    return today - timedelta(days=DEFAULT_DAYS - 1), today


async def figures(db: Database, first: date | None, last: date | None, now: datetime) -> Figures:
    """The figures of first..last (both None: `default_range` of the business's today)."""
    async with UnitOfWork(db, write=False) as uow:
        business = await require_business(uow.catalog)
        tz = zone(business.timezone)
        if first is None or last is None:
            first, last = default_range(now.astimezone(tz).date())
        check_range(first, last)
        since = LocalClock(first, tz).instant(timedelta(0))
        until = LocalClock(last + timedelta(days=1), tz).instant(timedelta(0))
        records = await uow.bookings.records(since, until)
        paid = [p for p in await uow.payments.between(since, until) if since <= p.paid_at < until]
        services = {s.id: s for s in await uow.catalog.services()}
        specialists = await uow.catalog.specialists()
    visits = [r for r in records if r.status == BookingStatus.CONFIRMED]
    timings = Counter(
        stats.cancel_timing(r, cutoff(r.start, services[r.service], business.policy))
        for r in records
        if r.status == BookingStatus.CANCELLED and not stats.moved(r)
    )
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    shares = []
    for specialist in specialists:
        plan = Plan(specialist.schedule(business))
        booked, open_ = stats.booked_share(
            [w for day in days for w in plan.windows(day)],
            [Interval(v.start, v.end) for v in visits if v.specialist == specialist.id],
        )
        shares.append(
            Share(specialist.id, specialist.name, booked, open_, stats.share(booked, open_))
        )
    return Figures(
        first=first,
        last=last,
        booked=len(visits),
        cancelled_before=timings[stats.BEFORE],
        cancelled_after=timings[stats.AFTER],
        cancelled_by_staff=timings[stats.BY_STAFF],
        no_shows=sum(1 for v in visits if v.mark == Mark.NO_SHOW),
        refilled=sum(1 for v in visits if v.refilled),
        shares=tuple(shares),
        takings=takings(paid),
    )
