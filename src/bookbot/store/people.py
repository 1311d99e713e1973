"""Reads and writes who may do what, and answers the bot waits for; never commits."""

from __future__ import annotations

import json
from datetime import datetime

from msgspec import Struct
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bookbot.store.tables import AdminRow, InviteRow, MenuRow, PendingChangeRow, ReasonWaitRow


class Invite(Struct, frozen=True):
    """A one-time link code for one specialist, valid until `expires_at`."""

    code: str
    specialist: str
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by: int | None = None


class PendingChange(Struct, frozen=True):
    """A schedule change waiting for its asker's Confirm or Keep."""

    id: int
    telegram_id: int
    specialist: str
    change: dict
    status: str
    expires_at: datetime


class ReasonWait(Struct, frozen=True):
    """A specialist who tapped Cancel on a booking and is asked for the reason."""

    telegram_id: int
    booking_id: int
    created_at: datetime


class People:
    """The repository of admins promoted in the chat, invites, and pending answers."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- admins ----------------------------------------------------------------------------

    async def is_admin(self, telegram_id: int) -> bool:
        """Tells whether someone was promoted to admin in the chat."""
        return await self.session.get(AdminRow, telegram_id) is not None

    async def admins(self) -> list[int]:
        """Everyone promoted to admin in the chat."""
        return list(
            await self.session.scalars(select(AdminRow.telegram_id).order_by(AdminRow.telegram_id))
        )

    async def promote(self, telegram_id: int, by: int, now: datetime) -> bool:
        """Records a promoted admin; tells whether they were not one already."""
        if await self.is_admin(telegram_id):
            return False
        self.session.add(AdminRow(telegram_id=telegram_id, promoted_by=by, created_at=now))
        await self.session.flush()
        return True

    async def demote(self, telegram_id: int) -> bool:
        """Forgets a promoted admin; tells whether they were one."""
        result = await self.session.execute(
            delete(AdminRow).where(AdminRow.telegram_id == telegram_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- command menus ---------------------------------------------------------------------

    async def menus(self) -> dict[int, str]:
        """The signature of the menu last set in each chat that has one of its own."""
        rows = await self.session.execute(select(MenuRow.telegram_id, MenuRow.signature))
        return dict(rows.all())

    async def menu(self, telegram_id: int) -> str | None:
        """The signature of the menu last set in this person's chat; None: the default."""
        row = await self.session.get(MenuRow, telegram_id)
        return row.signature if row else None

    async def set_menu(self, telegram_id: int, signature: str | None, now: datetime) -> None:
        """Records the menu just set in a chat (None: back to the default)."""
        await self.session.execute(delete(MenuRow).where(MenuRow.telegram_id == telegram_id))
        if signature is not None:
            self.session.add(MenuRow(telegram_id=telegram_id, signature=signature, set_at=now))
        await self.session.flush()

    # -- invites ---------------------------------------------------------------------------

    async def add_invite(self, invite: Invite) -> None:
        """Records a new invite."""
        self.session.add(
            InviteRow(
                code=invite.code,
                specialist_id=invite.specialist,
                created_by=invite.created_by,
                created_at=invite.created_at,
                expires_at=invite.expires_at,
            )
        )
        await self.session.flush()

    async def invite(self, code: str) -> Invite | None:
        """One invite by its code."""
        row = await self.session.get(InviteRow, code)
        if row is None:
            return None
        return Invite(
            row.code,
            row.specialist_id,
            row.created_by,
            row.created_at,
            row.expires_at,
            row.used_at,
            row.used_by,
        )

    async def use_invite(self, code: str, telegram_id: int, now: datetime) -> bool:
        """Marks an invite used, unless it was used meanwhile; tells whether this use won."""
        result = await self.session.execute(
            update(InviteRow)
            .where(InviteRow.code == code, InviteRow.used_at.is_(None))
            .values(used_at=now, used_by=telegram_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- changes waiting for confirmation --------------------------------------------------

    async def add_pending(
        self, telegram_id: int, specialist: str, change: dict, now: datetime, expires_at: datetime
    ) -> int:
        """Records a change to confirm; returns its short id for the buttons."""
        row = PendingChangeRow(
            telegram_id=telegram_id,
            specialist_id=specialist,
            change=json.dumps(change, ensure_ascii=False),
            status="pending",
            created_at=now,
            expires_at=expires_at,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def pending(self, pending_id: int) -> PendingChange | None:
        """One pending change by id."""
        row = await self.session.get(PendingChangeRow, pending_id)
        if row is None:
            return None
        return PendingChange(
            row.id,
            row.telegram_id,
            row.specialist_id,
            json.loads(row.change),
            row.status,
            row.expires_at,
        )

    async def settle(self, pending_id: int, status: str, now: datetime) -> bool:
        """Marks a pending change applied or kept, once; tells whether this call did it."""
        result = await self.session.execute(
            update(PendingChangeRow)
            .where(PendingChangeRow.id == pending_id, PendingChangeRow.status == "pending")
            .values(status=status, settled_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- reasons awaited -------------------------------------------------------------------

    async def await_reason(self, telegram_id: int, booking_id: int, now: datetime) -> None:
        """Records that this person's next text is the reason to cancel that booking."""
        row = await self.session.get(ReasonWaitRow, telegram_id) or ReasonWaitRow(
            telegram_id=telegram_id
        )
        row.booking_id, row.created_at = booking_id, now
        self.session.add(row)
        await self.session.flush()

    async def reason_wait(self, telegram_id: int) -> ReasonWait | None:
        """The booking this person was asked a reason for, if any."""
        row = await self.session.get(ReasonWaitRow, telegram_id)
        return ReasonWait(row.telegram_id, row.booking_id, row.created_at) if row else None

    async def drop_reason_wait(self, telegram_id: int) -> ReasonWait | None:
        """Forgets that a reason is awaited from this person; returns what was awaited."""
        found = await self.reason_wait(telegram_id)
        if found is not None:
            await self.session.execute(
                delete(ReasonWaitRow).where(ReasonWaitRow.telegram_id == telegram_id)
            )
        return found
