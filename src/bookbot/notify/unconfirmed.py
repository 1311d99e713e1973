"""The specialist's list of a day's visits no client confirmed yet, read when it is sent.

notify/messages.py `unconfirmed` owes one row per specialist and local day, due at the
first visit's start minus the policy's `confirm_by`; this renders it from the day's
bookings as they stand then. When every visit is confirmed, nothing is sent.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bookbot import i18n
from bookbot.config import Settings
from bookbot.engine.bookings import is_coming
from bookbot.engine.workday import zone
from bookbot.notify.sender import Letter
from bookbot.services.visits import named
from bookbot.store.db import Database
from bookbot.store.outbox import Message
from bookbot.store.uow import UnitOfWork


async def letter(
    db: Database, settings: Settings, now: datetime, message: Message
) -> Letter | None:
    """The day's coming visits without "I'll come", each with the client's phone; or None."""
    day = date.fromisoformat(message.payload["day"])
    async with UnitOfWork(db, write=False) as uow:
        business = await uow.catalog.business()
        specialist = await uow.catalog.specialist(message.payload["specialist"])
        if business is None or specialist is None or specialist.telegram_id != message.chat_id:
            return None  # gone, or linked to another account meanwhile
        tz = zone(specialist.zone(business))
        since = datetime.combine(day, time(0), tz)
        until = datetime.combine(day + timedelta(days=1), time(0), tz)
        found = await uow.bookings.bookings(specialists=[specialist.id], since=since, until=until)
        waiting = [
            await named(uow.catalog, b)
            for b in found
            if is_coming(b, now) and b.attending_at is None and since <= b.start < until
        ]
        profile = await uow.chats.profile(message.chat_id)
    if not waiting:
        return None
    lang = i18n.choose(profile.locale, settings.locale)
    lines = [i18n.text("attendance.unconfirmed", lang, day=i18n.day(day, lang))]
    for visit in waiting:
        client = visit.booking.client
        lines.append(
            i18n.text(
                "attendance.unconfirmed_line",
                lang,
                time=i18n.clock(visit.booking.start, lang),
                client=client.name if client and client.name else "—",
                phone=client.phone if client and client.phone else "—",
                service=visit.service.name,
            )
        )
    return Letter("\n".join(lines))
