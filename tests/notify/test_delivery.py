"""Notifications from the outbox with a moved clock: sent once, at the right instants."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta

import pytest
from telegram import Bot

from bookbot import clinic_file
from bookbot.bot.sender import TelegramSender
from bookbot.config import Settings
from bookbot.engine.model import Client
from bookbot.notify import delivery, messages
from bookbot.notify.messages import Policy
from bookbot.services import bookings
from bookbot.services.chat import remember
from bookbot.services.clinic import import_clinic
from bookbot.store.chats import Profile
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork
from bookbot.testing.emulator import BotApiEmulator
from tests.clinics import BASIC, NOW
from tests.conftest import drop_postgres_database, new_postgres_database

T0 = datetime.fromisoformat(NOW)  # Monday 30 Nov 08:00 Berlin
START = datetime.fromisoformat("2026-12-03T14:00:00+01:00")  # Thursday, 3 days ahead
CLIENT = 555
SPECIALIST = 777
LINKED = BASIC.replace(
    "    name: Dr. Ann Weber\n", "    name: Dr. Ann Weber\n    telegram_id: 777\n"
)


@pytest.fixture
async def emulator():
    async with BotApiEmulator() as running:
        running.user(CLIENT, "Cleo")
        running.user(SPECIALIST, "Ann")
        yield running


@pytest.fixture
async def world(emulator, tmp_path):
    """A database with the clinic (ann linked to Telegram), a Bot on the emulator, settings."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'notify.db'}"
    db = Database(url)
    await import_clinic(db, clinic_file.read(LINKED))
    settings = Settings(
        token=emulator.token,
        api_url=f"{emulator.url}/bot",
        database_url=url,
        secret="a-test-secret-that-is-long-enough-for-hs256",
        public_url="https://clinic.example",
    )
    async with Bot(emulator.token, base_url=f"{emulator.url}/bot") as bot:
        yield db, TelegramSender(bot), settings
    await db.close()


def sent(emulator, chat_id: int) -> list[str]:
    """Texts (and captions) the bot sent to a chat, in order."""
    return [m.text or m.caption or "" for m in emulator.chat(chat_id).all_messages]


async def book_three_days_ahead(db) -> int:
    made = await bookings.book(
        db, T0, "ann", "checkup", START, Client("Cleo", "+491", CLIENT), policy=Policy()
    )
    return made.id


async def test_a_booking_three_days_ahead_yields_its_messages_at_the_right_instants(
    world, emulator
) -> None:
    db, sender, settings = world
    await book_three_days_ahead(db)

    async def at(moment: datetime) -> Counter:
        return await delivery.deliver(sender, db, settings, moment)

    assert (await at(T0))["sent"] == 2  # the confirmation with .ics, the specialist's notice
    assert emulator.chat(CLIENT).last.document.filename.endswith(".ics")
    assert "New booking: Check-up, Thursday 3 December, 14:00" in sent(emulator, SPECIALIST)[0]
    day_before = START - timedelta(hours=24)
    assert (await at(day_before - timedelta(seconds=1)))["sent"] == 0
    assert (await at(day_before))["sent"] == 1
    assert (await at(START - timedelta(hours=2, seconds=1)))["sent"] == 0
    assert (await at(START - timedelta(hours=2)))["sent"] == 1
    end = START + timedelta(hours=1)
    assert (await at(end + timedelta(hours=23, minutes=59)))["sent"] == 0
    assert (await at(end + timedelta(hours=24)))["sent"] == 1
    texts = sent(emulator, CLIENT)
    assert [t.split(":")[0] for t in texts] == [
        "Your booking is confirmed",
        "Reminder",
        "Reminder",
        "How was your visit",
    ]
    review = emulator.chat(CLIENT).last
    assert [b.text for b in review.buttons][:5] == ["★", "★★", "★★★", "★★★★", "★★★★★"]
    assert review.buttons[5].url.startswith("https://clinic.example/review?token=")
    assert (await at(end + timedelta(days=30)))["sent"] == 0  # nothing twice


