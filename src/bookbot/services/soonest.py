"""Each specialist's soonest free date and its slots, from the day index.

The index row of a specialist's first date with room says where to look; the engine's
candidates of that date, kept per plan (they depend on the schedule alone), give the
slots its holes hold at `now`. Dates the index does not cover, and specialists with a
hold that ran out but is not marked yet, are asked of the engine with their bookings.
"""

from __future__ import annotations

from datetime import date, timedelta
from weakref import WeakKeyDictionary

from bookbot.engine import search
from bookbot.engine.intervals import ONE_DAY
from bookbot.engine.model import DayResult, Slot
from bookbot.engine.workday import Plan
from bookbot.services.question import Question
from bookbot.store.dayindex import IndexedDay, Span
from bookbot.store.dayindex.rows import spans as free_spans

KEPT_DAYS = 4  # dates whose candidates a plan keeps: the soonest, and a few after it

# A plan's candidates by date and service length; a plan lives as long as the catalog
# that made it is current, and its candidates with it.
_offers: WeakKeyDictionary[Plan, dict[tuple[date, timedelta | None], tuple[search.Offer, ...]]]
_offers = WeakKeyDictionary()


def slots(q: Question, row: IndexedDay) -> list[Slot]:
    """The slots an indexed date offers at `now`: what `Question.offered` gives, sooner."""
    plan = q.plans[row.specialist]
    if row.day > q.last_day(row.specialist):
        return []
    kept = _offers.get(plan)
    if kept is None:
        kept = _offers[plan] = {}
    key = (row.day, q.duration)
    found = kept.get(key)
    if found is None:
        if len(kept) >= KEPT_DAYS:
            kept.clear()
        found = kept[key] = search.offers(plan, plan.work_day(row.day), q.duration)
    return search.offered_in(found, free_spans(row.stored), q.earliest)


async def soonest(q: Question, ids: list[str], first: date | None) -> dict[str, DayResult]:
    """The soonest day of each of these specialists: unknown dates by the engine, else the index."""
    results: dict[str, DayResult] = {}
    start = {s: max(first or q.today(s), q.today(s)) for s in ids}
    end = {s: q.last_day(s) for s in ids}
    unknown = [s for s in ids if s in q.lapsed or (s in q.gaps and q.gaps[s] is None)]
    if unknown:
        plans = await q.booked(unknown, min(start.values()), max(end.values()))
        for s in unknown:
            results[s] = search.soonest_day(plans[s], q.now, q.rules, start[s], q.duration)
    spans = {s: q.gaps.get(s) or Span(start[s], end[s]) for s in ids if s not in results}
    ahead = [s for s, span in spans.items() if span.first > start[s]]
    if ahead:
        plans = await q.booked(
            ahead, min(start[s] for s in ahead), max(spans[s].first for s in ahead)
        )
        for s in ahead:
            found = search.soonest_day(
                plans[s], q.now, q.rules, start[s], q.duration, last=spans[s].first - ONE_DAY
            )
            if found.day is not None:
                results[s] = found
    cursor = {s: max(start[s], span.first) for s, span in spans.items() if s not in results}
    stop = {s: min(end[s], spans[s].last) for s in cursor}
    pending = {s for s in cursor if cursor[s] <= stop[s]}
    while pending:
        groups: dict[date, list[str]] = {}
        for s in sorted(pending):
            groups.setdefault(cursor[s], []).append(s)
        for after, group in groups.items():
            everyone = len(group) == len(q.plans) and q.where is None
            rows = await q.days.first_days(
                q.service.id, after, q.need(), None if everyone else group
            )
            by_id = {row.specialist: row for row in rows}
            for s in group:
                row = by_id.get(s)
                if row is None or row.day > stop[s]:
                    pending.discard(s)
                    continue
                offered = slots(q, row)
                if offered:
                    results[s] = DayResult(s, row.day, tuple(offered))
                    pending.discard(s)
                    continue
                cursor[s] = row.day + ONE_DAY
                if cursor[s] > stop[s]:
                    pending.discard(s)
    behind = [s for s, span in spans.items() if s not in results and span.last < end[s]]
    if behind:
        plans = await q.booked(
            behind, min(spans[s].last for s in behind), max(end[s] for s in behind)
        )
        for s in behind:
            results[s] = search.soonest_day(
                plans[s], q.now, q.rules, max(start[s], spans[s].last + ONE_DAY), q.duration
            )
    return {s: results.get(s) or DayResult(s, None, ()) for s in ids}
