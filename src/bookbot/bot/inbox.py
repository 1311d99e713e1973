"""Updates in: each is stored in the inbox before Telegram is told it arrived, handled once.

Telegram sends an update again until the webhook answers 2xx, or until a getUpdates call
confirms an offset past it. So the webhook answers, and the poller confirms, only after
the update is committed to the inbox; its update_id is the primary key, so a second
delivery is dropped there. The process that stored an update handles it and marks it;
while it works it holds a claim of LEASE, renewed at every look, so several `serve`
processes on one database never take each other's updates. A process killed mid-work
leaves claims that run out; the next look (every SWEEP_EVERY seconds, and at start-up, in
any process) hands those updates over again.

An update is handled at least once, and only once unless a crash falls between its
handler's replies and its mark (under a burst the mark can wait behind the handlers' own
transactions, so a kill may answer its last few updates again). A marked update is never
handled again. The transactions are services/inbox.py's; this module decides when.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.error import RetryAfter
from telegram.ext import Application

from bookbot.deps import Clock, Database, system_clock
from bookbot.services import inbox

_LOG = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member", "pre_checkout_query"]
# A live process renews its claims every SWEEP_EVERY seconds, so only a process dead (or
# stalled) for LEASE loses them; a killed process's updates wait at most about that long.
LEASE = timedelta(seconds=10)
SWEEP_EVERY = 2.0
KEEP = timedelta(days=2)  # Telegram re-sends an update for 24 hours at most
PRUNE_EVERY = timedelta(hours=1)
CLAIM_AT_ONCE = 100
POLL_TIMEOUT = 10  # seconds a getUpdates call waits for an update
MOST_BACKOFF = 30.0  # seconds between attempts once polling keeps failing


class BadUpdate(ValueError):
    """A webhook body that is not a Telegram update."""


def parse(body: bytes, application: Application) -> dict[str, Any]:
    """The update in a webhook body, as JSON; raises BadUpdate naming what is wrong."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise BadUpdate(f"not JSON: {str(error)[:100]}") from None
    if not isinstance(data, dict):
        raise BadUpdate(f"a JSON {type(data).__name__}, not an object")
    update_id = data.get("update_id")
    if type(update_id) is not int or not 0 <= update_id < 2**63:
        raise BadUpdate(f"update_id {str(update_id)[:30]!r} is not a whole number from 0")
    try:
        Update.de_json(data, application.bot)
    except Exception as error:  # noqa: BLE001 - PTB raises whatever the shape provokes
        raise BadUpdate(
            f"update {update_id} is not shaped like one: {type(error).__name__}"
        ) from None
    return data


