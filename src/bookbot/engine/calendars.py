"""Holiday calendars: the dates of one calendar ("DE-BY", "IL") in one year, kept per process.

The holidays package answers a miss. It takes longer than the rest of the engine (~0.2 s
for DE-BY: its import and one year, a third of a query's start-up), so the store hands in
the dates it keeps (store/holiday_dates.py), which it wrote from the package's answers:
a process whose calendars are all stored never imports the package, and one that misses
a calendar or a year computes it exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

_dates: dict[tuple[str, int], frozenset[date]] = {}
_computed: set[tuple[str, int]] = set()  # entries the package gave in this process


def holiday_dates(calendar: str, year: int) -> frozenset[date]:
    """Dates of one holiday calendar in one year: as handed in, else from the package."""
    found = _dates.get((calendar, year))
    return computed(calendar, year) if found is None else found


def computed(calendar: str, year: int) -> frozenset[date]:
    """Dates of one calendar in one year from the holidays package, whatever was handed in.

    What the store writes: stored dates are always the package's.
    """
    key = (calendar, year)
    if key not in _computed:
        import holidays as holiday_calendars

        country, _, subdivision = calendar.partition("-")
        _dates[key] = frozenset(
            holiday_calendars.country_holidays(country, subdiv=subdivision or None, years=year)
        )
        _computed.add(key)
    return _dates[key]


def known(calendar: str, year: int, days: Iterable[date]) -> None:
    """Takes the stored dates of one calendar in one year; what this process computed stays."""
    if (calendar, year) not in _computed:
        _dates[calendar, year] = frozenset(days)
