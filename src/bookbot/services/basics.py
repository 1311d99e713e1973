"""What every question and change asks first: is a business loaded, is a date range sane."""

from __future__ import annotations

from datetime import date, timedelta

from bookbot.engine.model import Business
from bookbot.errors import BadInput
from bookbot.store.repository import Store

LONGEST_RANGE = timedelta(days=400)


def check_range(first: date, last: date) -> None:
    """Refuses a date range that runs backwards or is longer than a question may ask."""
    if last < first:
        raise BadInput("error.range_backwards", first=first.isoformat(), last=last.isoformat())
    if last - first > LONGEST_RANGE:
        raise BadInput("error.range_too_long", days=LONGEST_RANGE.days)


async def require_business(store: Store) -> Business:
    """The business defaults from the store, or a clear error when nothing is loaded yet."""
    found = await store.business()
    if found is None:
        raise BadInput("error.empty_database")
    return found