class Intake:
    """Stores updates, hands each to the application once, marks it, and recovers the rest.

    With `polling`, it also runs the Poller (`bookbot run`); without, the webhook of
    `bookbot serve` feeds it through `take`.
    """

    def __init__(
        self, application: Application, db: Database, *, polling: bool, clock: Clock = system_clock
    ) -> None:
        self.application, self.db, self.clock = application, db, clock
        self.poller = Poller(self) if polling else None
        self.held: set[int] = set()  # handed over and not yet marked: this process's claims
        self._tasks: set[asyncio.Task[None]] = set()
        self._handled: list[int] = []  # handled, not yet marked
        self._marker: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._pruned: datetime | None = None

    async def start(self) -> None:
        """Starts looking for updates left unhandled (at once, then periodically), and polling."""
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="inbox sweeper")
        if self.poller is not None:
            await self.poller.start()

    async def stop(self) -> None:
        """Stops polling and looking, and waits for every update in hand to be handled."""
        if self.poller is not None:
            await self.poller.stop()
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._marker is not None:
            await asyncio.gather(self._marker, return_exceptions=True)

    def working(self) -> bool:
        """Tells whether an update handed over is being handled now."""
        return bool(self._tasks)

    async def take(self, updates: Sequence[dict[str, Any]]) -> int:
        """Stores the updates not stored before in one transaction, then hands those over.

        Returns how many were new. When this returns, they are durable: Telegram may be
        told they arrived.
        """
        now = self.clock()
        new = await inbox.keep(self.db, updates, now, now + LEASE)
        for data in updates:
            if data["update_id"] in new:
                self._hand_over(data["update_id"], data)
        return len(new)

    async def sweep(self) -> int:
        """Renews the claims in hand, takes over unhandled updates no one holds, prunes.

        Returns how many updates it took over.
        """
        now = self.clock()
        prune = self._pruned is None or now - self._pruned >= PRUNE_EVERY
        # An idle look only reads: a write lock would, on SQLite, stop every other writer.
        if not (self.held or prune) and not await inbox.waiting(self.db, now):
            return 0
        left = await inbox.take_over(
            self.db, now, now + LEASE, self.held, CLAIM_AT_ONCE, now - KEEP if prune else None
        )
        if prune:
            self._pruned = now
        for update_id, data in left:
            _LOG.info("handling update %s, left unhandled by an earlier run", update_id)
            self._hand_over(update_id, data)
        return len(left)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception as error:  # noqa: BLE001 - the next look retries; say why now
                _LOG.warning("looking for unhandled updates failed: %s", _first_line(error))
            await asyncio.sleep(SWEEP_EVERY)

    def _hand_over(self, update_id: int, data: dict[str, Any]) -> None:
        self.held.add(update_id)
        task = asyncio.create_task(self._handle(update_id, data), name=f"update {update_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, update_id: int, data: dict[str, Any]) -> None:
        """Runs the application's handlers on one update (within its concurrency), marks it."""
        application = self.application
        try:
            update = Update.de_json(data, application.bot)
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
        except Exception:  # handlers' own errors are PTB's; this is what escapes them
            _LOG.exception("update %s could not be handled", update_id)
        self._handled.append(update_id)
        if self._marker is None or self._marker.done():
            self._marker = asyncio.create_task(self._mark(), name="inbox marker")

    async def _mark(self) -> None:
        """Marks handled updates, all that finished meanwhile in one transaction.

        Under load this writes once for many updates instead of once each (bench/taps.py
        on SQLite, 20 users: 8.5 ms of bot CPU a tap with one transaction each, 6 so).
        """
        while self._handled:
            done, self._handled = self._handled, []
            try:
                await inbox.handled(self.db, done, self.clock())
            except Exception as error:  # noqa: BLE001 - unmarked, they are handled again later
                _LOG.warning("updates %s handled but not marked: %s", done, _first_line(error))
            self.held.difference_update(done)


class Poller:
    """Long polling that confirms an offset only once the updates before it are stored."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Deletes any webhook (getUpdates is refused while one is set) and starts polling."""
        await self.intake.application.bot.delete_webhook()
        self._task = asyncio.create_task(self._poll(), name="poller")

    async def stop(self) -> None:
        """Stops polling; a batch being stored is stored first, or not confirmed."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _poll(self) -> None:
        bot = self.intake.application.bot
        offset: int | None = None
        failures = 0
        while True:
            try:
                # Asking with offset confirms every update before it to Telegram: the
                # previous batch is in the inbox by then.
                updates = await bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
                )
                if updates:
                    await self.intake.take([u.to_dict() for u in updates])
                    offset = updates[-1].update_id + 1
                failures = 0
            except RetryAfter as error:
                await asyncio.sleep(_seconds(error.retry_after))
            except Exception as error:  # noqa: BLE001 - polling outlives any one failure
                failures += 1
                wait = min(0.5 * 2**failures, MOST_BACKOFF)
                _LOG.warning("polling failed, again in %.0f s: %s", wait, _first_line(error))
                await asyncio.sleep(wait)


def intake(application: Application) -> Intake:
    """The application's intake, made by build_application."""
    return application.bot_data["intake"]


class Webhook:
    """The application's intake as `bookbot serve`'s webhook route uses it (web/app.py)."""

    def __init__(self, application: Application) -> None:
        self.application = application

    def parse(self, body: bytes) -> dict[str, Any]:
        """The update in a webhook body; raises BadUpdate (a ValueError) naming the fault."""
        return parse(body, self.application)

    async def take(self, updates: Sequence[dict[str, Any]]) -> int:
        """Stores the updates, then hands them over (see Intake.take)."""
        return await intake(self.application).take(updates)

    @asynccontextmanager
    async def running(self, url: str | None, secret_token: str) -> AsyncIterator[None]:
        """The application started, its webhook set to `url` when given, until the block ends."""
        application = self.application
        await application.initialize()
        if application.post_init:
            await application.post_init(application)
        await application.start()
        await intake(application).start()
        if url:
            await application.bot.set_webhook(
                url, secret_token=secret_token, allowed_updates=ALLOWED_UPDATES
            )
        try:
            yield
        finally:
            await intake(application).stop()
            await application.stop()
            await application.shutdown()


async def run_polling(application: Application) -> None:
    """Runs the application on long polling until SIGINT or SIGTERM, then stops in order."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stopping.set)
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        await application.start()
        await intake(application).start()
        try:
            await stopping.wait()
        finally:
            await intake(application).stop()
            await application.stop()
    finally:
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


def _seconds(wait: int | timedelta) -> float:
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
