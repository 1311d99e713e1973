"""No update is lost to a crash or handled twice: the inbox, through the webhook and polling.

The kill tests run the real `bookbot run` and `bookbot serve` as processes against the
emulator, kill -9 them in the middle of a burst, start them again, and count the answers.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from bookbot import clinic_file
from bookbot.bot.inbox import LEASE, intake
from bookbot.config import Settings
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.store.inbox import Inbox
from bookbot.store.tables import InboxRow, InviteRow
from bookbot.store.uow import UnitOfWork
from bookbot.testing.emulator import BotApiEmulator
from bookbot.web.app import MAX_UPDATE_BYTES, WEBHOOK_PATH, webhook_secret
from bookbot.wiring import build_bot, build_web
from tests.bot.conftest import Clock, Harness
from tests.clinics import BASIC, NOW
from tests.conftest import drop_postgres_database, new_postgres_database

SECRET = "a-test-secret-that-is-long-enough-for-hs256"
ADMIN = 500
BURST = range(30_000, 30_060)  # one /start from each of 60 users


def text_update(update_id: int, user_id: int, text: str) -> dict:
    """A Telegram update carrying a private text message (a command gets its entity)."""
    entities = (
        [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if text.startswith("/")
        else []
    )
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_790_000_000,
            "text": text,
            "entities": entities,
            "chat": {"id": user_id, "type": "private", "first_name": f"U{user_id}"},
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": f"U{user_id}",
                "language_code": "en",
            },
        },
    }


async def until(condition: Callable[[], bool | Awaitable[bool]], seconds: float, what: str) -> None:
    """Waits for `condition()` (checked every 20 ms), failing with `what` after `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            while not await _value(condition()):
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"not within {seconds} s: {what}") from None


async def _value(result: bool | Awaitable[bool]) -> bool:
    return await result if inspect.isawaitable(result) else result


async def _is(counts: Awaitable[dict[str, int]], expected: dict[str, int]) -> bool:
    return await counts == expected


async def inbox_counts(db: Database) -> dict[str, int]:
    async with UnitOfWork(db, write=False) as uow:
        return await Inbox(uow.session).counts()


async def clinic_db(url: str) -> None:
    db = Database(url)
    await import_clinic(db, clinic_file.read(BASIC), datetime.fromisoformat(NOW))
    await db.close()


# -- the webhook, in process ----------------------------------------------------------


@pytest.fixture
async def site(db_url: str) -> AsyncIterator[tuple[str, Database, BotApiEmulator]]:
    """`serve`'s web app with its bot, on a loopback port, on each database; admin ADMIN."""
    await clinic_db(db_url)
    db = Database(db_url)
    async with BotApiEmulator() as emulator:
        emulator.user(ADMIN, "Boss")
        settings = Settings(
            token=emulator.token,
            api_url=f"{emulator.url}/bot",
            database_url=db_url,
            secret=SECRET,
            admins=frozenset({ADMIN}),
        )
        application = build_bot(settings, db, polling=False)
        server = uvicorn.Server(
            uvicorn.Config(
                build_web(application), host="127.0.0.1", port=0, log_level="error", lifespan="on"
            )
        )
        task = asyncio.create_task(server.serve())
        try:
            await until(lambda: server.started, 20, "the web app started")
            port = server.servers[0].sockets[0].getsockname()[1]
            yield f"http://127.0.0.1:{port}", db, emulator
        finally:
            server.should_exit = True
            await task


HEADERS = {"X-Telegram-Bot-Api-Secret-Token": webhook_secret(SECRET)}


async def test_an_update_delivered_three_times_is_handled_once(site) -> None:
    base, db, emulator = site
    update = text_update(71, ADMIN, "/invite ann")
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        first = await http.post(WEBHOOK_PATH, json=update, headers=HEADERS)
        # Telegram sends it again (no answer seen, say), twice at once this time.
        again = await asyncio.gather(
            *(http.post(WEBHOOK_PATH, json=update, headers=HEADERS) for _ in range(2))
        )
    assert [first.status_code] + [r.status_code for r in again] == [200, 200, 200]
    await until(
        lambda: _is(inbox_counts(db), {"handled": 1, "unhandled": 0}),
        30,
        "the update marked handled",
    )
    await emulator.wait_idle()
    async with UnitOfWork(db, write=False) as uow:
        invites = await uow.session.scalar(select(func.count()).select_from(InviteRow))
    assert invites == 1
    assert [t for t in emulator.chat(ADMIN).texts if "t.me/" in t] == emulator.chat(ADMIN).texts
    assert emulator.chat(ADMIN).sent_count == 1


async def test_bodies_that_are_no_update_are_refused_and_nothing_is_kept(site, caplog) -> None:
    base, db, emulator = site
    caplog.set_level(logging.WARNING)
    deep = b'{"update_id": 5, "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    bad = {
        b"{not json": "not JSON",
        b'{"update_id": 1, "x": "\xff"}': "not JSON",
        b"[1, 2]": "a JSON list, not an object",
        b'{"update_id": "7"}': "update_id '7' is not a whole number",
        b'{"update_id": -1}': "update_id '-1'",
        b'{"update_id": 7, "message": "hello"}': "update 7 is not shaped like one",
        deep: "not JSON",
    }
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for body, said in bad.items():
            caplog.clear()
            answer = await http.post(WEBHOOK_PATH, content=body, headers=HEADERS)
            assert answer.status_code == 400, body[:40]
            logged = [r for r in caplog.records if r.name == "bookbot.web.app"]
            assert len(logged) == 1 and said in logged[0].getMessage(), logged
            assert not any(r.exc_info for r in caplog.records), "a traceback was logged"
        wrong = await http.post(
            WEBHOOK_PATH,
            json=text_update(8, ADMIN, "/help"),
            headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
        )
        assert wrong.status_code == 403
    assert await inbox_counts(db) == {"handled": 0, "unhandled": 0}
    assert emulator.chat(ADMIN).sent_count == 0


async def test_an_oversized_body_is_refused_before_it_is_read(site) -> None:
    """413 comes back while the client has sent a fraction of the body it announced."""
    base, db, _ = site
    host, port = base.removeprefix("http://").split(":")
    head = (
        f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: {host}\r\n"
        f"X-Telegram-Bot-Api-Secret-Token: {webhook_secret(SECRET)}\r\n"
        "Content-Type: application/json\r\n"
    )
    piece = b"x" * 65_536
    # Announced as 300 MB: refused on the header, with 64 KiB sent.
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"{head}Content-Length: {300 * 1024 * 1024}\r\n\r\n".encode() + piece)
    await writer.drain()
    async with asyncio.timeout(20):
        status = await reader.readline()
    writer.close()
    assert status.startswith(b"HTTP/1.1 413"), status
    # Not announced (chunked): read up to the bound, then refused; the body never ends.
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode())
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    sent = 0
    while sent <= MAX_UPDATE_BYTES + len(piece):
        writer.write(chunk)
        sent += len(piece)
    await writer.drain()
    async with asyncio.timeout(20):
        status = await reader.readline()
    writer.close()
    assert status.startswith(b"HTTP/1.1 413"), status
    assert await inbox_counts(db) == {"handled": 0, "unhandled": 0}


# -- recovery, in process -------------------------------------------------------------


async def keep(
    db: Database,
    updates: list[dict],
    claimed_until: datetime | None,
    handled_at: datetime | None = None,
) -> None:
    """Writes inbox rows as an earlier process left them."""
    now = datetime.now(UTC)
    async with UnitOfWork(db) as uow:
        for update in updates:
            uow.session.add(
                InboxRow(
                    update_id=update["update_id"],
                    body=json.dumps(update),
                    received_at=now,
                    claimed_until=claimed_until,
                    handled_at=handled_at,
                )
            )
        await uow.commit()


async def test_updates_a_crash_left_are_handled_at_start_up_and_no_others(
    emulator: BotApiEmulator, db_url: str
) -> None:
    await clinic_db(db_url)
    left, done, held = 41, 42, 43  # users: a crash left theirs; handled; another holds it
    for user in (left, done, held):
        emulator.user(user, f"U{user}")
    db = Database(db_url)
    now = datetime.now(UTC)
    await keep(db, [text_update(9_001, left, "/help")], now - timedelta(seconds=1))
    await keep(db, [text_update(9_002, done, "/help")], None, handled_at=now)
    await keep(db, [text_update(9_003, held, "/help")], now + timedelta(minutes=5))
    h = Harness(emulator, db_url, Clock())
    await h.start()
    try:
        await until(
            lambda: emulator.chat(left).sent_count == 1,
            30,
            "the update left by a crash was handled",
        )
        await emulator.send_text(done, "/start")  # and new ones flow as ever
        await emulator.wait_idle()
    finally:
        await h.stop()
    try:
        assert emulator.chat(done).sent_count == 1  # its /start; the old /help not again
        assert emulator.chat(held).sent_count == 0  # a live claim is another process's
        assert await inbox_counts(db) == {"handled": 3, "unhandled": 1}
    finally:
        await db.close()


async def test_two_processes_share_what_a_crash_left_and_handle_each_once(
    emulator: BotApiEmulator, db_url: str
) -> None:
    """Two `serve` processes' intakes look at once: every update is handled by one of them."""
    await clinic_db(db_url)
    users = range(50_000, 50_040)
    for user in users:
        emulator.user(user, f"U{user}")
    settings = Settings(token=emulator.token, api_url=f"{emulator.url}/bot", database_url=db_url)
    dbs = [Database(db_url) for _ in range(2)]
    await keep(
        dbs[0], [text_update(8_000 + n, user, "/help") for n, user in enumerate(users)], None
    )
    apps = [build_bot(settings, db, polling=False) for db in dbs]
    for application in apps:
        await application.initialize()
        await application.start()
    try:
        taken = await asyncio.gather(*(intake(application).sweep() for application in apps))
        assert sum(taken) == len(users)
        await asyncio.gather(*(intake(application).stop() for application in apps))
        await emulator.wait_idle()
        assert {u: emulator.chat(u).sent_count for u in users} == dict.fromkeys(users, 1)
        assert await inbox_counts(dbs[0]) == {"handled": len(users), "unhandled": 0}
    finally:
        for application in apps:
            await application.stop()
            await application.shutdown()
        for db in dbs:
            await db.close()


async def test_handled_updates_are_pruned_after_two_days(db: Database) -> None:
    now = datetime.now(UTC)
    await keep(db, [text_update(1, 7, "/help")], None, handled_at=now - timedelta(days=3))
    await keep(db, [text_update(2, 7, "/help")], None, handled_at=now - timedelta(days=1))
    await keep(db, [text_update(3, 7, "/help")], now + LEASE)
    settings = Settings(token="1:T", api_url="http://127.0.0.1:1/bot", database_url=db.url)
    application = build_bot(settings, db, polling=False)
    assert await intake(application).sweep() == 0
    async with UnitOfWork(db, write=False) as uow:
        kept = await uow.session.scalars(select(InboxRow.update_id).order_by(InboxRow.update_id))
        assert list(kept) == [2, 3]


# -- kill -9 of the real processes ----------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Bot:
    """`bookbot run` or `bookbot serve` as a child process, its output kept in a file."""

    def __init__(self, emulator: BotApiEmulator, url: str, log: Path, *args: str) -> None:
        self.command = [sys.executable, "-m", "bookbot", *args, "--db", url]
        self.env = {
            **os.environ,
            "BOOKBOT_TELEGRAM_TOKEN": emulator.token,
            "BOOKBOT_TELEGRAM_API_URL": f"{emulator.url}/bot",
            "NO_PROXY": "127.0.0.1",
            "BOOKBOT_SECRET": SECRET,
        }
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    def webhook(self, port: int) -> Bot:
        self.env["BOOKBOT_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        return self

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                *self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not ended within 20 s."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(20):
                await self.process.wait()
        except TimeoutError:
            await self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


async def kill_mid_burst(emulator: BotApiEmulator, bot: Bot) -> None:
    """Sends the burst, kills the bot once 10 users are answered, starts it again, and
    checks that every user gets one answer (two only if the first came before the kill)."""
    for user in BURST:
        emulator.user(user, f"U{user}")
    calls = emulator.subscribe_calls()
    for user in BURST:
        await emulator.send_text(user, "/start")
    await bot.start()
    answers = 0
    try:
        async with asyncio.timeout(120):
            while answers < 10:
                call = await calls.get()
                if call.method == "sendMessage" and call.ok:
                    answers += 1
    except TimeoutError:
        raise AssertionError(f"the bot never answered:\n{bot.output()}") from None
    await bot.kill()
    answered = {user for user in BURST if emulator.chat(user).sent_count}
    assert len(answered) < len(BURST), "the burst was over before the kill"

    await bot.start()
    try:
        await until(
            lambda: all(emulator.chat(user).sent_count for user in BURST),
            120,
            "every user answered after the restart",
        )
    except AssertionError as error:
        missing = [u for u in BURST if not emulator.chat(u).sent_count]
        raise AssertionError(f"{error}; unanswered {missing}:\n{bot.output()}") from None
    await emulator.wait_idle(timeout=30, quiet=1.0)
    counts = {user: emulator.chat(user).sent_count for user in BURST}
    assert set(counts.values()) <= {1, 2}, counts
    # Handled twice only if the kill fell between its reply and its mark.
    assert {user for user, count in counts.items() if count == 2} <= answered, counts


async def test_kill_9_of_run_mid_burst_loses_no_update(emulator, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await clinic_db(url)
    bot = Bot(emulator, url, tmp_path / "run.log", "run")
    try:
        await kill_mid_burst(emulator, bot)
    finally:
        await bot.stop()


async def test_kill_9_of_serve_mid_burst_loses_no_update(emulator, tmp_path: Path) -> None:
    url = await new_postgres_database()
    port = free_port()
    bot = Bot(
        emulator, url, tmp_path / "serve.log", "serve", "--host", "127.0.0.1", "--port", str(port)
    ).webhook(port)
    try:
        await clinic_db(url)
        await kill_mid_burst(emulator, bot)
        assert emulator.webhook_url == f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    finally:
        await bot.stop()
        await drop_postgres_database(url)
