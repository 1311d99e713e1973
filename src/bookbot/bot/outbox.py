"""The scheduler's side of the outbox: the repeating job, and a wake-up after a change."""

from __future__ import annotations

from telegram.ext import ContextTypes

from bookbot.bot.context import deps
from bookbot.notify import delivery


async def deliver_due(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends every due outbox row (APScheduler runs this through PTB's JobQueue)."""
    d = deps(context)
    assert d.sender is not None  # wiring.build_bot gives the bot its Telegram sender
    await delivery.deliver(d.sender, d.db, d.settings, d.clock())


def wake(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delivers at once what a change just wrote, instead of at the next round."""
    assert context.job_queue is not None
    context.job_queue.run_once(deliver_due, 0)
