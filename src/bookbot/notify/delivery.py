"""Delivers due outbox rows through a Sender: claim, render, send, mark.

A row is claimed (with a lease) before it is sent and marked after, in separate
transactions. A sender that dies between claim and send leaves a lease that runs out, and
the row is sent later: none is lost. The one window for a double send is between the
messenger accepting a message and the row being marked sent; a crash exactly there sends it again.

Each chat's rows go out in order, and a chat that must wait (its pace, a 429) holds up
only itself. A 429 is written down for the chat, so every sender, in this process or
another, leaves it alone until the wait is over; the row goes back without counting an
attempt (`attempts` counts errors only).
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from datetime import datetime, timedelta

from msgspec.structs import replace

from bookbot import i18n
from bookbot.config import Settings
from bookbot.engine.bookings import is_live, may_review
from bookbot.engine.model import BookingStatus
from bookbot.notify import messages, reviews, terms, unconfirmed
from bookbot.notify.ics import invitation
from bookbot.notify.sender import (
    Action,
    Button,
    Buttons,
    Document,
    Failed,
    Flooded,
    Letter,
    Sender,
    Unreachable,
    post,
)
from bookbot.services.visits import Visit, named
from bookbot.store.db import Database
from bookbot.store.outbox import Message
from bookbot.store.uow import UnitOfWork

BATCH = 50
PER_CHAT = 3  # rows of one chat in a batch: about its burst, a few seconds at its pace
GIVE_UP_AFTER = 5


async def claim(db: Database, now: datetime, limit: int = BATCH) -> list[Message]:
    """Claims due rows for this sender, in their own committed transaction.

    At most PER_CHAT of one chat's: a chat with many messages owed takes a small share
    of each batch, and the batch ends soon whatever its pace.
    """
    async with UnitOfWork(db) as uow:
        claimed = await uow.outbox.claim(now, limit, per_chat=PER_CHAT)
        await uow.commit()
    return claimed


async def deliver(sender: Sender, db: Database, settings: Settings, now: datetime) -> Counter:
    """Claims and sends every due row; returns how many were sent, dropped, failed, delayed."""
    outcome: Counter = Counter()
    while claimed := await claim(db, now):
        outcome.update(await _batch(sender, db, settings, now, claimed))
    return outcome


async def _batch(
    sender: Sender, db: Database, settings: Settings, now: datetime, claimed: list[Message]
) -> Counter:
    """Sends a batch one message at a time, each chat's in order, whose turn has come first.

    One at a time keeps the window for a double send to one message (see above). A chat
    whose pace makes it wait lets the others go first; a chat told to wait has its rest
    put back, and the others go on.
    """
    outcome: Counter = Counter()
    lanes: dict[int, deque[Message]] = {}
    for message in claimed:
        lanes.setdefault(message.chat_id, deque()).append(message)
    while lanes:
        turns = {chat: sender.pace_wait(chat) for chat in lanes}
        ready = [chat for chat, wait in turns.items() if wait <= 0]
        chat = ready[0] if ready else min(turns, key=turns.__getitem__)
        await asyncio.sleep(turns[chat])  # when no turn came yet: the soonest, within a second
        rows = lanes[chat]
        try:
            outcome[await send(sender, db, settings, now, rows.popleft())] += 1
        except Flood as flood:
            outcome["flood"] += 1 + len(rows)
            for rest in rows:
                await _finish(db, rest, flood.until, "pending", "waiting out a flood limit")
            rows.clear()
        if not rows:
            del lanes[chat]
    return outcome


class Flood(Exception):
    """The messenger's flood limit: nothing more may be sent to this chat before `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


