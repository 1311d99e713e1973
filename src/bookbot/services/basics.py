"""What every question and change asks first: is a business loaded, is a date range sane."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol

from bookbot.engine.model import Business
from bookbot.errors import BadInput

LONGEST_RANGE = timedelta(days=400)


class Businesses(Protocol):
    """What reads the business defaults: the catalog (store/catalog.py `Catalog`)."""

    async def business(self) -> Business | None:
        """The business defaults, or None before a clinic file is loaded."""
        ...


def check_range(first: date, last: date) -> None:
    """Refuses a date range that runs backwards or is longer than a question may ask."""
    if last < first:
        raise BadInput("error.range_backwards", first=first.isoformat(), last=last.isoformat())
    if last - first > LONGEST_RANGE:
        raise BadInput("error.range_too_long", days=LONGEST_RANGE.days)


async def require_business(catalog: Businesses) -> Business:
    """The business defaults from the catalog, or a clear error when nothing is loaded yet."""
    found = await catalog.business()
    if found is None:
        raise BadInput("error.empty_database")
    return found