async def test_a_cancelled_booking_sends_nothing_more(world, emulator) -> None:
    db, sender, settings = world
    booking_id = await book_three_days_ahead(db)
    await delivery.deliver(sender, db, settings, T0)
    await bookings.cancel(db, T0 + timedelta(hours=1), booking_id, by="client")
    outcome = await delivery.deliver(sender, db, settings, T0 + timedelta(hours=1))
    assert outcome["sent"] == 1 and "Cancelled by the client" in sent(emulator, SPECIALIST)[-1]
    later = await delivery.deliver(sender, db, settings, START + timedelta(days=5))
    assert later["sent"] == 0
    assert len(sent(emulator, CLIENT)) == 1  # only the confirmation


async def test_a_review_request_in_flight_is_dropped_when_its_visit_is_cancelled(
    world, emulator
) -> None:
    """A sender claimed the request, then staff cancelled the past visit: it is not sent."""
    db, sender, settings = world
    booking_id = await book_three_days_ahead(db)
    await delivery.deliver(sender, db, settings, T0)
    due = START + timedelta(hours=1, days=1)
    [request] = [m for m in await delivery.claim(db, due) if m.kind == messages.REVIEW]
    await bookings.cancel(db, due, booking_id, by="admin", reason="entered twice")
    assert await delivery.send(sender, db, settings, due, request) == "dropped"
    assert not any("How was your visit" in text for text in sent(emulator, CLIENT))


async def test_a_cancellation_by_the_clinic_tells_the_client_with_alternatives(
    world, emulator
) -> None:
    db, sender, settings = world
    booking_id = await book_three_days_ahead(db)
    await bookings.cancel(db, T0, booking_id, by="specialist", reason="ill")
    await delivery.deliver(sender, db, settings, T0)
    notice = sent(emulator, CLIENT)[-1]
    assert "your booking was cancelled" in notice and "Reason: ill" in notice
    assert "The soonest free times:" in notice
    assert "Dr. Ann Weber" in notice.split("The soonest")[1] and "Ben Keller" in notice


async def test_a_late_delivery_still_reminds_before_the_visit_and_drops_after(
    world, emulator
) -> None:
    db, sender, settings = world
    await book_three_days_ahead(db)
    await delivery.deliver(sender, db, settings, T0)
    # The bot was down from before the 24h reminder until after the 2h one was due.
    outcome = await delivery.deliver(sender, db, settings, START - timedelta(minutes=30))
    assert outcome == Counter({"sent": 2})
    await bookings.book(
        db,
        T0,
        "ben",
        "checkup",
        datetime.fromisoformat("2026-12-03T09:00:00+01:00"),
        Client("Cleo", "+491", CLIENT),
    )
    begun = await delivery.deliver(
        sender, db, settings, datetime.fromisoformat("2026-12-03T09:05:00+01:00")
    )
    assert begun["dropped"] == 2  # both reminders of the begun visit


async def test_rescheduling_moves_the_reminders(world, emulator) -> None:
    db, sender, settings = world
    old = await book_three_days_ahead(db)
    await delivery.deliver(sender, db, settings, T0)
    await remember(db, Profile(CLIENT, "Cleo", "+491"))
    await bookings.reschedule(db, T0, CLIENT, old)
    new_start = datetime.fromisoformat("2026-12-03T16:00:00+01:00")
    held = await bookings.hold(db, T0, CLIENT, "checkup", "ann", new_start, timedelta(minutes=10))
    await bookings.confirm(db, T0, held.booking.id, client=CLIENT, policy=Policy())
    await delivery.deliver(sender, db, settings, T0)
    assert (await delivery.deliver(sender, db, settings, START - timedelta(hours=24)))["sent"] == 0
    moved = await delivery.deliver(sender, db, settings, new_start - timedelta(hours=24))
    assert moved["sent"] == 1 and "16:00" in sent(emulator, CLIENT)[-1]


async def test_a_flood_limit_is_waited_out(world, emulator) -> None:
    db, sender, settings = world
    await book_three_days_ahead(db)
    emulator.fail_next("sendDocument", error_code=429, retry_after=30)
    first = await delivery.deliver(sender, db, settings, T0)
    assert first == Counter({"sent": 1, "flood": 1})  # the specialist's notice went first
    assert (await delivery.deliver(sender, db, settings, T0 + timedelta(seconds=29)))["sent"] == 0
    assert (await delivery.deliver(sender, db, settings, T0 + timedelta(seconds=30)))["sent"] == 1
    assert len(sent(emulator, CLIENT)) == 1