async def send(
    sender: Sender, db: Database, settings: Settings, now: datetime, message: Message
) -> str:
    """Sends one claimed row and marks it; says what became of it (raises Flood to pause).

    The row is marked sent only once the messenger accepted it. A chat another sender was told
    to wait is not written to; a 429 writes the wait down for every sender.
    """
    async with UnitOfWork(db, write=False) as uow:
        waiting = await uow.outbox.waiting(message.chat_id, now)
    if waiting is not None:
        await _finish(db, message, waiting, "pending", "waiting out a flood limit")
        raise Flood(waiting)
    letter = await render(db, settings, now, message)
    if letter is None:
        await _finish(db, message, now, "dropped", "no longer needed")
        return "dropped"
    result = await post(sender, message.chat_id, letter)
    if isinstance(result, Flooded):
        until = now + timedelta(seconds=result.seconds)
        async with UnitOfWork(db) as uow:
            await uow.outbox.postpone(message.id, until, result.error)
            await uow.outbox.wait_out(message.chat_id, until, now)
            await uow.commit()
        raise Flood(until)
    if isinstance(result, Unreachable):
        async with UnitOfWork(db) as uow:
            await uow.outbox.finish(message.id, "failed", now, result.error, attempt=True)
            await uow.outbox.unreachable(message.chat_id)
            await uow.commit()
        return "unreachable"
    if isinstance(result, Failed):
        tries = message.attempts + 1
        if tries >= GIVE_UP_AFTER:
            await _finish(db, message, now, "failed", result.error, attempt=True)
            return "failed"
        backoff = timedelta(seconds=30 * tries**2)
        await _finish(db, message, now + backoff, "pending", result.error, attempt=True)
        return "retry"
    await _finish(db, message, now, "sent")
    return "sent"


async def _finish(
    db: Database,
    message: Message,
    when: datetime,
    status: str,
    error: str | None = None,
    *,
    attempt: bool = False,
) -> None:
    async with UnitOfWork(db) as uow:
        if status == "pending":
            await uow.outbox.postpone(message.id, when, error or "", attempt=attempt)
        else:
            await uow.outbox.finish(message.id, status, when, error, attempt=attempt)
        await uow.commit()


async def render(
    db: Database, settings: Settings, now: datetime, message: Message
) -> Letter | None:
    """The text a row stands for, in the recipient's language; None if it is moot now."""
    if message.kind == messages.UNCONFIRMED:
        return await unconfirmed.letter(db, settings, now, message)
    if message.booking_id is None:
        return await _notice(db, settings, message)
    async with UnitOfWork(db, write=False) as uow:
        found = await uow.bookings.booking(message.booking_id) if message.booking_id else None
        if found is None:
            return None
        held = await named(uow.catalog, found)
        profile = await uow.chats.profile(message.chat_id)
        names = {s.id: s.name for s in await uow.catalog.specialists()}
    live = found.status == BookingStatus.CONFIRMED
    if message.kind in (messages.REMINDER, messages.PLACE_CHANGED) and (
        not live or found.start <= now
    ):
        return None  # cancelled meanwhile, or the visit has begun
    if message.kind == messages.CONFIRMATION and not live:
        return None
    if message.kind == messages.REVIEW and may_review(found, now) is not None:
        return None  # cancelled meanwhile: only a visit that took place is asked about
    if message.kind == messages.WAITLIST_OFFER and (
        found.status != BookingStatus.HELD or not is_live(found, now)
    ):
        return None  # taken, passed on or run out before it could go
    lang = i18n.choose(profile.locale, settings.locale)
    others = [
        {**other, "name": names.get(other["specialist"], other["specialist"])}
        for other in message.payload.get("alternatives", [])
    ]
    message = replace(message, payload={**message.payload, "alternatives": others})
    return RENDER[message.kind](held, message, lang, settings, now)


async def _notice(db: Database, settings: Settings, message: Message) -> Letter | None:
    """The text of a row about no booking (a specialist's account unlinked)."""
    if message.kind != messages.UNLINKED:
        return None
    async with UnitOfWork(db, write=False) as uow:
        profile = await uow.chats.profile(message.chat_id)
    lang = i18n.choose(profile.locale, settings.locale)
    return Letter(i18n.text("notify.unlinked", lang, name=message.payload.get("specialist", "")))


def _names(held: Visit, lang: str) -> dict:
    client = held.booking.client
    return {
        "service": held.service.name,
        "specialist": held.specialist.name,
        "when": i18n.moment(held.booking.start, lang),
        "client": client.name if client and client.name else "—",
        "phone": client.phone if client and client.phone else "—",
    }


def _confirmation(held, message, lang, settings, now) -> Letter:  # type: ignore[no-untyped-def]
    said = [i18n.text("notify.confirmation", lang, **_names(held, lang))]
    return Letter(
        "\n".join(said + terms.place(held, lang) + terms.lines(held, lang, now)),
        document=Document(f"booking-{held.booking.id}.ics", invitation(held, lang, now)),
    )


