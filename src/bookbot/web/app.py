"""The web side of `bookbot serve`, on Starlette: webhook, review page, health.

It knows no Telegram: the webhook route hands updates to a `Webhook` that wiring.py
passes in (the bot's intake), and that Webhook also starts and stops the bot.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from hashlib import sha256
from typing import Any, Protocol

from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bookbot.deps import Deps
from bookbot.errors import BookbotError
from bookbot.web import pages

WEBHOOK_PATH = "/telegram"
# Telegram's updates are a few kilobytes (a 4,096-character text with its entities and a
# keyboard stays far below this); anything bigger is not from Telegram.
MAX_UPDATE_BYTES = 1024 * 1024
_LOG = logging.getLogger(__name__)


def webhook_secret(secret: str) -> str:
    """The header value Telegram must send with each update, derived from BOOKBOT_SECRET."""
    return hmac.new(secret.encode(), b"telegram-webhook", sha256).hexdigest()


class Webhook(Protocol):
    """Where the webhook route hands Telegram's updates: the bot's intake, from wiring.py."""

    def parse(self, body: bytes) -> dict[str, Any]:
        """The update in a body, with its int `update_id`; raises ValueError naming the fault."""
        ...

    async def take(self, updates: Sequence[dict[str, Any]]) -> int:
        """Stores updates durably before returning (then handles them); how many were new."""
        ...

    def running(self, url: str | None, secret_token: str) -> AbstractAsyncContextManager[None]:
        """The bot started (its webhook set to `url`, when given) until the block ends."""
        ...


def build_web(deps: Deps, webhook: Webhook, *, manage_bot: bool = True) -> Starlette:
    """The ASGI app; with `manage_bot`, it starts and stops the bot with itself."""
    secret = deps.settings.secret or ""

    @asynccontextmanager
    async def lifespan(_: Starlette):  # type: ignore[no-untyped-def]
        if not manage_bot:
            yield
            return
        url = f"{deps.settings.public_url}{WEBHOOK_PATH}" if deps.settings.public_url else None
        async with webhook.running(url, webhook_secret(secret)):
            yield

    async def health(request: Request) -> Response:
        return await pages.health(deps)

    async def telegram(request: Request) -> Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given, webhook_secret(secret)):
            return Response(status_code=403)
        body = await _bounded_body(request, MAX_UPDATE_BYTES)
        if body is None:
            _LOG.warning("webhook: refused a body over %d bytes", MAX_UPDATE_BYTES)
            return Response(status_code=413)
        try:
            data = webhook.parse(body)
        except ValueError as error:
            _LOG.warning("webhook: refused a malformed update: %s", error)
            return Response(status_code=400)
        try:
            await webhook.take([data])
        except (BookbotError, DBAPIError, OSError) as error:  # Telegram sends it again
            _LOG.warning("webhook: could not store update %s: %s", data["update_id"], error)
            return Response(status_code=503)
        # Stored (or stored before): Telegram may forget it now.
        return Response(status_code=200)

    async def review(request: Request) -> Response:
        return await pages.review(request, deps, secret)

    return Starlette(
        routes=[
            Route("/health", health),
            Route(WEBHOOK_PATH, telegram, methods=["POST"]),
            Route("/review", review, methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
        middleware=[Middleware(pages.SecurityHeaders)],
        exception_handlers={500: pages.broken},
    )


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None  # the rest is never read
        chunks.append(chunk)
    return b"".join(chunks)
