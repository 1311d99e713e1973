"""A contact given in the chat: remembered, put on the live hold, answered in one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import event

from bookbot import clinic_file
from bookbot.services import bookings, chat
from bookbot.services.clinic import import_clinic
from bookbot.store.chats import Profile
from bookbot.store.db import Database
from tests.clinics import BASIC, NOW

T0 = datetime.fromisoformat(NOW)
START = datetime.fromisoformat("2026-12-01T10:20:00+01:00")
HOLD = timedelta(minutes=10)
CLIENT = 4242


async def transactions(db: Database, use_case) -> tuple[object, int]:  # type: ignore[no-untyped-def]
    """What a use case returns, and how many transactions it began."""
    begun = []

    def count(*_: object) -> None:
        begun.append(1)

    event.listen(db.engine.sync_engine, "begin", count)
    try:
        found = await use_case()
    finally:
        event.remove(db.engine.sync_engine, "begin", count)
    return found, len(begun)


async def test_a_contact_goes_on_the_live_hold_in_one_transaction(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    await chat.remember(db, Profile(CLIENT, locale="ru"))
    await bookings.hold(db, T0, CLIENT, "checkup", "ann", START, HOLD)
    given = Profile(CLIENT, name="Cleo Brandt", phone="+4915100001")
    found, begun = await transactions(db, lambda: chat.give_contact(db, T0, given))
    assert begun == 1
    assert found.profile == Profile(CLIENT, "Cleo Brandt", "+4915100001", "ru")
    assert found.held is not None and found.held.booking.start == START
    assert found.held.booking.client is not None
    assert found.held.booking.client.name == "Cleo Brandt"


async def test_a_typed_contact_without_a_hold_is_not_remembered(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    given = Profile(CLIENT, name="Cleo Brandt", phone="+4915100001")
    found, begun = await transactions(
        db, lambda: chat.give_contact(db, T0, given, only_holding=True)
    )
    assert begun == 1
    assert found == chat.Holding(Profile(CLIENT), None)
    assert await chat.profile(db, CLIENT) == Profile(CLIENT)
    shared = await chat.give_contact(db, T0, given)  # a shared contact is kept without a hold
    assert shared == chat.Holding(Profile(CLIENT, "Cleo Brandt", "+4915100001"), None)
