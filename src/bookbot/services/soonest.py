"""Each specialist's soonest free date and its slots, from the day index.

The index row of a specialist's first date with room says where to look; the engine's
candidates of that date, kept per plan (they depend on the schedule alone), give the
slots its holes hold at `now`; the slots the last holes gave are kept with them, for as
long as the row and the candidates notice passes stay the same. Dates the index does not
cover, and specialists with a hold that ran out but is not marked yet, are asked of the
engine with their bookings.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, timedelta, tzinfo

from bookbot.engine import search
from bookbot.engine.intervals import ONE_DAY
from bookbot.engine.model import DayResult, Slot
from bookbot.engine.workday import Plan
from bookbot.services.question import Question
from bookbot.store.dayindex import IndexedDay
from bookbot.store.dayindex.rows import spans as free_spans

KEPT_DAYS = 2  # dates whose candidates a plan keeps (~3.5 kB each): the soonest, the next
NEVER = -(2**63)  # microseconds before any instant


class _Day:
    """A plan's candidates of one date, and the last slots they gave.

    Those slots hold again for the same holes while notice ends in (low, high]: after
    the start of the last candidate notice had passed, up to the next candidate's start,
    the same candidates pass notice.
    """

    __slots__ = ("high", "holes", "low", "offers", "result", "slots", "starts")

    def __init__(self, offers: tuple[search.Offer, ...]) -> None:
        self.offers = offers
        self.starts = [start for start, _, _ in offers]
        self.holes: str | None = None
        self.low = self.high = 0
        self.slots: tuple[Slot, ...] = ()
        self.result: DayResult | None = None  # the slots as a soonest day, when there are some

    def offered(self, specialist: str, day: date, holes: str, since: int) -> None:
        """Takes the slots these holes hold from `since` on (microseconds), unless known."""
        if holes == self.holes and self.low < since <= self.high:
            return
        i = bisect_left(self.starts, since)
        self.low = self.starts[i - 1] if i else NEVER
        self.high = self.starts[i] if i < len(self.starts) else -NEVER
        self.holes = holes
        self.slots = tuple(search.offered_in(self.offers, *free_spans(holes), since))
        self.result = DayResult(specialist, day, self.slots) if self.slots else None


def slots(q: Question, row: IndexedDay) -> tuple[Slot, ...]:
    """The slots an indexed date offers at `now`: what `Question.offered` gives, sooner."""
    if row.day > q.last_day(row.specialist):
        return ()
    since = q.since
    return _offered(q.plans[row.specialist], row.day, row.stored, q.duration, since).slots


def _offered(plan: Plan, day: date, holes: str, duration: timedelta | None, since: int) -> _Day:
    """The slots a date within the horizon offers with these holes (as kept).

    Those that start at `since` (UTC epoch microseconds: where notice ends) or later.
    """
    kept = plan.kept  # a plan's candidates by date and service length, as long as it lives
    found = kept.get((day, duration))
    if found is not None and holes == found.holes and found.low < since <= found.high:
        return found  # as `_Day.offered` would find, without the call
    if found is None:
        if len(kept) >= KEPT_DAYS:
            kept.clear()
        found = kept[day, duration] = _Day(search.offers(plan, plan.work_day(day), duration))
    found.offered(plan.specialist, day, holes, since)
    return found


async def soonest(q: Question, ids: list[str], first: date | None) -> dict[str, DayResult]:
    """The soonest day of each of these specialists: unknown dates by the engine, else the index."""
    plans, duration = q.plans, q.duration
    horizon = timedelta(days=q.rules.horizon_days)
    zones: dict[tzinfo, tuple[date, date]] = {}  # the first and last date asked, by zone
    start: dict[str, date] = {}
    end: dict[str, date] = {}
    for s in ids:
        tz = plans[s].tz
        if tz not in zones:
            today = q.today(s)
            zones[tz] = (max(first, today) if first else today, today + horizon)
        start[s], end[s] = zones[tz]
    results: dict[str, DayResult] = {}
    spanless = {s for s, span in q.gaps.items() if span is None}
    unknown = sorted(s for s in q.lapsed | spanless if s in start)
    if unknown:
        booked = await q.booked(unknown, min(start.values()), max(end.values()))
        for s in unknown:
            results[s] = search.soonest_day(booked[s], q.now, q.rules, start[s], duration)
    # The spans that fall short of the question (the others cover it).
    short = {
        s: span
        for s, span in q.gaps.items()
        if span is not None and s in start and s not in results
    }
    ahead = [s for s, span in short.items() if span.first > start[s]]
    if ahead:
        booked = await q.booked(
            ahead, min(start[s] for s in ahead), max(short[s].first for s in ahead)
        )
        for s in ahead:
            found = search.soonest_day(
                booked[s], q.now, q.rules, start[s], duration, last=short[s].first - ONE_DAY
            )
            if found.day is not None:
                results[s] = found
    cursor = dict(start)
    stop = dict(end)
    for s in results:
        del cursor[s]
    for s, span in short.items():
        if s in cursor:
            cursor[s] = max(start[s], span.first)
            stop[s] = min(end[s], span.last)
    since = q.since
    pending = {s for s, day in cursor.items() if day <= stop[s]}
    firsts = {day for day, _ in zones.values()}
    uniform = len(firsts) == 1 and not short  # every cursor the same date
    while pending:
        further: set[str] = set()  # those to ask again, from their next date on
        groups: dict[date, list[str]] = {}
        if uniform:  # the usual first round
            groups[firsts.pop()] = list(pending)
            uniform = False
        else:
            for s in pending:
                groups.setdefault(cursor[s], []).append(s)
        for after, group in groups.items():
            everyone = len(group) == len(plans) and q.where is None
            rows = await q.days.first_days(
                q.service.id, after, q.need(), None if everyone else sorted(group)
            )
            for s, day, holes in rows:
                if s not in pending or day > stop[s]:
                    continue  # not asked here, or past what the index may answer for
                kept = _offered(plans[s], day, holes, duration, since)  # within the horizon
                if kept.result is not None:
                    results[s] = kept.result
                    continue
                cursor[s] = day + ONE_DAY
                if cursor[s] <= stop[s]:
                    further.add(s)
        pending = further
    behind = [s for s, span in short.items() if s not in results and span.last < end[s]]
    if behind:
        booked = await q.booked(
            behind, min(short[s].last for s in behind), max(end[s] for s in behind)
        )
        for s in behind:
            results[s] = search.soonest_day(
                booked[s], q.now, q.rules, max(start[s], short[s].last + ONE_DAY), duration
            )
    return {s: results.get(s) or DayResult(s, None, ()) for s in ids}
