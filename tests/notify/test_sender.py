"""Delivery through the Sender protocol alone: plain letters out, plain outcomes back."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select

from bookbot import clinic_file
from bookbot.config import Settings
from bookbot.engine.model import Client
from bookbot.notify import delivery
from bookbot.notify.messages import Policy
from bookbot.notify.sender import (
    Action,
    Button,
    Flooded,
    Unreachable,
)
from bookbot.services.bookings import book
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.store.tables import OutboxRow
from bookbot.store.uow import UnitOfWork
from bookbot.testing.sender import RecordingSender
from tests.clinics import BASIC, NOW

T0 = datetime.fromisoformat(NOW)
START = datetime.fromisoformat("2026-12-03T14:00:00+01:00")
CLIENT = 555


async def booked(db: Database) -> int:
    await import_clinic(db, clinic_file.read(BASIC))
    made = await book(
        db, T0, "ann", "checkup", START, Client("Cleo", "+491", CLIENT), policy=Policy()
    )
    return made.id


async def test_a_reminder_is_plain_text_with_cancel_and_reschedule_actions_the_first_with_i_ll_come(
    db,
) -> None:
    booking_id = await booked(db)
    sender, settings = RecordingSender(), Settings(database_url=db.url)
    assert await delivery.deliver(sender, db, settings, T0) == Counter({"sent": 1})
    [confirmation] = sender.sent
    ics = confirmation.document
    assert confirmation.chat_id == CLIENT
    assert ics is not None and ics.filename == f"booking-{booking_id}.ics"
    assert b"BEGIN:VEVENT" in ics.content
    await delivery.deliver(sender, db, settings, START - timedelta(hours=24))
    reminder = sender.sent[-1]
    assert reminder.document is None and reminder.text.startswith("Reminder")
    cancel_and_move = (
        Button("Cancel", Action.ASK_CANCEL, str(booking_id)),
        Button("Reschedule", Action.RESCHEDULE, str(booking_id)),
    )
    # the first reminder carries "I'll come" beside them; the next one does not
    assert reminder.buttons == (
        (Button("✅ I'll come", Action.ATTEND, str(booking_id)), *cancel_and_move),
    )
    await delivery.deliver(sender, db, settings, START - timedelta(hours=2))
    assert sender.sent[-1].text.startswith("Reminder")
    assert sender.sent[-1].buttons == (cancel_and_move,)


async def test_a_flooded_outcome_writes_the_wait_down_and_counts_no_attempt(db) -> None:
    await booked(db)
    sender = RecordingSender()
    sender.fail(CLIENT, Flooded(30, "Flood control exceeded"))
    outcome = await delivery.deliver(sender, db, Settings(database_url=db.url), T0)
    assert outcome == Counter({"flood": 1})
    async with UnitOfWork(db, write=False) as uow:
        assert await uow.outbox.waiting(CLIENT, T0) == T0 + timedelta(seconds=30)
        row = (
            await uow.session.execute(
                select(OutboxRow.status, OutboxRow.attempts, OutboxRow.error).where(
                    OutboxRow.chat_id == CLIENT, OutboxRow.kind == "confirmation"
                )
            )
        ).one()
    assert tuple(row) == ("pending", 0, "Flood control exceeded")
    assert sender.sent == []  # a refused letter was not sent


async def test_a_chat_that_cannot_be_reached_holds_up_no_other_chat(db) -> None:
    await booked(db)
    other = Client("Dora", "+492", CLIENT + 1)
    await book(db, T0, "ann", "checkup", START + timedelta(hours=1), other, policy=Policy())
    sender = RecordingSender()
    sender.fail(CLIENT, Unreachable("Forbidden: bot was blocked by the user"))
    outcome = await delivery.deliver(sender, db, Settings(database_url=db.url), T0)
    assert outcome == Counter({"sent": 1, "unreachable": 1})
    assert [letter.chat_id for letter in sender.sent] == [CLIENT + 1]