def _new_booking(held, message, lang, settings, now) -> Letter:  # type: ignore[no-untyped-def]
    # Cancel asks the specialist for a reason first (bot/handlers/specialist.py).
    cancel = (
        (
            Button(
                i18n.text("specialist.cancel_button", lang),
                Action.SPECIALIST_CANCEL,
                str(held.booking.id),
            ),
        ),
    )
    return Letter(i18n.text("notify.new_booking", lang, **_names(held, lang)), cancel)


def _reminder(held, message, lang, settings, now) -> Letter:  # type: ignore[no-untyped-def]
    said = i18n.text("notify.reminder", lang, **_names(held, lang))
    booking_id = str(held.booking.id)
    attend: tuple[Button, ...] = ()
    if message.payload.get("attend"):  # the first reminder: "I'll come", even past the cut-off
        attend = (Button(i18n.text("attendance.attend", lang), Action.ATTEND, booking_id),)
    if not held.client_may_change(now):  # past the cut-off: no Cancel or Move, a call
        return Letter(f"{said}\n{terms.call(held, lang)}", (attend,) if attend else ())
    buttons: Buttons = (
        (
            *attend,
            Button(i18n.text("notify.cancel", lang), Action.ASK_CANCEL, booking_id),
            Button(i18n.text("notify.reschedule", lang), Action.RESCHEDULE, booking_id),
        ),
    )
    return Letter(said, buttons)


def _cancelled_by_client(held, message, lang, settings, now) -> Letter:  # type: ignore[no-untyped-def]
    return Letter(i18n.text("notify.cancelled_by_client", lang, **_names(held, lang)))


def _cancelled_for_client(held, message, lang, settings, now) -> Letter:  # type: ignore[no-untyped-def]
    reason = message.payload.get("reason") or i18n.text("notify.no_reason", lang)
    lines = [i18n.text("notify.cancelled_for_client", lang, reason=reason, **_names(held, lang))]
    others = message.payload.get("alternatives") or []
    if others:
        lines.append(i18n.text("notify.alternatives", lang))
        tz = held.booking.start.tzinfo
        for other in others:
            start = datetime.fromisoformat(other["start"]).astimezone(tz)
            lines.append(f"• {i18n.brief(start, lang)}, {other['name']}")
    lines.append(i18n.text("notify.book_again", lang))
    return Letter("\n".join(lines))


def _review(held, message, lang, settings, now) -> Letter:  # type: ignore[no-untyped-def]
    booking_id = held.booking.id
    rows = [
        tuple(Button("★" * stars, Action.RATE, f"{booking_id}-{stars}") for stars in range(1, 6))
    ]
    if settings.public_url and settings.secret:
        link = reviews.token(booking_id, now, settings.review_ttl, settings.secret)
        rows.append(
            (
                Button(
                    i18n.text("notify.review_page", lang),
                    url=f"{settings.public_url}/review?token={link}",
                ),
            )
        )
    return Letter(i18n.text("notify.review", lang, **_names(held, lang)), tuple(rows))


def _offer(held, message, lang, settings, now) -> Letter:  # type: ignore[no-untyped-def]
    booking_id = str(held.booking.id)
    left = held.booking.hold_until - now if held.booking.hold_until else timedelta(0)
    buttons = (
        (
            Button(i18n.text("waiting.take", lang), Action.TAKE_OFFER, booking_id),
            Button(i18n.text("waiting.pass", lang), Action.PASS_OFFER, booking_id),
        ),
        (Button(i18n.text("waiting.leave", lang), Action.LEAVE_OFFERED, booking_id),),
    )
    minutes = max(1, int(left.total_seconds() // 60))
    return Letter(i18n.text("waiting.offer", lang, minutes=minutes, **_names(held, lang)), buttons)


def _place_changed(held, message, lang, settings, now) -> Letter:  # type: ignore[no-untyped-def]
    # The same event (its uid is the booking's) at the new place, for the client's calendar.
    said = i18n.text("notify.place_changed", lang, **_names(held, lang))
    return Letter(
        "\n".join([said, *terms.place(held, lang)]),
        document=Document(f"booking-{held.booking.id}.ics", invitation(held, lang, now)),
    )


RENDER = {
    messages.CONFIRMATION: _confirmation,
    messages.NEW_BOOKING: _new_booking,
    messages.REMINDER: _reminder,
    messages.CANCELLED_BY_CLIENT: _cancelled_by_client,
    messages.CANCELLED_FOR_CLIENT: _cancelled_for_client,
    messages.REVIEW: _review,
    messages.WAITLIST_OFFER: _offer,
    messages.PLACE_CHANGED: _place_changed,
}
