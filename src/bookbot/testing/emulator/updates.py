"""How the bot receives updates: long polling with getUpdates, or a webhook.

getUpdates confirms what the bot has seen by its ``offset`` and waits for more; a second
poll ends the first with 409, as on Telegram.  setWebhook switches delivery to the
server's webhook worker, which then owns the queue.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from starlette.requests import Request

from .chats import StoredFile
from .errors import ApiError, bad_request
from .params import as_int
from .state import EmulatorState


class UpdateMethods(EmulatorState):
    """getUpdates, setWebhook, deleteWebhook and getWebhookInfo."""

    async def _get_updates(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        """getUpdates: confirms updates up to ``offset``, then returns pending ones or waits."""
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self._confirm(as_int(p.get("offset"), 0))
        limit = min(max(as_int(p.get("limit"), 100), 1), 100)
        timeout = max(float(p.get("timeout") or 0), 0.0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        disconnected: asyncio.Task[None] | None = None
        if timeout > 0:
            disconnected = asyncio.create_task(_wait_disconnect(r))
        try:
            while True:
                changed = self._changed
                if self._closing or self.webhook_url:
                    return []
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                if self._pending:
                    return [self._pending[i] for i in range(min(limit, len(self._pending)))]
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                waiter = asyncio.ensure_future(changed.wait())
                waiting: set[asyncio.Future[Any]] = {waiter}
                if disconnected is not None:
                    waiting.add(disconnected)
                await asyncio.wait(waiting, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if disconnected is not None and disconnected.done():
                    return []  # the client went away; nothing was delivered
        finally:
            if disconnected is not None:
                disconnected.cancel()

    async def _set_webhook(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        """setWebhook: updates go to this URL from now on (an empty URL: back to polling)."""
        url = str(p.get("url") or "")
        if url and not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if p.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook_url = url
        self.webhook_secret = str(secret) if secret else None
        self._webhook_error = None
        self._notify()
        return True

    async def _delete_webhook(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        """deleteWebhook: back to getUpdates, optionally dropping what is pending."""
        if p.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook_url = ""
        self.webhook_secret = None
        self._webhook_error = None
        self._notify()
        return True

    async def _get_webhook_info(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        """getWebhookInfo: the URL, what is pending, and the last delivery error."""
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["max_connections"] = 40
            if self._webhook_error:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    def _confirm(self, offset: int) -> None:
        """Drops the updates a getUpdates ``offset`` confirms (negative: keeps the last ones)."""
        before = len(self._pending)
        if offset > 0:
            while self._pending and self._pending[0]["update_id"] < offset:
                self._pending.popleft()
        elif offset < 0:
            while len(self._pending) > -offset:
                self._pending.popleft()
        if len(self._pending) != before:
            self._touch()
            self._notify()


async def _wait_disconnect(request: Request) -> None:
    """Return when the HTTP client of ``request`` disconnects (body already consumed)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return
