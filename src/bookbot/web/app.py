"""The web side of `bookbot serve`, on Starlette: webhook, review page, health."""

from __future__ import annotations

import hmac
import logging
from contextlib import asynccontextmanager
from hashlib import sha256
from html import escape

from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from telegram.ext import Application

from bookbot import i18n
from bookbot.bot.context import Deps
from bookbot.bot.inbox import BadUpdate, intake, parse
from bookbot.errors import BookbotError
from bookbot.flow import named
from bookbot.notify import reviews
from bookbot.store.uow import UnitOfWork

WEBHOOK_PATH = "/telegram"
# Telegram's updates are a few kilobytes (a 4,096-character text with its entities and a
# keyboard stays far below this); anything bigger is not from Telegram.
MAX_UPDATE_BYTES = 1024 * 1024
_LOG = logging.getLogger(__name__)


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
        await intake(application).start()
        if deps.settings.public_url:
            await application.bot.set_webhook(
                f"{deps.settings.public_url}{WEBHOOK_PATH}", secret_token=webhook_secret(secret),
                allowed_updates=["message", "callback_query", "my_chat_member"])
        try:
            yield
        finally:
            await intake(application).stop()
            await application.stop()
            await application.shutdown()

    async def health(request: Request) -> Response:
        try:
            async with UnitOfWork(deps.db, write=False) as uow:
                await uow.store.catalog()
        except Exception as error:  # noqa: BLE001 - health reports any failure
            return JSONResponse({"ok": False, "database": str(error)}, status_code=503)
        return JSONResponse({"ok": True})

    async def telegram(request: Request) -> Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given, webhook_secret(secret)):
            return Response(status_code=403)
        body = await _bounded_body(request, MAX_UPDATE_BYTES)
        if body is None:
            _LOG.warning("webhook: refused a body over %d bytes", MAX_UPDATE_BYTES)
            return Response(status_code=413)
        try:
            data = parse(body, application)
        except BadUpdate as error:
            _LOG.warning("webhook: refused a malformed update: %s", error)
            return Response(status_code=400)
        try:
            await intake(application).take([data])
        except (BookbotError, DBAPIError, OSError) as error:  # Telegram sends it again
            _LOG.warning("webhook: could not store update %s: %s", data["update_id"], error)
            return Response(status_code=503)
        # Stored (or stored before): Telegram may forget it now.
        return Response(status_code=200)

    async def review(request: Request) -> Response:
        lang = i18n.choose(*_accepted(request), deps.settings.locale)
        form = await request.form() if request.method == "POST" else request.query_params
        token = str(form.get("token", ""))
        now = deps.clock()
        try:
            booking_id = reviews.booking_of(token, now, secret)
            if request.method == "POST":
                rating = str(form.get("rating", ""))
                await reviews.save(deps.db, now, booking_id,
                                   int(rating) if rating.isdigit() else 0,
                                   str(form.get("comment", "")) or None)
                return _page(lang, i18n.text("web.thanks", lang), "")
            return _page(lang, i18n.text("web.heading", lang),
                         await _form(deps, lang, booking_id, token))
        except BookbotError as error:
            return _page(lang, i18n.text("web.problem", lang),
                         f"<p class=problem>{escape(i18n.text(error.key, lang, **error.params))}"
                         "</p>", status=400 if request.method == "POST" else 410)

    return Starlette(routes=[
        Route("/health", health),
        Route(WEBHOOK_PATH, telegram, methods=["POST"]),
        Route("/review", review, methods=["GET", "POST"]),
    ], lifespan=lifespan)


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


def _accepted(request: Request) -> list[str]:
    header = request.headers.get("accept-language", "")
    return [part.split(";")[0].strip() for part in header.split(",") if part.strip()]


async def _form(deps: Deps, lang: str, booking_id: int, token: str) -> str:
    async with UnitOfWork(deps.db, write=False) as uow:
        found = await uow.store.booking(booking_id)
        if found is None:
            raise BookbotError("review.forged")
        held = await named(uow.store, found, found.start)
        if await reviews.exists(uow.session, booking_id):
            raise BookbotError("review.already")
    when = f"{i18n.day(held.booking.start.date(), lang, 'EEEE d MMMM')}, " \
           f"{i18n.clock(held.booking.start, lang)}"
    visit = i18n.text("web.visit", lang, service=held.service.name,
                      specialist=held.specialist.name, when=when)
    stars = "".join(
        f'<label><input type=radio name=rating value={n} required> {"★" * n}</label>'
        for n in range(5, 0, -1))
    return (f"<p>{escape(visit)}</p><form method=post action=/review>"
            f"<input type=hidden name=token value=\"{escape(token)}\">"
            f"<fieldset><legend>{escape(i18n.text('web.rating', lang))}</legend>{stars}"
            f"</fieldset><label for=comment>{escape(i18n.text('web.comment', lang))}</label>"
            f"<textarea id=comment name=comment rows=4></textarea>"
            f"<button type=submit>{escape(i18n.text('web.send', lang))}</button></form>")


def _page(lang: str, heading: str, body: str, status: int = 200) -> HTMLResponse:
    title = escape(i18n.text("web.title", lang))
    return HTMLResponse(
        f"<!doctype html><html lang={lang}><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width, initial-scale=1'><title>{title}"
        "</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;"
        "padding:0 1rem}label{display:block;margin:.3rem 0}textarea{width:100%}"
        "button{margin-top:1rem;padding:.5rem 1.5rem}.problem{color:#a00}</style></head>"
        f"<body><h1>{escape(heading)}</h1>{body}</body></html>", status_code=status)
