"""The web side of `bookbot serve`, on Starlette: webhook, review page, health."""

from __future__ import annotations

import hmac
from contextlib import asynccontextmanager
from hashlib import sha256

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from bookbot.bot.context import Deps
from bookbot.web import pages

WEBHOOK_PATH = "/telegram"


def webhook_secret(secret: str) -> str:
    """The header value Telegram must send with each update, derived from BOOKBOT_SECRET."""
    return hmac.new(secret.encode(), b"telegram-webhook", sha256).hexdigest()


def build_web(application: Application, deps: Deps, *, manage_bot: bool = True) -> Starlette:
    """The ASGI app; with `manage_bot`, it starts and stops the bot with itself."""
    secret = deps.settings.secret or ""

    @asynccontextmanager
    async def lifespan(_: Starlette):  # type: ignore[no-untyped-def]
        if not manage_bot:
            yield
            return
        await application.initialize()
        if application.post_init:
            await application.post_init(application)
        await application.start()
        if deps.settings.public_url:
            await application.bot.set_webhook(
                f"{deps.settings.public_url}{WEBHOOK_PATH}", secret_token=webhook_secret(secret),
                allowed_updates=["message", "callback_query", "my_chat_member"])
        try:
            yield
        finally:
            await application.stop()
            await application.shutdown()

    async def health(request: Request) -> Response:
        return await pages.health(deps)

    async def telegram(request: Request) -> Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given, webhook_secret(secret)):
            return Response(status_code=403)
        update = Update.de_json(await request.json(), application.bot)
        await application.update_queue.put(update)
        return Response(status_code=200)

    async def review(request: Request) -> Response:
        return await pages.review(request, deps, secret)

    return Starlette(routes=[
        Route("/health", health),
        Route(WEBHOOK_PATH, telegram, methods=["POST"]),
        Route("/review", review, methods=["GET", "POST"]),
    ], lifespan=lifespan, middleware=[Middleware(pages.SecurityHeaders)],
        exception_handlers={500: pages.broken})

