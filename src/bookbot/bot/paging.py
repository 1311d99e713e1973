"""Pages of lists that grow with the data, so that every keyboard fits Telegram.

Telegram takes at most 100 buttons in one keyboard; a list of specialists, times or
bookings can be longer. Such a list is shown a page at a time, soonest first, and the
page number travels in the button data (callbacks.page).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from msgspec import Struct

from bookbot.errors import BookbotError

T = TypeVar("T")
ITEMS = 10  # rows of a listed thing a page: with navigation, well under 100 buttons
TIMES = 20  # start times a page, 4 a row: five rows
MOST = 9999  # the highest page number button data can carry (callbacks.Action.PAGE)


class Page(Struct, Generic[T], frozen=True):
    """The items on one page of a list, its number (from 1) and how many pages there are."""

    items: Sequence[T]
    number: int
    count: int


def cut(items: Sequence[T], number: int, size: int = ITEMS) -> Page[T]:
    """Page `number` of a list; a page that is not there is refused and nothing shown.

    An empty list has one, empty page. A list too long for MOST pages keeps its first
    MOST pages (at 10 a page, 99,990 items: beyond any one person's choosing).
    """
    count = min(max(1, -(-len(items) // size)), MOST)
    if not 1 <= number <= count:
        raise BookbotError("limits.no_page", page=number, pages=count)
    start = (number - 1) * size
    return Page(items[start : start + size], number, count)
