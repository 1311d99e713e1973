"""Use cases of the people behind the bot: who is asking, their roles, invites and menus.

An admin is one by setting (BOOKBOT_ADMINS) or by promotion in the chat; a specialist is
one by linking their Telegram account with an invite. Everyone else is a client.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from msgspec import Struct
from msgspec.structs import replace

from bookbot.engine.model import Business, Specialist
from bookbot.errors import BadInput, Refused
from bookbot.notify import messages
from bookbot.services.basics import require_business
from bookbot.store.catalog import Catalog
from bookbot.store.db import Database
from bookbot.store.people import Invite
from bookbot.store.uow import UnitOfWork, retried

INVITE_TTL = timedelta(days=7)


class Actor(Struct, frozen=True):
    """Who is asking: their Telegram id, whether they are an admin, their specialist id."""

    telegram_id: int
    admin: bool = False
    specialist: str | None = None

    @property
    def staff(self) -> bool:
        """Tells whether this person is more than a client."""
        return self.admin or self.specialist is not None


class Linked(Struct, frozen=True):
    """A specialist just linked to a Telegram account, and the account it replaced, if any."""

    specialist: Specialist
    previous: int | None


class Menu(Struct, frozen=True):
    """One person's roles now, and the signature of the command menu last set in their chat."""

    actor: Actor
    shown: str | None


# -- who is asking -----------------------------------------------------------------------


async def who(db: Database, telegram_id: int, admins: frozenset[int]) -> Actor:
    """The roles of a Telegram user: admin by setting or promotion, specialist by link."""
    async with UnitOfWork(db, write=False) as uow:
        return await _roles(uow, telegram_id, admins)


async def _roles(uow: UnitOfWork, telegram_id: int, admins: frozenset[int]) -> Actor:
    """`who`, within a unit of work already open."""
    admin = telegram_id in admins or await uow.people.is_admin(telegram_id)
    linked = await uow.catalog.specialists(linked=telegram_id)
    return Actor(telegram_id, admin, linked[0].id if linked else None)


def require_admin(actor: Actor) -> None:
    """Refuses anyone but an admin."""
    if not actor.admin:
        raise Refused("admin.not_allowed")


async def managed(
    catalog: Catalog, actor: Actor, specialist_id: str
) -> tuple[Business, Specialist]:
    """The business and a specialist this actor may see and change, or why not.

    An admin may manage every specialist; a linked specialist only themselves.
    """
    business = await require_business(catalog)
    if not actor.admin:
        if actor.specialist is None:
            raise Refused("admin.not_allowed")
        if specialist_id != actor.specialist:
            raise Refused("admin.not_yours")
    found = await catalog.specialist(specialist_id)
    if found is None:
        raise BadInput("error.unknown_specialist", id=specialist_id)
    return business, found


# -- the menus their chats show ----------------------------------------------------------


async def menu(db: Database, telegram_id: int, admins: frozenset[int]) -> Menu:
    """A person's roles and the menu their chat shows, read together."""
    async with UnitOfWork(db, write=False) as uow:
        return Menu(await _roles(uow, telegram_id, admins), await uow.people.menu(telegram_id))


async def menus(db: Database, admins: frozenset[int]) -> list[Menu]:
    """Everyone whose chat should or does show a menu of its own: staff, and former staff."""
    async with UnitOfWork(db, write=False) as uow:
        promoted = set(await uow.people.admins())
        shown = await uow.people.menus()
        linked = {
            s.telegram_id: s.id
            for s in await uow.catalog.specialists()
            if s.telegram_id is not None
        }
    ids = sorted(set(admins) | promoted | set(linked) | set(shown))
    return [Menu(Actor(i, i in admins or i in promoted, linked.get(i)), shown.get(i)) for i in ids]


async def menu_set(db: Database, now: datetime, telegram_id: int, signature: str | None) -> None:
    """Records the menu just set in a person's chat (None: the clients' default)."""
    async with UnitOfWork(db) as uow:
        await uow.people.set_menu(telegram_id, signature, now)
        await uow.commit()


# -- roles -------------------------------------------------------------------------------


@retried
async def invite(db: Database, now: datetime, actor: Actor, specialist_id: str) -> Invite:
    """Makes a one-time invite code that links a specialist to whoever opens it (7 days)."""
    require_admin(actor)
    async with UnitOfWork(db) as uow:
        await managed(uow.catalog, actor, specialist_id)
        made = Invite(
            secrets.token_urlsafe(9), specialist_id, actor.telegram_id, now, now + INVITE_TTL
        )
        await uow.people.add_invite(made)
        await uow.commit()
    return made


@retried
async def link(db: Database, now: datetime, telegram_id: int, code: str) -> Linked:
    """Links the specialist of an unused, unexpired invite to this Telegram account.

    The account it replaces, if any, is owed a notice in the same transaction.
    """
    async with UnitOfWork(db) as uow:
        found = await uow.people.invite(code)
        if found is None:
            raise BadInput("admin.invite_unknown")
        if found.used_at is not None:
            raise Refused("admin.invite_used")
        if found.expires_at <= now:
            raise Refused("admin.invite_expired")
        await uow.lock(clients=[telegram_id], specialists=[found.specialist])
        specialist = await uow.catalog.specialist(found.specialist)
        if specialist is None:
            raise BadInput("admin.invite_unknown")
        other = await uow.catalog.specialists(linked=telegram_id)
        if other and other[0].id != specialist.id:
            raise Refused("admin.linked_elsewhere", name=other[0].name)
        if not await uow.people.use_invite(code, telegram_id, now):
            raise Refused("admin.invite_used")
        previous = specialist.telegram_id if specialist.telegram_id != telegram_id else None
        linked = replace(specialist, telegram_id=telegram_id)
        await uow.catalog.save_specialist(linked, (await uow.catalog.positions()).get(linked.id, 0))
        if previous is not None:
            await messages.unlinked(uow.outbox, previous, linked, now)
        await uow.commit()
    return Linked(linked, previous)


@retried
async def promote(db: Database, now: datetime, actor: Actor, telegram_id: int) -> bool:
    """Makes someone an admin; tells whether they were not one already."""
    require_admin(actor)
    async with UnitOfWork(db) as uow:
        await uow.lock(clients=[telegram_id])
        added = await uow.people.promote(telegram_id, actor.telegram_id, now)
        await uow.commit()
    return added


@retried
async def demote(db: Database, actor: Actor, telegram_id: int, admins: frozenset[int]) -> bool:
    """Takes a promoted admin's role back; tells whether they had it.

    An admin of BOOKBOT_ADMINS stays one: the setting, not the chat, says so.
    """
    require_admin(actor)
    if telegram_id in admins:
        raise Refused("admin.demote_configured", id=telegram_id)
    async with UnitOfWork(db) as uow:
        await uow.lock(clients=[telegram_id])  # as promote does: the two take turns
        removed = await uow.people.demote(telegram_id)
        await uow.commit()
    return removed