async def test_a_client_who_blocked_the_bot_is_marked_not_retried(world, emulator) -> None:
    db, sender, settings = world
    await book_three_days_ahead(db)
    emulator.block(CLIENT)
    outcome = await delivery.deliver(sender, db, settings, T0)
    assert outcome["unreachable"] == 1
    assert (await delivery.deliver(sender, db, settings, START + timedelta(days=3)))["sent"] == 0
    async with UnitOfWork(db) as uow:
        counts = await uow.outbox.counts()
    assert counts.get("pending", 0) == 0 and counts["failed"] == 4  # confirmation, 2, review
    assert len([c for c in emulator.calls if c.chat_id == CLIENT]) == 1


def _deliver_command(emulator, url: str, now: datetime) -> list[str]:
    return [sys.executable, "-m", "bookbot", "deliver", "--db", url, "--now", now.isoformat()]


def _env(emulator) -> dict:
    # The emulator keeps no flood limits here: pacing would only slow the senders down.
    return {
        **os.environ,
        "BOOKBOT_TELEGRAM_TOKEN": emulator.token,
        "BOOKBOT_TELEGRAM_API_URL": f"{emulator.url}/bot",
        "NO_PROXY": "127.0.0.1",
        "BOOKBOT_PACE": "off",
    }


async def _owe(db, count: int, first_chat: int) -> None:
    """Writes `count` due notices, each to its own chat, about one booking."""
    made = await bookings.book(
        db, T0, "ben", "checkup", datetime.fromisoformat("2026-12-01T08:00:00+01:00")
    )
    async with UnitOfWork(db) as uow:
        for chat in range(first_chat, first_chat + count):
            await uow.outbox.add(messages.NEW_BOOKING, chat, T0, T0, made.id)
        await uow.commit()


async def test_a_killed_sender_loses_nothing_and_doubles_at_most_the_one_in_flight(
    emulator, tmp_path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kill.db'}"
    db = Database(url)
    await import_clinic(db, clinic_file.read(BASIC))
    chats = range(10_000, 10_120)
    for chat in chats:
        emulator.user(chat, f"S{chat}")
    await _owe(db, len(chats), chats[0])
    await db.close()
    sender = await asyncio.create_subprocess_exec(
        *_deliver_command(emulator, url, T0),
        env=_env(emulator),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    async with asyncio.timeout(60):
        while len(emulator.calls_to("sendMessage")) < 30:
            await asyncio.sleep(0.005)
    sender.send_signal(signal.SIGKILL)  # mid-batch: rows claimed but unsent, one in flight
    await sender.wait()
    before = Counter(c.chat_id for c in emulator.calls_to("sendMessage"))
    assert 30 <= sum(before.values()) < len(chats)
    # A restart inside the lease sends nothing of the dead sender's claim ...
    restart = await asyncio.create_subprocess_exec(
        *_deliver_command(emulator, url, T0 + timedelta(minutes=1)), env=_env(emulator)
    )
    assert await restart.wait() == 0
    # ... and once the lease has run out, everything still owed goes out.
    final = await asyncio.create_subprocess_exec(
        *_deliver_command(emulator, url, T0 + timedelta(minutes=3)), env=_env(emulator)
    )
    assert await final.wait() == 0
    delivered = Counter(int(c.chat_id) for c in emulator.calls_to("sendMessage") if c.ok)
    assert set(delivered) == set(chats)  # never zero
    assert sum(delivered.values()) - len(chats) <= 1  # at most the one in flight twice


async def test_two_senders_on_postgresql_drain_four_hundred_rows_once_each(emulator) -> None:
    url = await new_postgres_database()
    try:
        db = Database(url)
        await import_clinic(db, clinic_file.read(BASIC))
        chats = range(20_000, 20_400)
        for chat in chats:
            emulator.user(chat, f"P{chat}")
        await _owe(db, len(chats), chats[0])
        await db.close()
        senders = [
            await asyncio.create_subprocess_exec(
                *_deliver_command(emulator, url, T0), env=_env(emulator), stdout=subprocess.DEVNULL
            )
            for _ in range(2)
        ]
        assert [await s.wait() for s in senders] == [0, 0]
        delivered = Counter(int(c.chat_id) for c in emulator.calls_to("sendMessage") if c.ok)
        assert set(delivered) == set(chats)
        assert max(delivered.values()) == 1
    finally:
        await drop_postgres_database(url)
