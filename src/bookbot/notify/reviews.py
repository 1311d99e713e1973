"""Signed review links (JWT, HS256) and the reviews clients leave."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bookbot.engine.bookings import may_review
from bookbot.engine.model import Booking, BookingStatus, Mark
from bookbot.errors import BadInput, Refused
from bookbot.services.visits import Visit, named
from bookbot.store.db import Database
from bookbot.store.tables import BookingRow, ReviewRow
from bookbot.store.uow import UnitOfWork

ALGORITHM = "HS256"
TOKEN_LIMIT = 1024  # ours are about 150 characters
MOST_ID = 2**31 - 1  # bookings.id is a 32-bit integer on PostgreSQL
BOOKING_ID = re.compile(r"[1-9][0-9]{0,9}")
RATING = re.compile(r"[1-5]")
COMMENT_LIMIT = 2000


@dataclass(frozen=True)
class Review:
    """A stored review."""

    booking_id: int
    specialist: str
    rating: int
    comment: str | None
    created_at: datetime


def token(booking_id: int, now: datetime, ttl: timedelta, secret: str) -> str:
    """A signed token naming a booking, valid for `ttl` from `now`."""
    claims = {
        "sub": str(booking_id),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def booking_of(value: str, now: datetime, secret: str) -> int:
    """The booking a token names; refuses a damaged, forged or expired one.

    Time claims are checked against the injected `now`, never the library's own clock.
    """
    if not 0 < len(value) <= TOKEN_LIMIT:
        raise BadInput("review.malformed")
    try:
        claims = jwt.decode(
            value,
            secret,
            algorithms=[ALGORITHM],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "require": ["exp", "sub"],
            },
        )
    except jwt.InvalidSignatureError:
        raise Refused("review.forged") from None
    except (jwt.InvalidTokenError, ValueError, TypeError):  # not a JWT, or not one of ours
        raise BadInput("review.malformed") from None
    subject, expiry = claims["sub"], claims["exp"]
    if not (
        isinstance(subject, str)
        and BOOKING_ID.fullmatch(subject)
        and int(subject) <= MOST_ID
        and type(expiry) is int
    ):
        raise BadInput("review.malformed")
    if now.timestamp() >= expiry:
        raise Refused("review.expired")
    return int(subject)


def rating_of(value: str) -> int:
    """A rating as posted or tapped: one digit 1 to 5, anything else refused."""
    if not RATING.fullmatch(value):
        raise BadInput("review.bad_rating")
    return int(value)


async def reviewable(db: Database, now: datetime, booking_id: int) -> Visit:
    """The visit a review page asks about, with its names; refused unless it may be reviewed."""
    async with UnitOfWork(db, write=False) as uow:
        found = await _visit(uow, now, booking_id, None)
        return await named(uow.store, found)


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
        uow.session.add(
            ReviewRow(booking_id=booking_id, rating=rating, comment=text, created_at=now)
        )
        try:
            await uow.session.flush()
        except IntegrityError:
            raise Refused("review.already") from None
        await uow.commit()


async def _visit(
    uow: UnitOfWork, now: datetime, booking_id: int, telegram_id: int | None
) -> Booking:
    """The booking to review, asked of the engine's rule and not reviewed yet."""
    found = await uow.store.booking(booking_id) if 0 < booking_id <= MOST_ID else None
    if telegram_id is not None and (
        found is None or found.client is None or found.client.telegram_id != telegram_id
    ):
        raise BadInput("error.unknown_booking", id=booking_id)  # someone else's: unknown
    refusal = may_review(found, now)
    if refusal is not None:
        raise Refused(refusal)
    assert found is not None
    if await exists(uow.session, booking_id):
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


async def exists(session, booking_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Tells whether a booking has its review already."""
    return (
        await session.scalar(select(ReviewRow.id).where(ReviewRow.booking_id == booking_id))
        is not None
    )


async def listed(db: Database, specialist: str | None = None) -> list[Review]:
    """Reviews, newest first; of one specialist when named.

    A review counts only while its visit is one that may be reviewed: a booking cancelled
    after its review (staff may cancel a past visit) takes the review out of every list.
    """
    async with UnitOfWork(db, write=False) as uow:
        query = (
            select(ReviewRow, BookingRow)
            .join(BookingRow, BookingRow.id == ReviewRow.booking_id)
            .order_by(ReviewRow.created_at.desc())
        )
        if specialist is not None:
            query = query.where(BookingRow.specialist_id == specialist)
        rows = (await uow.session.execute(query)).all()
        return [
            Review(r.booking_id, b.specialist_id, r.rating, r.comment, r.created_at)
            for r, b in rows
            if may_review(_visited(b), r.created_at) is None
        ]


def _visited(row: BookingRow) -> Booking:
    """The engine's view of a reviewed booking's row (its client is not needed)."""
    return Booking(
        row.specialist_id,
        row.service_id,
        row.start_at,
        row.end_at,
        BookingStatus(row.status),
        id=row.id,
        mark=None if row.mark is None else Mark(row.mark),
    )
