"""The outbox under Telegram's flood control: a wait holds up only its chat, every sender
respects it, and it is no failed attempt. SQLite and PostgreSQL, against the emulator."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from telegram import Bot
from telegram.ext import ExtBot

from bookbot import clinic_file
from bookbot.bot.limiter import UNPACED, Limiter, Rates
from bookbot.bot.sender import TelegramSender
from bookbot.config import Settings
from bookbot.notify import delivery, messages
from bookbot.services.bookings import book
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.store.tables import OutboxRow
from bookbot.store.uow import UnitOfWork
from bookbot.testing.emulator import BotApiEmulator, FloodControl
from tests.clinics import BASIC, NOW

T0 = datetime.fromisoformat(NOW)
BUSY = 900  # a chat that gets many messages: a specialist's, say
CLIENTS = range(1000, 1020)
# Only an injected 429 can meet these rates: the waits are the subject, not the pace.
LOOSE = FloodControl(per_chat=1000, chat_burst=1000, overall=1000, overall_burst=1000)


@pytest.fixture
async def world(db: Database) -> AsyncIterator[tuple[Database, int]]:
    """The BASIC clinic with one booking the owed messages are about."""
    await import_clinic(db, clinic_file.read(BASIC))
    made = await book(db, T0, "ben", "checkup", datetime.fromisoformat("2026-12-01T08:00:00+01:00"))
    yield db, made.id


async def emulator(flood: FloodControl | None, chats) -> BotApiEmulator:  # type: ignore[no-untyped-def]
    running = BotApiEmulator(flood=flood)
    await running.start()
    for chat in chats:
        running.user(chat, f"C{chat}")
    return running


def settings_for(emu: BotApiEmulator, db: Database) -> Settings:
    return Settings(token=emu.token, api_url=f"{emu.url}/bot", database_url=db.url)


@asynccontextmanager
async def process_bot(emu: BotApiEmulator, rates: Rates = UNPACED) -> AsyncIterator[TelegramSender]:
    """A bot as one process has it: every send through that process's own Limiter."""
    async with ExtBot(emu.token, base_url=f"{emu.url}/bot", rate_limiter=Limiter(rates)) as bot:
        yield TelegramSender(bot)


async def owe(db: Database, booking_id: int, chats, due: datetime = T0) -> None:  # type: ignore[no-untyped-def]
    """Writes one due notice per entry of `chats`, in that order."""
    async with UnitOfWork(db) as uow:
        for chat in chats:
            await uow.outbox.add(messages.NEW_BOOKING, chat, due, T0, booking_id)
        await uow.commit()


async def rows(db: Database) -> list[tuple[int, str, int]]:
    """(chat, status, attempts) of every outbox row, oldest first."""
    async with UnitOfWork(db, write=False) as uow:
        found = await uow.session.execute(
            select(OutboxRow.chat_id, OutboxRow.status, OutboxRow.attempts).order_by(OutboxRow.id)
        )
        return [tuple(row) for row in found.all()]


def sent_to(emu: BotApiEmulator) -> Counter:
    return Counter(c.chat_id for c in emu.calls_to("sendMessage") if c.ok)


async def test_one_chat_told_to_wait_holds_up_no_other_chat(world) -> None:
    db, booking_id = world
    emu = await emulator(LOOSE, [BUSY, *CLIENTS])
    try:
        await owe(db, booking_id, [BUSY] * 8 + list(CLIENTS))  # the busy chat's rows come first
        emu.fail_next("sendMessage", error_code=429, retry_after=30, chat_id=BUSY)
        async with process_bot(emu) as bot:
            outcome = await delivery.deliver(bot, db, settings_for(emu, db), T0)
    finally:
        await emu.stop()
    assert outcome == Counter({"sent": len(CLIENTS), "flood": delivery.PER_CHAT})
    assert sent_to(emu) == Counter({chat: 1 for chat in CLIENTS})
    assert emu.sends_in_flood_wait == []
    waiting = [attempts for chat, status, attempts in await rows(db) if chat == BUSY]
    assert waiting == [0] * 8  # put back, not failed


async def test_a_busy_chat_is_paced_while_every_other_chat_goes_through(world) -> None:
    db, booking_id = world
    # One message every five seconds into a chat: the busy chat's third must wait for it.
    emu = await emulator(
        FloodControl(per_chat=0.2, chat_burst=3, overall=100, overall_burst=60), [BUSY, *CLIENTS]
    )
    try:
        await owe(db, booking_id, [BUSY] * 3 + list(CLIENTS))
        async with process_bot(
            emu, Rates(per_chat=0.2, chat_burst=2, overall=100, overall_burst=20)
        ) as bot:
            outcome = await delivery.deliver(bot, db, settings_for(emu, db), T0)
    finally:
        await emu.stop()
    assert outcome == Counter({"sent": 3 + len(CLIENTS)})
    assert emu.sends_in_flood_wait == [] and not [c for c in emu.calls if c.error_code == 429]
    order = [c.chat_id for c in emu.calls_to("sendMessage")]
    third_of_busy = [i for i, chat in enumerate(order) if chat == BUSY][2]
    assert all(order.index(chat) < third_of_busy for chat in CLIENTS)


