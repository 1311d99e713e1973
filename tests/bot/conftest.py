"""The end-to-end harness: the real bot, polling the Bot API emulator over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from msgspec import field
from telegram.ext import Application

from bookbot import clinic_file
from bookbot.bot.inbox import intake
from bookbot.config import Settings
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.testing.clocks import ManualClock
from bookbot.testing.emulator import BotApiEmulator
from bookbot.wiring import build_bot
from tests.clinics import BASIC, NOW


class Clock(ManualClock):
    """The hand-moved clock, starting at the test clinics' NOW."""

    now: datetime = field(default_factory=lambda: datetime.fromisoformat(NOW))


ROUNDS = timedelta(seconds=1)  # the outbox's rounds: often, so tests wait little for them


class Harness:
    """The emulator, a database, a clock, and the bot polling them; restartable."""

    def __init__(self, emulator: BotApiEmulator, url: str, clock: Clock) -> None:
        self.emulator, self.url, self.clock = emulator, url, clock
        # Pacing against an emulator without flood control would only slow the tests down.
        self.settings = Settings(
            token=emulator.token,
            api_url=f"{emulator.url}/bot",
            database_url=url,
            pace=emulator.flood is not None,
            rounds=ROUNDS,
        )
        self.application: Application | None = None

    async def start(self) -> None:
        """Builds a fresh application (as a new process would) and starts polling."""
        self.application = build_bot(self.settings, Database(self.url), self.clock)
        async with asyncio.timeout(10):
            await self.application.initialize()
            if self.application.post_init:
                await self.application.post_init(self.application)
            await self.application.start()
            await intake(self.application).start()

    async def stop(self) -> None:
        """Stops polling and shuts the application down."""
        application, self.application = self.application, None
        if application is None:
            return
        async with asyncio.timeout(10):
            await intake(application).stop()
            await application.stop()
            await application.shutdown()

    async def restart(self) -> None:
        await self.stop()
        await self.start()


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator() as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def harness(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> AsyncIterator[Harness]:
    """The bot on a SQLite file holding the BASIC clinic, polling the emulator."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    db = Database(url)
    await import_clinic(db, clinic_file.read(BASIC), clock.now)  # the index spans the test's days
    await db.close()
    running = Harness(emulator, url, clock)
    await running.start()
    yield running
    await running.stop()
