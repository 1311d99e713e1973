"""The availability counter: every change to what is free raises it, nothing else does.

The bot shares what a tap shows between taps under this counter (services/availability.py,
`viewed`), so a change that forgot to raise it would show stale slots to every client.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bookbot import clinic_file
from bookbot.engine.model import Client
from bookbot.notify.messages import Policy
from bookbot.services import bookings, people, schedules
from bookbot.services import chat as client_chat
from bookbot.services.availability import month
from bookbot.services.clinic import import_clinic
from bookbot.store.chats import Draft, Profile
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork
from tests.clinics import BASIC, NOW

now = datetime.fromisoformat(NOW)
ADMIN = people.Actor(1, admin=True)
POLICY = Policy((timedelta(hours=24),), timedelta(hours=24))


async def counter(db: Database) -> int:
    async with UnitOfWork(db, write=False) as uow:
        _, _, seen = await uow.chats.chat(0)
    assert seen is not None
    return seen[1]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+01:00")


async def test_each_change_to_what_is_free_raises_the_counter(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    steps = {
        "book": lambda: bookings.book(
            db, now, "ann", "checkup", at("2026-12-01T09:40"), Client("A", "+491", None)
        ),
        "hold": lambda: bookings.hold(
            db, now, 77, "checkup", "ann", at("2026-12-01T10:20"), timedelta(minutes=10)
        ),
        "confirm": lambda: _confirm_hold(db, 77),
        "cancel": lambda: bookings.cancel(db, now, 1, reason="test"),
        "day off": lambda: schedules.change(
            db, now, ADMIN, schedules.Change(schedules.DAY_OFF, "ben", first=date(2026, 12, 2))
        ),
        "lapsed hold expired": lambda: _expire_later_hold(db),
        "import with a change": lambda: import_clinic(
            db, clinic_file.read(BASIC.replace("horizon_days: 60", "horizon_days: 30"))
        ),
    }
    for name, step in steps.items():
        before = await counter(db)
        await step()
        assert await counter(db) > before, name


async def test_drafts_profiles_and_reads_leave_the_counter_alone(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC))
    before = await counter(db)
    await client_chat.save_draft(db, now, Draft(5, service="checkup", specialist="ann"))
    await client_chat.remember(db, Profile(5, name="Eve", phone="+4915100000"))
    await month(db, now, "checkup", "ann", None)
    await import_clinic(db, clinic_file.read(BASIC))  # nothing new in the file
    assert await counter(db) == before


async def _confirm_hold(db: Database, telegram_id: int) -> None:
    held = await client_chat.held(db, now, telegram_id)
    assert held is not None and held.booking.id is not None
    await bookings.confirm(db, now, held.booking.id, client=telegram_id, policy=POLICY)


async def _expire_later_hold(db: Database) -> None:
    await bookings.hold(
        db, now, 78, "checkup", "ann", at("2026-12-01T11:00"), timedelta(minutes=10)
    )
    before = await counter(db)
    await client_chat.restart(db, now + timedelta(minutes=20), 78)  # lets go of the lapsed hold
    assert await counter(db) > before
