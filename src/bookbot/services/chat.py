"""Use cases of a client's chat: where the flow stands, who they are, what they hold.

A tap reads its user's profile, draft and the data's version at once (`chat`); a contact
message is remembered and answered from one unit of work (`give_contact`).
`Profile` and `Draft` are values the store builds (store/chats.py); bot/ takes them from
here, since entry points import nothing of store/.
"""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct
from msgspec.structs import replace

from bookbot.engine import bookings
from bookbot.engine.model import BookingStatus
from bookbot.services.attendance import no_shows_bring
from bookbot.services.availability import Seen
from bookbot.services.bookings import let_go_holds
from bookbot.services.visits import Visit, named
from bookbot.store.chats import Draft, Profile
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork, retried


class Chat(Struct, frozen=True):
    """What a tap needs to know: the person's profile and draft, and the data's version."""

    profile: Profile
    draft: Draft
    seen: Seen | None


class Holding(Struct, frozen=True):
    """What a contact message is answered with: the profile, and the live hold if any."""

    profile: Profile
    held: Visit | None


async def chat(db: Database, telegram_id: int) -> Chat:
    """The profile and the draft of one user, and the version of the data, read together."""
    async with UnitOfWork(db, write=False) as uow:
        return Chat(*await uow.chats.chat(telegram_id))


@retried
async def save_draft(db: Database, now: datetime, value: Draft) -> None:
    """Records where this user's booking flow stands."""
    async with UnitOfWork(db) as uow:
        await uow.chats.save_draft(value, now)
        await uow.commit()


@retried
async def restart(db: Database, now: datetime, telegram_id: int) -> None:
    """Starts the flow afresh: forgets where it stood and lets go of any held slot."""
    async with UnitOfWork(db) as uow:
        await let_go_holds(uow, now, telegram_id, [])
        await uow.chats.save_draft(Draft(telegram_id), now)
        await uow.commit()


async def profile(db: Database, telegram_id: int) -> Profile:
    """What is remembered of this user."""
    async with UnitOfWork(db, write=False) as uow:
        return await uow.chats.profile(telegram_id)


@retried
async def remember(db: Database, value: Profile) -> None:
    """Remembers a user's name, phone and language, and puts them on their live hold."""
    async with UnitOfWork(db) as uow:
        await uow.lock(clients=[value.telegram_id])
        await uow.chats.save_profile(value)
        await uow.commit()


async def held(db: Database, now: datetime, telegram_id: int) -> Visit | None:
    """The client's live hold, if one is waiting for confirmation."""
    async with UnitOfWork(db, write=False) as uow:
        return await _held(uow, now, telegram_id)


async def holding(db: Database, now: datetime, telegram_id: int) -> Holding:
    """The client's profile and live hold, read together."""
    async with UnitOfWork(db, write=False) as uow:
        return Holding(await uow.chats.profile(telegram_id), await _held(uow, now, telegram_id))


@retried
async def give_contact(
    db: Database, now: datetime, value: Profile, *, only_holding: bool = False
) -> Holding:
    """Remembers a client's name and phone, which their live hold then carries.

    With `only_holding`, a client who holds nothing is not remembered (a typed contact
    means something only while a slot is held).
    """
    async with UnitOfWork(db) as uow:
        await uow.lock(clients=[value.telegram_id])
        if only_holding and await _held(uow, now, value.telegram_id) is None:
            return Holding(await uow.chats.profile(value.telegram_id), None)
        await uow.chats.save_profile(value)
        found = Holding(
            await uow.chats.profile(value.telegram_id), await _held(uow, now, value.telegram_id)
        )
        await uow.commit()
        return found


async def coming(db: Database, now: datetime, telegram_id: int) -> list[Visit]:
    """The client's confirmed bookings that have not begun, soonest first."""
    async with UnitOfWork(db, write=False) as uow:
        found = [
            b
            for b in await uow.bookings.bookings(client=telegram_id, since=now)
            if bookings.is_coming(b, now)
        ]
        return [await named(uow.catalog, b) for b in found]


async def _held(uow: UnitOfWork, now: datetime, telegram_id: int) -> Visit | None:
    mine = [
        b
        for b in await uow.bookings.bookings(client=telegram_id, since=now)
        if b.status == BookingStatus.HELD and bookings.is_live(b, now)
    ]
    if not mine:
        return None
    visit = await named(uow.catalog, mine[-1])
    return replace(visit, after_no_shows=await no_shows_bring(uow, now, telegram_id))
