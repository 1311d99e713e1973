"""What the admin and specialist tests share: a harness with an admin, and chat helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec.structs
import pytest

from bookbot import clinic_file
from bookbot.clinic_file import Clinic
from bookbot.services.clinic import export_clinic, import_clinic
from bookbot.store.db import Database
from bookbot.testing.emulator import BotApiEmulator, ChatMessage, ChatUser
from tests.bot.conftest import Clock, Harness
from tests.clinics import BASIC

ADMIN = 500


@pytest.fixture
async def staffed(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> AsyncIterator[Harness]:
    """The bot on the BASIC clinic, with BOOKBOT_ADMINS holding ADMIN."""
    running = await started(emulator, tmp_path, clock, BASIC)
    yield running
    await running.stop()


async def started(emulator: BotApiEmulator, tmp_path: Path, clock: Clock, text: str) -> Harness:
    """The bot on a SQLite file holding the clinic `text` at the clock's now; ADMIN an admin."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    db = Database(url)
    await import_clinic(db, clinic_file.read(text), clock.now)  # the index spans the test's days
    await db.close()
    running = Harness(emulator, url, clock)
    running.settings = msgspec.structs.replace(running.settings, admins=frozenset({ADMIN}))
    await running.start()
    return running


async def say(h: Harness, user: ChatUser, text: str) -> ChatMessage:
    """Sends a text and returns the bot's newest message in that chat, once it came."""
    chat = h.emulator.chat(user)
    before = len(chat.history)
    await h.emulator.send_text(user, text)
    await _until(h, lambda: len(chat.history) > before)
    last = chat.last
    assert last is not None
    return last


async def press(h: Harness, user: ChatUser, label: str) -> ChatMessage:
    """Taps the newest button labelled `label` (else containing it); returns the newest message.

    Waits for the button to be shown: the answer to a message (a shared contact, say) may
    come after the emulator's quiet period on a busy machine.
    """
    chat = h.emulator.chat(user)

    def found():  # type: ignore[no-untyped-def]
        buttons = [b for m in reversed(chat.messages) for b in m.buttons]
        return next((b for b in buttons if b.text == label), None) or next(
            (b for b in buttons if label in b.text), None
        )

    await _until(h, lambda: found() is not None)
    button = found()
    record = await h.emulator.tap(user, button)
    await _until(h, lambda: record.answered)
    last = chat.last
    assert last is not None
    return last


async def _until(h: Harness, done, timeout: float = 5) -> None:  # type: ignore[no-untyped-def]
    """Waits for the bot to be idle with `done()` true, however long a handler thinks.

    A schedule change may read and write for longer than the emulator's quiet period
    before it sends anything, so idle alone does not mean answered.
    """
    async with asyncio.timeout(timeout):
        while True:
            await h.emulator.wait_idle()
            if done():
                return
            await asyncio.sleep(0.02)


async def arrives(h: Harness, user: ChatUser, needle: str, timeout: float = 5) -> ChatMessage:
    """Waits for a message containing `needle` (the outbox sends from a job, not the handler)."""
    async with asyncio.timeout(timeout):
        while True:
            found = [m for m in h.emulator.chat(user).messages if needle in (m.text or "")]
            if found:
                return found[-1]
            await asyncio.sleep(0.05)


async def on_db(h: Harness, use_case, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Runs one use case on the harness's database, as the CLI would."""
    db = Database(h.url)
    try:
        return await use_case(db, *args, **kwargs)
    finally:
        await db.close()


async def exported(h: Harness) -> Clinic:
    """The whole schedule, as `bookbot export` sees it."""
    return await on_db(h, export_clinic)


async def link(h: Harness, specialist: str, user: ChatUser) -> ChatMessage:
    """The admin invites a specialist and `user` opens the link; returns the welcome."""
    admin = h.emulator.user(ADMIN, "Admin")
    invite = await say(h, admin, f"/invite {specialist}")
    code = invite.text.rsplit("?start=", 1)[1].strip()
    return await say(h, user, f"/start {code}")


async def book_ann(h: Harness, user: ChatUser, day: str = "1", time: str = "10:20") -> None:
    """A client books ann in December through the bot, sharing their phone."""
    await say(h, user, "/start")
    await press(h, user, "Check-up")
    await press(h, user, "Dr. Ann Weber")
    await press(h, user, "›")
    await press(h, user, day)
    await press(h, user, time)
    await h.emulator.share_contact(user)
    await arrives(h, user, "Please check and confirm")
    await press(h, user, "Confirm")
