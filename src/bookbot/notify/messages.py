"""Which messages a change owes, written in the change's own transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from msgspec import Struct

from bookbot.engine import workday
from bookbot.engine.model import Booking, Slot, Specialist
from bookbot.store.outbox import Outbox

CONFIRMATION = "confirmation"  # to the client: booked, with an .ics file
NEW_BOOKING = "new_booking"  # to the specialist
REMINDER = "reminder"  # to the client, before the start
CANCELLED_BY_CLIENT = "cancelled_by_client"  # to the specialist
CANCELLED_FOR_CLIENT = "cancelled_for_client"  # to the client, with reason and alternatives
REVIEW = "review"  # to the client, after the end
ABOUT_THE_VISIT = (REMINDER, REVIEW)  # what a cancelled or moved booking no longer needs
UNLINKED = "unlinked"  # to a specialist's former account, after a link moved them
UNCONFIRMED = "unconfirmed"  # to a specialist: a day's visits no client said "I'll come" to


class Policy(Struct, frozen=True):
    """When reminders and the review request go out."""

    reminders: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2))
    review_after: timedelta = timedelta(hours=24)


async def booked(
    outbox: Outbox, booking: Booking, specialist: Specialist, now: datetime, policy: Policy
) -> None:
    """Owes the confirmation, the specialist's notice, the reminders and the review request."""
    client = booking.client.telegram_id if booking.client else None
    if specialist.telegram_id is not None:
        await outbox.add(NEW_BOOKING, specialist.telegram_id, now, now, booking.id)
    if client is None:
        return
    await outbox.add(CONFIRMATION, client, now, now, booking.id)
    first = True  # the first reminder the client gets carries "I'll come"
    for before in sorted(policy.reminders, reverse=True):
        due = booking.start - before
        if due > now:
            await outbox.add(
                REMINDER,
                client,
                due,
                now,
                booking.id,
                {"minutes": int(before.total_seconds() // 60), "attend": first},
            )
            first = False
    await outbox.add(REVIEW, client, booking.end + policy.review_after, now, booking.id)


async def cancelled(
    outbox: Outbox,
    booking: Booking,
    specialist: Specialist,
    now: datetime,
    by: str,
    reason: str | None = None,
    alternatives: list[Slot] | None = None,
) -> None:
    """Drops what the visit no longer needs and owes the other side a notice."""
    assert booking.id is not None
    await outbox.drop(booking.id, now, ABOUT_THE_VISIT)
    if by == "client":
        if specialist.telegram_id is not None:
            await outbox.add(CANCELLED_BY_CLIENT, specialist.telegram_id, now, now, booking.id)
        return
    if booking.client and booking.client.telegram_id is not None:
        await outbox.add(
            CANCELLED_FOR_CLIENT,
            booking.client.telegram_id,
            now,
            now,
            booking.id,
            {
                "reason": reason,
                "alternatives": [
                    {"specialist": s.specialist, "start": s.start.isoformat()}
                    for s in alternatives or []
                ],
            },
        )


async def unlinked(outbox: Outbox, telegram_id: int, specialist: Specialist, now: datetime) -> None:
    """Owes a specialist's former account the news that an invite link moved them away."""
    await outbox.add(UNLINKED, telegram_id, now, now, payload={"specialist": specialist.name})


async def unconfirmed(
    outbox: Outbox,
    booking: Booking,
    specialist: Specialist,
    zone: str,
    now: datetime,
    before: timedelta,
) -> None:
    """Owes a specialist one message about their day's visits no client confirmed yet.

    Due at this visit's start minus `before` (the policy's confirm_by), or sooner when an
    earlier visit that day owes it already: one row per specialist and local day, its
    list read when it is sent. None is owed once that instant has passed.
    """
    due = booking.start - before
    if specialist.telegram_id is None or due <= now:
        return
    day = booking.start.astimezone(workday.zone(zone)).date()
    payload = {"specialist": specialist.id, "day": day.isoformat()}
    await outbox.add_once(UNCONFIRMED, specialist.telegram_id, due, now, payload)


WAITLIST_OFFER = "waitlist_offer"  # to a waiting client: a freed slot held for them


async def offered(outbox: Outbox, booking: Booking, now: datetime) -> None:
    """Owes a waiting client the offer of a slot held for them (Take it / Not this one)."""
    assert booking.client is not None and booking.client.telegram_id is not None
    await outbox.add(WAITLIST_OFFER, booking.client.telegram_id, now, now, booking.id)


PLACE_CHANGED = "place_changed"  # to the client: the visit's window moved to another place


async def place_changed(outbox: Outbox, booking: Booking, now: datetime) -> None:
    """Owes the client the news that their visit is now at another place (read when sent)."""
    if booking.client and booking.client.telegram_id is not None:
        await outbox.add(PLACE_CHANGED, booking.client.telegram_id, now, now, booking.id)
