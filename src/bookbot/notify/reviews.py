"""Signed review links (JWT, HS256) and the reviews clients leave."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bookbot.engine.model import BookingStatus
from bookbot.errors import BadInput, Refused
from bookbot.store.db import Database
from bookbot.store.tables import BookingRow, ClientRow, ReviewRow
from bookbot.store.uow import UnitOfWork

ALGORITHM = "HS256"


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
    claims = {"sub": str(booking_id), "iat": int(now.timestamp()),
              "exp": int((now + ttl).timestamp())}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def booking_of(value: str, now: datetime, secret: str) -> int:
    """The booking a token names; refuses a forged or expired one.

    Time claims are checked against the injected `now`, never the library's own clock.
    """
    try:
        claims = jwt.decode(value, secret, algorithms=[ALGORITHM],
                            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                     "require": ["exp", "sub"]})
        booking_id = int(claims["sub"])
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise BadInput("review.forged") from None
    if now.timestamp() >= claims["exp"]:
        raise BadInput("review.expired")
    return booking_id


async def save(db: Database, now: datetime, booking_id: int, rating: int,
               comment: str | None = None, telegram_id: int | None = None) -> None:
    """Stores the one review of a booking; a second one is refused."""
    if not 1 <= rating <= 5:
        raise BadInput("review.bad_rating")
    async with UnitOfWork(db) as uow:
        row = await uow.session.get(BookingRow, booking_id)
        if row is None or row.status != BookingStatus.CONFIRMED:
            raise BadInput("error.unknown_booking", id=booking_id)
        if telegram_id is not None:
            owner = await uow.session.scalar(
                select(ClientRow.telegram_id).where(ClientRow.id == row.client_id))
            if owner != telegram_id:
                raise BadInput("error.unknown_booking", id=booking_id)
        if await exists(uow.session, booking_id):
            raise Refused("review.already")
        uow.session.add(ReviewRow(booking_id=booking_id, rating=rating,
                                  comment=(comment or "").strip()[:2000] or None, created_at=now))
        try:
            await uow.session.flush()
        except IntegrityError:
            raise Refused("review.already") from None
        await uow.commit()


async def exists(session, booking_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Tells whether a booking has its review already."""
    return await session.scalar(
        select(ReviewRow.id).where(ReviewRow.booking_id == booking_id)) is not None


async def listed(db: Database, specialist: str | None = None) -> list[Review]:
    """Reviews, newest first; of one specialist when named."""
    async with UnitOfWork(db, write=False) as uow:
        query = (select(ReviewRow, BookingRow.specialist_id)
                 .join(BookingRow, BookingRow.id == ReviewRow.booking_id)
                 .order_by(ReviewRow.created_at.desc()))
        if specialist is not None:
            query = query.where(BookingRow.specialist_id == specialist)
        rows = (await uow.session.execute(query)).all()
        return [Review(r.booking_id, who, r.rating, r.comment, r.created_at) for r, who in rows]
