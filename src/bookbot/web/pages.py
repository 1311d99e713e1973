"""The pages `bookbot serve` shows people: the review page, health, and their safety headers."""

from __future__ import annotations

import asyncio
import logging
from base64 import b64encode
from collections.abc import Mapping
from hashlib import sha256
from html import escape
from urllib.parse import parse_qsl

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bookbot import i18n
from bookbot.deps import Deps
from bookbot.errors import BadInput, BookbotError
from bookbot.notify.reviews import booking_of
from bookbot.services import reviews
from bookbot.services.health import check as check_health
from bookbot.services.visits import Visit

log = logging.getLogger(__name__)

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}"
    "label{display:block;margin:.3rem 0}textarea{width:100%}"
    "button{margin-top:1rem;padding:.5rem 1.5rem}.problem{color:#a00}"
)
# Nothing but the page's own style may load or run; the token in the URL never leaves as a
# Referer, and no other site may frame the form.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; "
        f"style-src 'sha256-{b64encode(sha256(STYLE.encode()).digest()).decode()}'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
# A refusal's HTTP status by its locale key; any other refusal is 400.
STATUS = {
    "review.forged": 403,
    "review.too_soon": 403,
    "review.unknown": 404,
    "review.expired": 410,
    "review.already": 410,
    "review.no_visit": 410,
    "review.too_large": 413,
}
FORM_LIMIT = 32 * 1024  # a 2,000-character comment, percent-encoded at worst (24 KB), and a token
FORM_FIELDS = 10
HEALTH_WAIT = 10.0  # seconds; a load balancer gives up sooner than asyncpg's 60 s connect timeout


class SecurityHeaders:
    """ASGI middleware that puts HEADERS on every HTTP response passing through it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Passes the request on, adding the headers to the response as it starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(HEADERS)
            await send(message)

        await self.app(scope, receive, secured)


async def broken(request: Request, error: Exception) -> Response:
    """The page for an unexpected failure: a plain apology, the traceback only in the log.

    Starlette sends it from outside every middleware, so it carries HEADERS itself.
    """
    lang = i18n.choose(*_accepted(request))
    response = _page(
        lang,
        i18n.text("web.problem", lang),
        f"<p class=problem>{escape(i18n.text('web.broken', lang))}</p>",
        status=500,
    )
    response.headers.update(HEADERS)
    return response


async def health(deps: Deps) -> Response:
    """Says whether the database answers: "ok", or 503 "unavailable" (the error is logged)."""
    try:
        async with asyncio.timeout(HEALTH_WAIT):
            await check_health(deps.db)
    except Exception:  # noqa: BLE001 - any failure means unavailable; its text is not public
        log.exception("health check: the database does not answer")
        return PlainTextResponse("unavailable", status_code=503)
    return PlainTextResponse("ok")


async def review(request: Request, deps: Deps, secret: str) -> Response:
    """The review page: a signed link shows the form (GET), which stores one review (POST)."""
    lang = i18n.choose(*_accepted(request), deps.settings.locale)
    now = deps.clock()
    try:
        form = await _posted(request) if request.method == "POST" else request.query_params
        token = form.get("token", "")
        booking_id = booking_of(token, now, secret)
        if request.method == "POST":
            await reviews.save(
                deps.db,
                now,
                booking_id,
                reviews.rating_of(form.get("rating", "")),
                form.get("comment"),
            )
            return _page(lang, i18n.text("web.thanks", lang), "")
        held = await reviews.reviewable(deps.db, now, booking_id)
        return _page(lang, i18n.text("web.heading", lang), _form(held, lang, token))
    except BookbotError as error:
        return _page(
            lang,
            i18n.text("web.problem", lang),
            f"<p class=problem>{escape(i18n.text(error.key, lang, **error.params))}</p>",
            status=STATUS.get(error.key, 400),
        )


async def _posted(request: Request) -> Mapping[str, str]:
    """The fields of a posted form, reading no more than FORM_LIMIT bytes of it."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            raise BadInput("review.too_large", most=reviews.COMMENT_LIMIT)
    try:
        return dict(
            parse_qsl(
                body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=FORM_FIELDS
            )
        )
    except ValueError:  # more fields than the form has
        raise BadInput("review.bad_form") from None


def _accepted(request: Request) -> list[str]:
    header = request.headers.get("accept-language", "")
    return [part.split(";")[0].strip() for part in header.split(",") if part.strip()]


def _form(held: Visit, lang: str, token: str) -> str:
    """The visit named, five ratings to choose from, a comment box and Send."""
    visit = i18n.text(
        "web.visit",
        lang,
        service=held.service.name,
        specialist=held.specialist.name,
        when=i18n.moment(held.booking.start, lang),
    )
    stars = "".join(
        f"<label><input type=radio name=rating value={n} required> {'★' * n}</label>"
        for n in range(5, 0, -1)
    )
    return (
        f"<p>{escape(visit)}</p><form method=post action=/review>"
        f'<input type=hidden name=token value="{escape(token)}">'
        f"<fieldset><legend>{escape(i18n.text('web.rating', lang))}</legend>{stars}"
        f"</fieldset><label for=comment>{escape(i18n.text('web.comment', lang))}</label>"
        f"<textarea id=comment name=comment rows=4 maxlength={reviews.COMMENT_LIMIT}>"
        f"</textarea><button type=submit>{escape(i18n.text('web.send', lang))}</button>"
        "</form>"
    )


def _page(lang: str, heading: str, body: str, status: int = 200) -> HTMLResponse:
    title = escape(i18n.text("web.title", lang))
    return HTMLResponse(
        f"<!doctype html><html lang={lang}><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width, initial-scale=1'><title>{title}"
        f"</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(heading)}</h1>{body}</body></html>",
        status_code=status,
    )