async def test_a_flood_wait_is_no_attempt_however_often_it_comes(world) -> None:
    db, booking_id = world
    emu = await emulator(None, [BUSY])
    try:
        await owe(db, booking_id, [BUSY])
        async with Bot(emu.token, base_url=f"{emu.url}/bot") as plain:  # 429s reach the outbox
            bot = TelegramSender(plain)
            now = T0
            settings = settings_for(emu, db)
            for _ in range(delivery.GIVE_UP_AFTER + 2):
                emu.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=BUSY)
                assert await delivery.deliver(bot, db, settings, now) == Counter({"flood": 1})
                now += timedelta(seconds=1)
            assert await rows(db) == [(BUSY, "pending", 0)]
            emu.fail_next("sendMessage", error_code=500, chat_id=BUSY)  # a real failure
            assert await delivery.deliver(bot, db, settings, now) == Counter({"retry": 1})
            assert await rows(db) == [(BUSY, "pending", 1)]
            later = await delivery.deliver(bot, db, settings, now + timedelta(minutes=1))
    finally:
        await emu.stop()
    assert later == Counter({"sent": 1}) and sent_to(emu) == Counter({BUSY: 1})


async def test_two_delivery_jobs_at_once_leave_a_chat_in_its_wait(world) -> None:
    db, booking_id = world
    others = range(2000, 2090)
    emu = await emulator(LOOSE, [BUSY, *others])
    try:
        # Every tenth row is the busy chat's, so both jobs' batches hold some of them.
        order = [BUSY if i % 10 == 0 else others[i - 1 - i // 10] for i in range(100)]
        await owe(db, booking_id, order)
        emu.fail_next("sendMessage", error_code=429, retry_after=2, chat_id=BUSY)
        settings = settings_for(emu, db)
        async with process_bot(emu) as bot:  # one process: its jobs share the bot
            first, second = await asyncio.gather(
                delivery.deliver(bot, db, settings, T0), delivery.deliver(bot, db, settings, T0)
            )
            assert emu.sends_in_flood_wait == []
            assert (first + second)["sent"] == len(others)
            assert sent_to(emu)[BUSY] == 0
            await asyncio.sleep(2.1)  # Telegram's wait; the written one may round up to 3 s
            after = T0 + timedelta(seconds=5)
            await asyncio.gather(
                delivery.deliver(bot, db, settings, after),
                delivery.deliver(bot, db, settings, after),
            )
    finally:
        await emu.stop()
    assert emu.sends_in_flood_wait == []
    assert sent_to(emu) == Counter({BUSY: 10, **{chat: 1 for chat in others}})
    assert {(status, attempts) for _, status, attempts in await rows(db)} == {("sent", 0)}


async def test_another_process_does_not_send_into_a_wait_it_did_not_get(world) -> None:
    db, booking_id = world
    emu = await emulator(LOOSE, [BUSY])
    try:
        await owe(db, booking_id, [BUSY, BUSY])
        settings = settings_for(emu, db)
        async with process_bot(emu) as one, process_bot(emu) as other:
            held = await delivery.claim(db, T0, limit=1)  # the other process holds a row ...
            emu.fail_next("sendMessage", error_code=429, retry_after=2, chat_id=BUSY)
            assert await delivery.deliver(one, db, settings, T0) == Counter({"flood": 1})
            with pytest.raises(delivery.Flood):  # ... and learns of the wait before sending it
                await delivery.send(other, db, settings, T0, held[0])
            await owe(db, booking_id, [BUSY])  # a new message for the chat, due at once
            assert await delivery.deliver(other, db, settings, T0) == Counter()
            assert emu.sends_in_flood_wait == [] and sent_to(emu) == Counter()
            await asyncio.sleep(2.1)
            done = await delivery.deliver(other, db, settings, T0 + timedelta(seconds=5))
    finally:
        await emu.stop()
    assert done == Counter({"sent": 3}) and sent_to(emu) == Counter({BUSY: 3})
    assert emu.sends_in_flood_wait == []


async def test_claims_racing_from_many_senders_never_share_a_row(world) -> None:
    """Each row goes to one sender, however the claims interleave (PostgreSQL re-checks)."""
    db, booking_id = world
    await owe(db, booking_id, list(range(3000, 3400)))
    senders = [Database(db.url) for _ in range(4)]
    try:
        taken: list[int] = []
        for _ in range(30):
            batches = await asyncio.gather(*(delivery.claim(s, T0, limit=20) for s in senders))
            taken += [m.id for batch in batches for m in batch]
    finally:
        for sender in senders:
            await sender.close()
    assert len(taken) == len(set(taken)) == 400
