"""Clients and their chat state: the profile remembered of a Telegram user, and the draft.

Every tap reads both, with the data's version, in one prepared statement (`Chats.chat`).
"""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bookbot.engine.model import Client
from bookbot.store.catalog import BUSINESS_ID
from bookbot.store.tables import BusinessRow, ClientRow, DraftRow

PROFILE = (ClientRow.name, ClientRow.phone, ClientRow.locale)
DRAFT = (
    DraftRow.service_id,
    DraftRow.specialist_id,
    DraftRow.rescheduling_id,
    DraftRow.location_id,
    DraftRow.lat,
    DraftRow.lon,
)
# Built once: every tap runs CHAT, and building a statement cost more than running it.
CHAT = (
    select(BusinessRow.stamp, BusinessRow.version, *PROFILE, *DRAFT)
    .select_from(BusinessRow)
    .outerjoin(ClientRow, ClientRow.telegram_id == bindparam("telegram_id"))
    .outerjoin(DraftRow, DraftRow.telegram_id == bindparam("telegram_id"))
    .where(BusinessRow.id == BUSINESS_ID)
)


def _draft_upsert(insert_into):  # type: ignore[no-untyped-def]
    """Writes a draft in one statement, with the dialect's own INSERT … ON CONFLICT."""
    drafts = DraftRow.__table__.c
    values = {
        "service_id": bindparam("service", type_=drafts.service_id.type),
        "specialist_id": bindparam("specialist", type_=drafts.specialist_id.type),
        "rescheduling_id": bindparam("rescheduling", type_=drafts.rescheduling_id.type),
        "location_id": bindparam("location", type_=drafts.location_id.type),
        "lat": bindparam("lat", type_=drafts.lat.type),
        "lon": bindparam("lon", type_=drafts.lon.type),
        "updated_at": bindparam("at", type_=drafts.updated_at.type),
    }
    return (
        insert_into(DraftRow)
        .values(telegram_id=bindparam("telegram_id"), **values)
        .on_conflict_do_update(index_elements=[DraftRow.telegram_id], set_=values)
    )


DRAFT_UPSERTS = {"sqlite": _draft_upsert(sqlite_insert), "postgresql": _draft_upsert(pg_insert)}


class Profile(Struct, frozen=True):
    """What is remembered of a Telegram user who books."""

    telegram_id: int
    name: str | None = None
    phone: str | None = None
    locale: str | None = None


class Draft(Struct, frozen=True):
    """Where a client's booking flow stands: service, specialist ("*": any), rescheduling.

    In a chain, also the place chosen ("*": any) and the point the client shared, which
    orders the places by distance.
    """

    telegram_id: int
    service: str | None = None
    specialist: str | None = None
    rescheduling: int | None = None
    location: str | None = None
    lat: float | None = None
    lon: float | None = None

    @property
    def point(self) -> tuple[float, float] | None:
        """The point the client shared, if any."""
        return None if self.lat is None or self.lon is None else (self.lat, self.lon)


async def find_or_add_client(session: AsyncSession, client: Client) -> int:
    """The id of this client: found by Telegram id, else a new row."""
    row = None
    if client.telegram_id is not None:
        row = await session.scalar(
            select(ClientRow).where(ClientRow.telegram_id == client.telegram_id)
        )
    if row is None:
        row = ClientRow(telegram_id=client.telegram_id)
        session.add(row)
    row.name = client.name or row.name
    row.phone = client.phone or row.phone
    await session.flush()
    return row.id


class Chats:
    """The repository of what is kept per Telegram user who books; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def chat(self, telegram_id: int) -> tuple[Profile, Draft, tuple[str, int] | None]:
        """A user's profile and draft, and the data's version (stamp, counter): what a tap reads.

        One prepared statement; the version keys the views taps share (services/availability).
        """
        found = (await self.session.execute(CHAT, {"telegram_id": telegram_id})).first()
        if found is None:  # nothing imported yet
            return await self.profile(telegram_id), await self.draft(telegram_id), None
        return (
            Profile(telegram_id, *found[2:5]),
            Draft(telegram_id, *found[5:11]),  # type: ignore[arg-type]
            (found[0], found[1]),
        )

    async def profile(self, telegram_id: int) -> Profile:
        """What is remembered of a Telegram user (nothing yet is an empty profile)."""
        found = (
            await self.session.execute(select(*PROFILE).where(ClientRow.telegram_id == telegram_id))
        ).first()
        return Profile(telegram_id, *found) if found else Profile(telegram_id)

    async def save_profile(self, profile: Profile) -> None:
        """Remembers a Telegram user's name, phone and language."""
        await find_or_add_client(
            self.session, Client(profile.name, profile.phone, profile.telegram_id)
        )
        if profile.locale:
            await self.session.execute(
                update(ClientRow)
                .where(ClientRow.telegram_id == profile.telegram_id)
                .values(locale=profile.locale)
            )

    async def draft(self, telegram_id: int) -> Draft:
        """Where this user's booking flow stands."""
        found = (
            await self.session.execute(select(*DRAFT).where(DraftRow.telegram_id == telegram_id))
        ).first()
        return Draft(telegram_id, *found) if found else Draft(telegram_id)

    async def save_draft(self, draft: Draft, now: datetime) -> None:
        """Writes where this user's booking flow stands, in one statement."""
        await self.session.execute(
            DRAFT_UPSERTS[self.session.get_bind().dialect.name],
            {
                "telegram_id": draft.telegram_id,
                "service": draft.service,
                "specialist": draft.specialist,
                "rescheduling": draft.rescheduling,
                "location": draft.location,
                "lat": draft.lat,
                "lon": draft.lon,
                "at": now,
            },
        )
