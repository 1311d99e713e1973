"""Benchmarks one tap through the real bot: update in, reply out, over the local emulator.

Targets on the project's 2-core machine: median under 30 ms per tap, at least 200 taps a
second in one process. Run: `python bench/taps.py [--db URL]`.

The bot runs as it is deployed, `bookbot run` in its own process, on the demo clinic in a
temporary SQLite file (or the database given); the Bot API emulator stands in for
Telegram in this process. A tap counts as done when the bot has answered it (after the
edited message went out). Prints the median and 95th percentile latency, the throughput
with many users tapping at once, and the bot process's CPU time per tap.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bookbot.demo import clinic
from bookbot.services.availability import free_slots
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.testing.emulator import TEST_PROVIDER, ApiCall, BotApiEmulator

LATENCY_TAPS = 200
LOAD_USERS, LOAD_TAPS = 20, 100


async def main() -> None:
    """Prints each figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    url = parser.parse_args().db or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'b.db'}"
    now = datetime.now(UTC)
    db = Database(url)
    await import_clinic(db, clinic(now), provider=True)  # the demo's filling asks a deposit
    cycle = _cycle(await _free_days(db, now))
    await db.close()
    async with BotApiEmulator() as emulator:
        bot = _start_bot(emulator, url)
        answers = emulator.subscribe_calls()
        try:
            print(
                f"tap benchmark, Python {sys.version.split()[0]}, {db.dialect}, demo clinic, "
                f"bot in its own process (bookbot run), {os.cpu_count()} cores"
            )
            latencies = await _latency(emulator, answers, cycle)
            median = statistics.median(latencies)
            p95 = statistics.quantiles(latencies, n=20)[-1]
            print(
                f"one tap, update in to answer out ({len(latencies)} taps): median "
                f"{median:.1f} ms, p95 {p95:.1f} ms  target median < 30 ms  "
                f"{'ok' if median < 30 else 'OVER TARGET'}"
            )
            rate, cpu = await _throughput(emulator, answers, cycle, bot.pid)
            print(
                f"throughput, {LOAD_USERS} users tapping at once: {rate:.0f} taps/s  "
                f"target >= 200  {'ok' if rate >= 200 else 'UNDER TARGET'}"
            )
            print(f"bot process CPU per tap under load: {cpu:.1f} ms")
        finally:
            bot.terminate()
            bot.wait(timeout=20)


async def _free_days(db: Database, now: datetime) -> list[date]:
    """Two days on which Ann has free check-ups, to tap on the calendar."""
    slots = await free_slots(
        db, now, now.date(), now.date() + timedelta(days=30), specialist="ann", service="checkup"
    )
    days = sorted({s.start.date() for s in slots})
    return days[:2]


def _cycle(days: list[date]) -> list[str]:
    """A round of taps through the flow and back: service, specialist, day, and back again."""
    first, second = (d.strftime("%Y%m%d") for d in days)
    return [
        "s:checkup",
        "p:ann",
        f"d:{first}",
        "b:calendar",
        "b:specialists",
        "p:*",
        f"d:{second}",
        "b:services",
    ]


def _start_bot(emulator: BotApiEmulator, url: str) -> subprocess.Popen:
    # The emulator keeps no flood limits, and the bench measures the bot, not Telegram's pace.
    environment = dict(
        os.environ,
        BOOKBOT_TELEGRAM_TOKEN=emulator.token,
        BOOKBOT_TELEGRAM_API_URL=f"{emulator.url}/bot",
        BOOKBOT_PACE="off",
        BOOKBOT_PAYMENT_PROVIDER_TOKEN=TEST_PROVIDER,  # the emulator's test provider
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bookbot", "run", "--db", url],
        env=environment,
        stderr=subprocess.DEVNULL,
    )


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _answered(answers: asyncio.Queue[ApiCall], method: str, count: int = 1) -> None:
    while count:
        if (await answers.get()).method == method:
            count -= 1


async def _started(emulator: BotApiEmulator, user_id: int, answers: asyncio.Queue) -> int:
    user = emulator.user(user_id, f"Bench {user_id}")
    await emulator.send_text(user, "/start")
    await asyncio.wait_for(_answered(answers, "sendMessage"), timeout=60)
    message = emulator.chat(user).last
    assert message is not None
    return message.message_id


async def _latency(
    emulator: BotApiEmulator, answers: asyncio.Queue, cycle: list[str]
) -> list[float]:
    message_id = await _started(emulator, 1, answers)
    found = []
    for i in range(LATENCY_TAPS):
        started = time.perf_counter()
        await emulator.tap_data(1, message_id, cycle[i % len(cycle)])
        await _answered(answers, "answerCallbackQuery")
        found.append((time.perf_counter() - started) * 1000)
        if i % 50 == 49:
            print(f"  … {i + 1}/{LATENCY_TAPS} taps", file=sys.stderr)
    return found


async def _throughput(
    emulator: BotApiEmulator, answers: asyncio.Queue, cycle: list[str], pid: int
) -> tuple[float, float]:
    """Taps a second, and the bot's CPU milliseconds a tap, with many users at once."""
    messages = {uid: await _started(emulator, uid, answers) for uid in range(100, 100 + LOAD_USERS)}
    total = LOAD_USERS * LOAD_TAPS
    cpu, started = _cpu_seconds(pid), time.perf_counter()
    for step in range(LOAD_TAPS):
        for uid, message_id in messages.items():
            await emulator.tap_data(uid, message_id, cycle[step % len(cycle)])
    await _answered(answers, "answerCallbackQuery", total)
    elapsed = time.perf_counter() - started
    return total / elapsed, (_cpu_seconds(pid) - cpu) * 1000 / total


if __name__ == "__main__":
    asyncio.run(main())
