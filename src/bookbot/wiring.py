"""The one composition root: what `bookbot run`, `serve` and `deliver` are built from.

Settings name the database and the Bot API; from them come the collaborators (`Deps`:
database, settings, clock, and the Telegram sender on the bot's own Bot), the bot with
its handlers (bot/app.py), the web app with the bot's intake as its webhook (web/app.py),
and the outbox's delivery (notify/delivery.py). Nothing else builds these.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime

from starlette.applications import Starlette
from telegram.ext import Application, ExtBot

from bookbot.bot.app import build_application
from bookbot.bot.inbox import Webhook, run_polling
from bookbot.bot.limiter import TELEGRAM, UNPACED, Limiter
from bookbot.bot.sender import TelegramSender
from bookbot.config import Settings
from bookbot.deps import Clock, Database, Deps, open_database, system_clock
from bookbot.notify import delivery
from bookbot.web import app as web

__all__ = ["Deps", "build_bot", "build_web", "deliver", "run", "serve"]


def build_bot(
    settings: Settings, db: Database, clock: Clock = system_clock, *, polling: bool = True
) -> Application:
    """The bot on `db`, its outbox sent through its own Bot (and so its Limiter).

    With `polling`, its intake polls Telegram; without, `build_web`'s webhook feeds it.
    """
    return build_application(
        settings, lambda bot: Deps(db, settings, clock, TelegramSender(bot)), polling=polling
    )


def build_web(application: Application, *, manage_bot: bool = True) -> Starlette:
    """The web app around a bot built without polling; with `manage_bot`, it runs the bot."""
    return web.build_web(application.bot_data["deps"], Webhook(application), manage_bot=manage_bot)


def run(settings: Settings) -> None:
    """Runs the bot on long polling until interrupted."""
    asyncio.run(run_polling(build_bot(settings, open_database(settings.database_url))))


def serve(settings: Settings, host: str, port: int) -> None:
    """Runs the bot behind its webhook, with the review page and health check, until stopped."""
    import uvicorn

    application = build_bot(settings, open_database(settings.database_url), polling=False)
    uvicorn.run(build_web(application), host=host, port=port, log_level="info", proxy_headers=True)


async def deliver(settings: Settings, db: Database, now: datetime) -> Counter:
    """Sends the rows due at `now` through a Bot of its own; says what became of them."""
    base = (settings.api_url or "https://api.telegram.org/bot").rstrip("/")
    limiter = Limiter(TELEGRAM if settings.pace else UNPACED)
    async with ExtBot(settings.require_token(), base_url=base, rate_limiter=limiter) as bot:
        return await delivery.deliver(TelegramSender(bot), db, settings, now)
