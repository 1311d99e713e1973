"""Signed review links (JWT, HS256): the token a review request carries, and its checks.

The reviews themselves are services/reviews.py's.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import jwt

from bookbot.errors import BadInput, Refused

ALGORITHM = "HS256"
TOKEN_LIMIT = 1024  # ours are about 150 characters
MOST_ID = 2**31 - 1  # bookings.id is a 32-bit integer on PostgreSQL
BOOKING_ID = re.compile(r"[1-9][0-9]{0,9}")


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
