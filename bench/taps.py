"""Benchmarks one tap through the real bot: update in, reply out, over the local emulator.

Targets on the project's 2-core machine: median under 30 ms per tap, at least 200 taps a
second in one process. Run: `python bench/taps.py`. Uses a temporary SQLite file with the
demo clinic; prints the median and 95th percentile latency, and the throughput.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bookbot import booking
from bookbot.bot.app import build_application
from bookbot.bot.emulator import BotApiEmulator
from bookbot.config import Settings
from bookbot.demo import clinic
from bookbot.store.db import Database

NOW = datetime.fromisoformat("2026-11-30T08:00:00+01:00")
CYCLE = ["s:checkup", "p:ann", "d:20261201", "b:calendar", "b:specialists", "p:*",
         "d:20261202", "b:services"]
LATENCY_TAPS = 200
LOAD_USERS, LOAD_TAPS = 20, 40


async def main() -> None:
    """Prints each figure."""
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    db = Database(url)
    await booking.import_clinic(db, clinic(NOW))
    await db.close()
    async with BotApiEmulator() as emulator:
        settings = Settings(token=emulator.token, api_url=f"{emulator.url}/bot", database_url=url)
        application = build_application(settings, Database(url), lambda: NOW)
        await application.initialize()
        await application.post_init(application)  # type: ignore[misc]
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=10)  # type: ignore[union-attr]
        answers = emulator.subscribe_calls()
        try:
            print(f"tap benchmark, Python {sys.version.split()[0]}, SQLite, demo clinic")
            latencies = await _latency(emulator, answers)
            median = statistics.median(latencies)
            p95 = statistics.quantiles(latencies, n=20)[-1]
            print(f"one tap, update in to answer out ({len(latencies)} taps): median "
                  f"{median:.1f} ms, p95 {p95:.1f} ms  target median < 30 ms  "
                  f"{'ok' if median < 30 else 'OVER TARGET'}")
            rate = await _throughput(emulator, answers)
            print(f"throughput, {LOAD_USERS} users tapping at once: {rate:.0f} taps/s  "
                  f"target >= 200  {'ok' if rate >= 200 else 'UNDER TARGET'}")
        finally:
            await application.updater.stop()  # type: ignore[union-attr]
            await application.stop()
            await application.shutdown()


async def _started(emulator: BotApiEmulator, user_id: int, answers: asyncio.Queue) -> int:
    user = emulator.user(user_id, f"Bench {user_id}")
    message = await emulator.send_text(user, "/start")
    await emulator.wait_idle(timeout=10)
    while not answers.empty():
        answers.get_nowait()
    return emulator.chat(user).last.message_id if message else 0


async def _latency(emulator: BotApiEmulator, answers: asyncio.Queue) -> list[float]:
    message_id = await _started(emulator, 1, answers)
    found = []
    for i in range(LATENCY_TAPS):
        started = time.perf_counter()
        await emulator.tap_data(1, message_id, CYCLE[i % len(CYCLE)])
        while (await answers.get()).method != "answerCallbackQuery":
            pass
        found.append((time.perf_counter() - started) * 1000)
        if i % 50 == 49:
            print(f"  … {i + 1}/{LATENCY_TAPS} taps", file=sys.stderr)
    return found


async def _throughput(emulator: BotApiEmulator, answers: asyncio.Queue) -> float:
    messages = {uid: await _started(emulator, uid, answers) for uid in range(100, 100 + LOAD_USERS)}
    total = LOAD_USERS * LOAD_TAPS
    started = time.perf_counter()
    for step in range(LOAD_TAPS):
        for uid, message_id in messages.items():
            await emulator.tap_data(uid, message_id, CYCLE[step % len(CYCLE)])
    answered = 0
    while answered < total:
        if (await answers.get()).method == "answerCallbackQuery":
            answered += 1
    return total / (time.perf_counter() - started)


if __name__ == "__main__":
    asyncio.run(main())
