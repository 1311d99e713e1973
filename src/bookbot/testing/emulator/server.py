"""The emulator as a server: Telegram's HTTP side on 127.0.0.1, and what tests observe of it.

:class:`BotApiEmulator` binds a socket, serves the Bot API and file downloads with
Starlette under uvicorn in the running event loop, delivers updates to a webhook when
one is set, records every call, and tells a test when the bot has gone quiet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from msgspec import Struct
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .chats import StoredFile
from .errors import BLOCKED, ApiError
from .faults import FaultRule, Faults, FloodControl
from .methods import BotApiMethods
from .params import read_params
from .payments import PaymentActions
from .users import UserActions

_LOGGER = logging.getLogger(__name__)


class ApiCall(Struct):
    """One request the bot made, with decoded parameters and the emulator's answer."""

    method: str
    params: dict[str, Any]
    files: dict[str, StoredFile]
    ok: bool
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    at: float = 0.0

    @property
    def chat_id(self) -> Any:
        """The ``chat_id`` parameter, if any."""
        return self.params.get("chat_id")


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handlers alone and stops without polling."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.exit_requested = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leaves the signals to the program the emulator runs in (pytest, `bookbot try`)."""
        yield

    async def main_loop(self) -> None:
        """Serves until asked to stop, instead of uvicorn's tick every tenth of a second."""
        await self.on_tick(0)
        await self.exit_requested.wait()
        self.should_exit = True


