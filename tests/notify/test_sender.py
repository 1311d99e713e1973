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
    Buttons,
    Document,
    Flooded,
    Outcome,
    Sent,
)
from bookbot.services.bookings import book
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.store.tables import OutboxRow
from bookbot.store.uow import UnitOfWork
from tests.clinics import BASIC, NOW

T0 = datetime.fromisoformat(NOW)
START = datetime.fromisoformat("2026-12-03T14:00:00+01:00")
CLIENT = 555


class Recording:
    """A Sender that keeps what it was asked to send and answers with `answer`."""

    def __init__(self, answer: Outcome | None = None) -> None:
        self.answer = answer or Sent()
        self.sent: list[tuple[int, str, Buttons, Document | None]] = []

    async def send_text(self, chat_id: int, text: str, buttons: Buttons = ()) -> Outcome:
        self.sent.append((chat_id, text, buttons, None))
        return self.answer

    async def send_document(
        self, chat_id: int, document: Document, caption: str, buttons: Buttons = ()
    ) -> Outcome:
        self.sent.append((chat_id, caption, buttons, document))
        return self.answer

    def pace_wait(self, chat_id: int) -> float:
        return 0.0


async def booked(db: Database) -> int:
    await import_clinic(db, clinic_file.read(BASIC))
    made = await book(
        db, T0, "ann", "checkup", START, Client("Cleo", "+491", CLIENT), policy=Policy()
    )
    return made.id


async def test_a_reminder_is_plain_text_with_cancel_and_reschedule_actions(db) -> None:
    booking_id = await booked(db)
    sender, settings = Recording(), Settings(database_url=db.url)
    assert await delivery.deliver(sender, db, settings, T0) == Counter({"sent": 1})
    [(chat, _, _, ics)] = sender.sent
    assert chat == CLIENT and ics is not None and ics.filename == f"booking-{booking_id}.ics"
    assert b"BEGIN:VEVENT" in ics.content
    await delivery.deliver(sender, db, settings, START - timedelta(hours=24))
    _, text, buttons, _ = sender.sent[-1]
    assert text.startswith("Reminder") and buttons == (
        (
            Button("Cancel", Action.ASK_CANCEL, str(booking_id)),
            Button("Reschedule", Action.RESCHEDULE, str(booking_id)),
        ),
    )


async def test_a_flooded_outcome_writes_the_wait_down_and_counts_no_attempt(db) -> None:
    await booked(db)
    sender = Recording(Flooded(30, "Flood control exceeded"))
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
