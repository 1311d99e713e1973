"""Merge, subtract and test half-open absolute intervals [start, end)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta

from bookbot.engine.model import Interval

ONE_DAY = timedelta(days=1)


def absolute(instant: datetime) -> datetime:
    """The instant in UTC, where arithmetic and comparisons follow real time, not wall clocks."""
    # Two datetimes in one ZoneInfo add, subtract and compare on the wall clock, and a
    # repeated wall time never equals an instant of another zone.
    if instant.tzinfo is UTC:
        return instant
    if instant.utcoffset() is None:
        raise ValueError(f"{instant.isoformat()} is not an instant: it has no UTC offset")
    return instant.astimezone(UTC)


def midnight(day: date) -> datetime:
    """The day's first instant in UTC: a bound that, widened by a day or two, covers every zone."""
    return datetime.combine(day, time(0), UTC)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorts intervals and joins those that overlap or touch."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1].end:
            if end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, end)
        else:
            merged.append(Interval(start, end))
    return merged


def subtract(base: Sequence[Interval], cuts: Sequence[Interval]) -> list[Interval]:
    """Removes merged `cuts` from merged `base`; both sorted and disjoint."""
    result: list[Interval] = []
    # Cuts are disjoint and sorted, so their ends are sorted too: skip those over before base.
    i = bisect_right(cuts, base[0].start, key=_end) if base and cuts else 0
    for start, end in base:
        while i < len(cuts) and cuts[i].end <= start:
            i += 1
        j = i
        cursor = start
        while j < len(cuts) and cuts[j].start < end:
            if cuts[j].start > cursor:
                result.append(Interval(cursor, cuts[j].start))
            cursor = max(cursor, cuts[j].end)
            j += 1
        if cursor < end:
            result.append(Interval(cursor, end))
    return result


def subtract_micro(
    base: Sequence[tuple[int, int]], starts: Sequence[int], ends: Sequence[int], shift: int = 0
) -> list[tuple[int, int]]:
    """`subtract` in UTC epoch microseconds: `base`, moved by `shift`, less the cuts given as
    their starts and their ends (merged and sorted, as `Plan.busy_micro` gives them)."""
    result: list[tuple[int, int]] = []
    count = len(starts)
    i = bisect_right(ends, base[0][0] + shift) if base and count else 0
    for start, end in base:
        start += shift
        end += shift
        while i < count and ends[i] <= start:
            i += 1
        j, cursor = i, start
        while j < count and starts[j] < end:
            if starts[j] > cursor:
                result.append((cursor, starts[j]))
            cursor = max(cursor, ends[j])
            j += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def contains(merged: Sequence[Interval], start: datetime, end: datetime) -> bool:
    """Tells whether [start, end) lies inside one of the merged intervals."""
    i = bisect_left(merged, (start,)) if merged else 0
    # The containing interval starts at or before `start`: it is at i (same start) or i - 1.
    for k in (i, i - 1):
        if 0 <= k < len(merged) and merged[k].start <= start and end <= merged[k].end:
            return True
    return False


def overlaps(merged: Sequence[Interval], start: datetime, end: datetime) -> bool:
    """Tells whether [start, end) shares any instant with the merged intervals."""
    i = bisect_left(merged, (start,))
    if i > 0 and merged[i - 1].end > start:
        return True
    return i < len(merged) and merged[i].start < end


def intersect(one: Sequence[Interval], other: Sequence[Interval]) -> list[Interval]:
    """The instants in both: `one` and `other` sorted and disjoint."""
    result: list[Interval] = []
    i = j = 0
    while i < len(one) and j < len(other):
        start, end = max(one[i].start, other[j].start), min(one[i].end, other[j].end)
        if start < end:
            result.append(Interval(start, end))
        if one[i].end <= other[j].end:
            i += 1
        else:
            j += 1
    return result


def _end(interval: Interval) -> datetime:
    """An interval's end, as a sort key."""
    return interval.end
