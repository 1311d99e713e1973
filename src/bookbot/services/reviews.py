"""Reviews of visits: the visit a review page asks about, saving its one review, the list.

Whether a visit may be reviewed is the engine's rule (`may_review`); this module asks it
and stores what passes. The signed links that lead here are notify/reviews.py's.
`Review` is the value the store builds (store/reviews.py); entry points take it from here.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from bookbot.engine.bookings import may_review
from bookbot.engine.model import Booking
from bookbot.errors import BadInput, Refused
from bookbot.notify.reviews import MOST_ID
from bookbot.services.visits import Visit, named
from bookbot.store.db import Database
from bookbot.store.reviews import Review
from bookbot.store.uow import UnitOfWork

RATING = re.compile(r"[1-5]")
COMMENT_LIMIT = 2000


def rating_of(value: str) -> int:
    """A rating as posted or tapped: one digit 1 to 5, anything else refused."""
    if not RATING.fullmatch(value):
        raise BadInput("review.bad_rating")
    return int(value)


async def reviewable(db: Database, now: datetime, booking_id: int) -> Visit:
    """The visit a review page asks about, with its names; refused unless it may be reviewed."""
    async with UnitOfWork(db, write=False) as uow:
        found = await _visit(uow, now, booking_id, None)
        return await named(uow.catalog, found)


async def save(
    db: Database,
    now: datetime,
    booking_id: int,
    rating: int,
    comment: str | None = None,
    telegram_id: int | None = None,
) -> None:
    """Stores the one review of a visit that took place; anything else is refused.

    With `telegram_id` (a tap in the chat) the booking must be that client's own.
    """
    if not 1 <= rating <= 5:
        raise BadInput("review.bad_rating")
    text = _comment(comment)
    async with UnitOfWork(db) as uow:
        await _visit(uow, now, booking_id, telegram_id)
        await uow.reviews.add(booking_id, rating, text, now)
        await uow.commit()


async def listed(db: Database, specialist: str | None = None) -> list[Review]:
    """Reviews, newest first; of one specialist when named.

    A review counts only while its visit is one that may be reviewed: a booking cancelled
    after its review (staff may cancel a past visit) takes the review out of every list.
    """
    async with UnitOfWork(db, write=False) as uow:
        found = await uow.reviews.listed(specialist)
    return [review for review, visit in found if may_review(visit, review.created_at) is None]


async def _visit(
    uow: UnitOfWork, now: datetime, booking_id: int, telegram_id: int | None
) -> Booking:
    """The booking to review, asked of the engine's rule and not reviewed yet."""
    found = await uow.bookings.booking(booking_id) if 0 < booking_id <= MOST_ID else None
    if telegram_id is not None and (
        found is None or found.client is None or found.client.telegram_id != telegram_id
    ):
        raise BadInput("error.unknown_booking", id=booking_id)  # someone else's: unknown
    refusal = may_review(found, now)
    if refusal is not None:
        raise Refused(refusal)
    assert found is not None
    if await uow.reviews.exists(booking_id):
        raise Refused("review.already")
    return found


def _comment(value: str | None) -> str | None:
    """A comment as stored: trimmed, at most COMMENT_LIMIT characters, printable."""
    text = (value or "").replace("\r\n", "\n").strip()  # a browser counts a line break as one
    if len(text) > COMMENT_LIMIT:
        raise BadInput("review.long_comment", most=COMMENT_LIMIT)
    if any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\t\n\r" for c in text):
        raise BadInput("review.bad_comment")  # NUL and kin: PostgreSQL text refuses them
    return text or None
