"""Benchmarks the pure engine: a month of slots for one specialist, soonest days for 1,000.

Targets on the project's 2-core machine: under 2 ms and under 200 ms. Run:
`python bench/engine.py`. Prints the median of several repeats; no database involved.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from bookbot.engine.model import (
    Hours,
    Interval,
    Override,
    OverrideType,
    Rules,
    Schedule,
    WeeklyEntry,
)
from bookbot.engine.search import plans, slots, soonest_days

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
RULES = Rules(min_notice=timedelta(minutes=30), horizon_days=90)
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Jerusalem", "Europe/Moscow")


def specialist(n: int, rng: random.Random) -> Schedule:
    """A specialist with a five-day week, a day off, a block and some bookings."""
    start = clock(rng.choice((8, 9, 10)))
    weekly = (
        WeeklyEntry(
            frozenset(rng.sample(range(6), 5)),
            Hours(
                slot=timedelta(minutes=rng.choice((30, 45, 60))),
                start=start,
                end=clock(start.hour + 8),
                break_after=timedelta(minutes=5),
            ),
        ),
    )
    day_off = date(2026, 12, 1) + timedelta(days=rng.randrange(30))
    busy = []
    for _ in range(20):
        at = NOW + timedelta(days=rng.randrange(20), hours=rng.randrange(1, 10))
        busy.append(Interval(at, at + timedelta(minutes=60)))
    return Schedule(
        specialist=f"s{n:05d}",
        timezone=ZONES[n % len(ZONES)],
        weekly=weekly,
        overrides=(Override(OverrideType.DAY_OFF, day_off, day_off),),
        holidays=("DE-BY",) if n % 2 else (),
        busy=tuple(busy),
    )


def measure(label: str, work, repeats: int, target_ms: float) -> None:  # type: ignore[no-untyped-def]
    """Runs `work` `repeats` times and prints the median and best, against the target."""
    work()  # warm caches (holiday calendars, zones)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    median = statistics.median(times)
    verdict = "ok" if median < target_ms else "OVER TARGET"
    print(
        f"{label:<58} median {median:8.2f} ms  best {min(times):8.2f} ms  "
        f"target < {target_ms:g} ms  {verdict}"
    )


def main() -> None:
    """Prints each figure."""
    rng = random.Random(7)
    one = specialist(0, rng)
    december = (date(2026, 12, 1), date(2026, 12, 31))
    print(f"engine benchmark, Python {sys.version.split()[0]}")
    measure(
        "slots, 1 specialist, 31-day month (plan built each time)",
        lambda: slots([one], *december, NOW, RULES),
        200,
        2,
    )
    thousand = [specialist(n, rng) for n in range(1000)]
    measure(
        "soonest day for each of 1,000 specialists",
        lambda: soonest_days(plans(thousand), NOW, RULES),
        10,
        200,
    )
    found = slots([one], *december, NOW, RULES)
    print(
        f"(the month has {len(found)} free slots; "
        f"{sum(1 for r in soonest_days(thousand, NOW, RULES) if r.day)} of 1,000 have a day)"
    )


if __name__ == "__main__":
    main()