class BotApiEmulator(UserActions, PaymentActions, BotApiMethods):
    """A Telegram Bot API server for one bot, running in the current event loop.

    Use it as ``async with BotApiEmulator() as emu`` or call :meth:`start` / :meth:`stop`.
    With ``token=None`` every token is accepted; otherwise other tokens get 401 Unauthorized.
    ``idle_quiet`` is the default quiet period of :meth:`wait_idle`. ``first_update_id``
    is where update ids start: Telegram keeps counting across a bot's restarts, so a bot
    whose inbox outlives one emulator must be handed a new emulator that counts past it.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_username: str = "bookbot_test_bot",
        bot_first_name: str = "BookBot",
        bot_id: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        idle_quiet: float = 0.1,
        unanswered_grace: float = 1.0,
        flood: FloodControl | None = None,
        first_update_id: int = 1,
    ) -> None:
        super().__init__(
            token=token,
            bot_username=bot_username,
            bot_first_name=bot_first_name,
            bot_id=bot_id,
            first_update_id=first_update_id,
        )
        self.host = host
        self.port = port
        self.idle_quiet = idle_quiet
        self.unanswered_grace = unanswered_grace
        self.flood = flood  # Telegram's flood limits, enforced when set (see FloodControl)
        self.calls: list[ApiCall] = []

        self._faults = Faults()
        self._subscribers: list[tuple[asyncio.Queue[ApiCall], bool]] = []
        self._call_cursor = 0
        self._inflight = 0
        self._server: _QuietServer | None = None
        self._server_task: asyncio.Task[None] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._methods = {name.lower(): (name, run) for name, run in self._method_table().items()}

    # ---------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Bind the socket and start serving in the running event loop."""
        if self._server is not None:
            raise RuntimeError("emulator already started")
        self._closing = False
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on sockets whose proto
        # says TCP, and without it every response stalls ~40 ms on delayed ACKs.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._handle_api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{file_path:path}", self._handle_file, methods=["GET"]),
            ]
        )
        config = uvicorn.Config(
            app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = _QuietServer(config)
        self._server_task = asyncio.create_task(
            self._server.serve(sockets=[sock]), name="BotApiEmulator:server"
        )
        while not self._server.started:
            if self._server_task.done():
                self._server_task.result()
                raise RuntimeError("emulator server stopped during startup")
            await asyncio.sleep(0.005)
        self._webhook_task = asyncio.create_task(
            self._webhook_worker(), name="BotApiEmulator:webhook"
        )
        self._touch()

    async def stop(self) -> None:
        """Answer pending long polls, stop webhook delivery and shut the server down."""
        self._closing = True
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._server is not None and self._server_task is not None:
            self._server.exit_requested.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._server_task), timeout=5)
            except TimeoutError:
                self._server.force_exit = True
                self._server_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._server_task
        self._server = None
        self._server_task = None

    @property
    def url(self) -> str:
        """Base URL of the server, like ``http://127.0.0.1:PORT`` (valid after start)."""
        return f"http://{self.host}:{self.port}"

    # ---------------------------------------------------------------- fault injection

    @property
    def sends_in_flood_wait(self) -> list[tuple[str, int]]:
        """Messages sent into a chat during a retry_after it was told: (method, chat_id)."""
        return self._faults.sends_in_flood_wait

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        retry_after: int = 2,
        chat_id: int | None = None,
        times: int = 1,
        description: str | None = None,
    ) -> FaultRule:
        """Make the next ``times`` calls of ``method`` (``"*"``: any) fail like Telegram.

        429 answers ``Too Many Requests: retry after N`` with ``parameters.retry_after``;
        403 answers ``Forbidden: bot was blocked by the user``; other codes get a generic
        description unless ``description`` is given.  ``chat_id`` narrows the match.
        """
        parameters = None
        if description is None:
            description = {
                400: "Bad Request: injected failure",
                403: BLOCKED,
                409: "Conflict: injected failure",
                429: f"Too Many Requests: retry after {retry_after}",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(error_code, f"Error {error_code}: injected failure")
        if error_code == 429:
            parameters = {"retry_after": retry_after}
        rule = FaultRule(method, error_code, description, parameters, chat_id, times)
        self._faults.rules.append(rule)
        return rule

    def clear_faults(self) -> None:
        """Forget every pending injected failure."""
        self._faults.rules.clear()

    # ---------------------------------------------------------------- observing the bot

    def calls_to(self, method: str) -> list[ApiCall]:
        """All recorded calls of ``method`` (case-insensitive), oldest first."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    async def next_call(self, method: str | None = None, timeout: float = 5.0) -> ApiCall:
        """Return the next call not yet returned by this method, waiting if needed.

        A cursor advances over :attr:`calls`; calls that do not match ``method`` are skipped
        (getUpdates is skipped unless asked for).  Raises TimeoutError.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            while self._call_cursor < len(self.calls):
                call = self.calls[self._call_cursor]
                self._call_cursor += 1
                if method is None and call.method != "getUpdates":
                    return call
                if method is not None and call.method.lower() == method.lower():
                    return call
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no {method or 'API'} call within {timeout}s")
            await _wait_event(changed, remaining)

    def subscribe_calls(self, include_polling: bool = False) -> asyncio.Queue[ApiCall]:
        """Return a queue that receives every later call (getUpdates only if asked)."""
        queue: asyncio.Queue[ApiCall] = asyncio.Queue()
        self._subscribers.append((queue, include_polling))
        return queue

    async def wait_idle(self, timeout: float = 5.0, quiet: float | None = None) -> None:
        """Wait until the bot has handled everything it was sent; raise TimeoutError if not.

        The bot counts as idle when all of these hold at once:

        1. every queued update was fetched: confirmed by a later getUpdates ``offset``, or
           acknowledged with 2xx by the webhook;
        2. no bot request other than a getUpdates long poll is being served;
        3. nothing happened (request start/end, update fetched) for ``quiet`` seconds
           (default :attr:`idle_quiet`, 0.1 s), which covers the gap between PTB taking an
           update off its queue and the handler's first call;
        4. every callback query was answered, unless the bot has been silent for
           ``unanswered_grace`` (1 s) — then an unanswered query is accepted, so tests can
           assert on ``record.answered`` themselves.

        Work the bot schedules for later (job queue, background tasks that sleep) is not
        covered.  The TimeoutError message says what was still pending.
        """
        loop = asyncio.get_running_loop()
        quiet = self.idle_quiet if quiet is None else quiet
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            now = loop.time()
            reason, retry_in = self._busy(now, quiet)
            if reason is None:
                return
            if now >= deadline:
                raise TimeoutError(f"bot not idle after {timeout}s: {reason}")
            await _wait_event(changed, min(deadline - now, max(retry_in, 0.005)))

    def _busy(self, now: float, quiet: float) -> tuple[str | None, float]:
        """What keeps the bot from counting as idle, and how soon to look again (None: idle)."""
        if self._pending:
            return f"{len(self._pending)} update(s) not yet fetched by the bot", 0.05
        if self._inflight:
            return f"{self._inflight} bot request(s) in progress", 0.05
        silent = now - self._last_activity
        if silent < quiet:
            return f"bot active {silent:.3f}s ago", quiet - silent
        unanswered = [q.id for q in self.callback_queries.values() if not q.answered]
        if unanswered and silent < self.unanswered_grace:
            return f"callback queries not answered: {unanswered}", self.unanswered_grace - silent
        return None, 0.0

    def _record(self, call: ApiCall) -> None:
        """Keeps a finished call and hands it to every subscriber that wants it."""
        self.calls.append(call)
        for queue, include_polling in self._subscribers:
            if include_polling or call.method != "getUpdates":
                queue.put_nowait(call)
        self._notify()

    # ---------------------------------------------------------------- internals: HTTP

    async def _handle_api(self, request: Request) -> Response:
        """Serves one Bot API call: token, parameters, faults, then the method; records it."""
        token = request.path_params["token"]
        requested = request.path_params["method"]
        if self._token is not None and token != self._token:
            return JSONResponse(ApiError(401, "Unauthorized").payload(), status_code=401)
        name, handler = self._methods.get(requested.lower(), (requested, None))
        polling = name == "getUpdates"
        if not polling:
            self._inflight += 1
            self._touch()
        params: dict[str, Any] = {}
        files: dict[str, StoredFile] = {}
        try:
            params, files = await read_params(request)
            if handler is None:
                raise ApiError(404, "Not Found")
            fault = self._faults.take(name, params, self.flood)
            if fault is not None:
                raise fault
            result = await handler(params, files, request)
            body: dict[str, Any] = {"ok": True, "result": result}
            status = 200
            call = ApiCall(name, params, files, True, result=result)
        except ApiError as error:
            body, status = error.payload(), error.error_code
            call = ApiCall(
                name, params, files, False, error_code=status, description=error.description
            )
        except Exception:  # noqa: BLE001 - report like Telegram would, keep serving
            _LOGGER.exception("emulator failed to handle %s", name)
            body = ApiError(500, "Internal Server Error").payload()
            status = 500
            call = ApiCall(
                name, params, files, False, error_code=500, description="Internal Server Error"
            )
        finally:
            if not polling:
                self._inflight -= 1
                self._touch()
        call.at = time.time()
        self._record(call)
        return JSONResponse(body, status_code=status)

    async def _handle_file(self, request: Request) -> Response:
        """Serves the content of a stored file by its download path."""
        token = request.path_params["token"]
        if self._token is not None and token != self._token:
            return JSONResponse(ApiError(401, "Unauthorized").payload(), status_code=401)
        path = request.path_params["file_path"]
        for stored in self.files.values():
            if stored.file_path == path:
                return Response(stored.data, media_type=stored.mime_type)
        return JSONResponse(ApiError(404, "Not Found").payload(), status_code=404)

    async def _webhook_worker(self) -> None:
        """POSTs pending updates, oldest first, to the webhook while one is set.

        An update leaves the queue only on a 2xx answer; failures are kept for
        getWebhookInfo and retried with a backoff up to a second.
        """
        failures = 0
        async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
            while not self._closing:
                changed = self._changed
                if not self.webhook_url or not self._pending:
                    await changed.wait()
                    continue
                update = self._pending[0]
                url = self.webhook_url
                headers = {}
                if self.webhook_secret:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
                try:
                    response = await client.post(url, json=update, headers=headers)
                    delivered = 200 <= response.status_code < 300
                    error = f"Wrong response from the webhook: {response.status_code} " + (
                        response.reason_phrase or ""
                    )
                except httpx.HTTPError as exc:
                    delivered, error = False, f"Connection failed: {exc.__class__.__name__}"
                if delivered:
                    failures = 0
                    self.webhook_deliveries.append(update)
                    if self._pending and self._pending[0] is update:
                        self._pending.popleft()
                    self._touch()
                    self._notify()
                else:
                    failures += 1
                    self._webhook_error = (int(time.time()), error.strip())
                    await _wait_event(self._changed, min(0.05 * 2**failures, 1.0))


async def _wait_event(event: asyncio.Event, timeout: float) -> None:
    """Waits for the event, or ``timeout`` seconds, whichever comes first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)
