"""The scheduler's side of the outbox: the repeating job, and a wake-up after a change."""

from __future__ import annotations

from typing import cast

from telegram.ext import JobQueue

from bookbot.bot import refunds
from bookbot.bot.context import BotContext
from bookbot.notify import delivery
from bookbot.services import bookings, waitlist


async def deliver_due(context: BotContext) -> None:
    """Sends every due outbox row (APScheduler runs this through PTB's JobQueue).

    First it lets holds that ran out go, so an offer nobody answered passes to the next
    who waits, and its message goes out in the same round; it ends waitlist entries
    whose dates have passed; last, Telegram Stars owed back are refunded.
    """
    d = context.deps
    assert d.sender is not None  # wiring.build_bot gives the bot its Telegram sender
    await bookings.expire_lapsed(d.db, d.clock())
    await waitlist.end_passed(d.db, d.clock())
    await delivery.deliver(d.sender, d.db, d.settings, d.clock())
    await refunds.give_back(context.bot, d)


def wake(context: BotContext) -> None:
    """Delivers at once what a change just wrote, instead of at the next round."""
    # PTB leaves job_queue's context type unbound; it is BotContext (see app.py).
    queue = cast("JobQueue[BotContext] | None", context.job_queue)
    assert queue is not None
    queue.run_once(deliver_due, 0)
