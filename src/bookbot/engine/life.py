"""A booking's life after it is made: what may still be done with it, as refusal keys."""

from __future__ import annotations

from datetime import datetime

from bookbot.engine.model import Booking, BookingStatus


def may_review(booking: Booking | None, now: datetime) -> str | None:
    """Why a booking may not be reviewed at `now` (a locale key), or None when it may.

    Only a visit that took place is reviewed (policy.md): the booking exists, was confirmed
    and not cancelled since, and its end has passed. Chat, web page and review request all
    ask this. Attendance is not recorded yet (a visit never marked counts as arrived); once
    a no-show mark is, a marked booking is refused here as well.
    """
    if booking is None:
        return "review.unknown"
    if booking.status != BookingStatus.CONFIRMED:
        return "review.no_visit"
    if booking.end > now:
        return "review.too_soon"
    return None
