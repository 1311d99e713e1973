"""A local emulator of the Telegram Bot API that speaks real HTTP on 127.0.0.1.

The emulator plays Telegram's part for one bot and any number of private chats.  A bot
under test talks to it with python-telegram-bot's real HTTP client; the test (or the
terminal demo) plays the users::

    async with BotApiEmulator() as emu:
        app = (
            ApplicationBuilder()
            .token(emu.token)
            .base_url(f"{emu.url}/bot")          # PTB appends the token itself
            .base_file_url(f"{emu.url}/file/bot")
            .build()
        )
        ...  # add handlers, initialize/start the app, start polling
        alice = emu.user(42, first_name="Alice")
        await emu.send_text(alice, "/start")
        await emu.wait_idle()
        assert "Welcome" in emu.chat(alice).last.text

What it implements
    ``POST|GET /bot{token}/{method}`` with JSON, urlencoded or multipart bodies (fields that
    carry JSON objects, such as ``reply_markup``, may arrive JSON-encoded and are decoded),
    and ``GET /file/bot{token}/{file_path}`` for downloads.  Supported methods: getMe,
    getUpdates (offset confirmation, long polling, limit), setWebhook / deleteWebhook /
    getWebhookInfo (updates are then POSTed to the webhook), sendMessage, editMessageText,
    editMessageReplyMarkup, deleteMessage, answerCallbackQuery, sendDocument, getFile,
    sendChatAction, setMyCommands / getMyCommands / deleteMyCommands, setChatMenuButton /
    getChatMenuButton, getChat, close and logOut.  Method names are case-insensitive, as
    on Telegram.  Errors use Telegram's JSON shape and HTTP status, so python-telegram-bot
    raises its real exceptions (``BadRequest``, ``Forbidden``, ``RetryAfter``, ``Conflict``,
    ``InvalidToken``).  ``parse_mode`` HTML, MarkdownV2 and Markdown are parsed the way
    Telegram does (approximately): messages store the rendered plain text, and malformed
    markup is rejected with "can't parse entities".

Flood control
    Off by default; ``BotApiEmulator(flood=FloodControl())`` enforces Telegram's limits on
    messages (about one a second into a chat, with a short burst, and about 30 a second
    overall): a send over them gets 429 with ``parameters.retry_after``, and a send during
    that wait is refused again and counted in :attr:`BotApiEmulator.sends_in_flood_wait`.
    Single failures can still be injected with :meth:`BotApiEmulator.fail_next`.

What it does not do
    Groups and channels, media other than documents, inline mode, payments, and message
    entities in results.

Waiting without sleeps
    :meth:`BotApiEmulator.wait_idle` returns once the bot has fetched every update, has no
    request in progress, and has been silent for a short quiet period; see its docstring.
    :meth:`BotApiEmulator.next_call` and :meth:`BotApiEmulator.subscribe_calls` follow the
    bot's calls as they happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import mimetypes
import re
import socket
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = [
    "ApiCall",
    "ApiError",
    "BotApiEmulator",
    "CallbackQueryRecord",
    "ChatMessage",
    "ChatState",
    "ChatUser",
    "FaultRule",
    "FloodControl",
    "InlineButton",
    "ReplyButton",
    "StoredFile",
]

_LOGGER = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"

# Parameters that carry JSON objects/arrays; form bodies send them JSON-encoded.
_JSON_FIELDS = frozenset(
    "reply_markup scope commands entities caption_entities allowed_updates "
    "menu_button link_preview_options reply_parameters media message_ids".split()
)
_INT_FIELDS = frozenset(
    "chat_id message_id offset limit timeout cache_time max_connections user_id "
    "from_chat_id message_thread_id reply_to_message_id".split()
)
_BOOL_FIELDS = frozenset(
    "show_alert disable_notification protect_content drop_pending_updates "
    "allow_sending_without_reply disable_web_page_preview "
    "disable_content_type_detection allow_paid_broadcast".split()
)
# Methods that deliver something into a chat; they answer 403 when the user blocked the bot.
_SENDING_METHODS = frozenset(
    {"sendMessage", "sendDocument", "sendChatAction", "editMessageText", "editMessageReplyMarkup"}
)
# Messages into a chat: what Telegram's flood control counts (answerCallbackQuery is not).
_FLOODED = frozenset({"sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup"})
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
# Command scopes naming one chat: Telegram refuses them for a chat that never opened the bot.
_CHAT_SCOPES = frozenset({"chat", "chat_administrators", "chat_member"})
# Link schemes Telegram keeps in a text link; any other (tel:, javascript:) is dropped.
_LINK_SCHEMES = ("http://", "https://", "tg://")


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


class ApiError(Exception):
    """A Bot API failure, answered as ``{"ok": false, "error_code", "description"}``."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        """Return the JSON body Telegram would send for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


class _EntityError(Exception):
    """Raised by the parse_mode renderers; becomes "can't parse entities: ..."."""


# --------------------------------------------------------------------------------------
# Public records
# --------------------------------------------------------------------------------------


@dataclass
class ChatUser:
    """A Telegram user played by the test or demo; their private chat id equals ``id``."""

    id: int
    first_name: str = "Test"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    phone_number: str | None = None

    def to_api(self) -> dict[str, Any]:
        """Return the Bot API ``User`` object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def chat_api(self) -> dict[str, Any]:
        """Return the Bot API ``Chat`` object of this user's private chat with the bot."""
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class StoredFile:
    """A file the bot uploaded (or referenced by URL), downloadable again via getFile."""

    file_id: str
    file_unique_id: str
    filename: str | None
    mime_type: str | None
    data: bytes
    file_path: str
    url: str | None = None

    @property
    def size(self) -> int:
        """Size of the content in bytes."""
        return len(self.data)

    def to_api(self) -> dict[str, Any]:
        """Return the Bot API ``Document`` object."""
        data: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.filename:
            data["file_name"] = self.filename
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data


@dataclass
class InlineButton:
    """One button of an inline keyboard, remembering where it is shown."""

    text: str
    chat_id: int
    message_id: int
    callback_data: str | None = None
    url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReplyButton:
    """One button of a reply (custom) keyboard."""

    text: str
    request_contact: bool = False
    request_location: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class ChatMessage:
    """A message in a private chat, as the user currently sees it.

    ``text`` and ``caption`` hold the rendered plain text (parse_mode markup removed);
    ``raw_text`` keeps what the bot sent.  Edits update the object in place and append to
    ``history``.
    """

    message_id: int
    chat_id: int
    date: int
    from_bot: bool
    text: str | None = None
    raw_text: str | None = None
    parse_mode: str | None = None
    caption: str | None = None
    entities: list[dict[str, Any]] | None = None
    reply_markup: dict[str, Any] | None = None
    document: StoredFile | None = None
    contact: dict[str, Any] | None = None
    edit_date: int | None = None
    deleted: bool = False
    history: list[str] = field(default_factory=list)

    @property
    def inline_keyboard(self) -> list[list[InlineButton]]:
        """Rows of inline buttons currently attached to the message (empty if none)."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            [
                InlineButton(
                    text=str(button.get("text", "")),
                    chat_id=self.chat_id,
                    message_id=self.message_id,
                    callback_data=button.get("callback_data"),
                    url=button.get("url"),
                    raw=button,
                )
                for button in row
            ]
            for row in rows
        ]

    @property
    def buttons(self) -> list[InlineButton]:
        """All inline buttons of the message, row by row."""
        return [button for row in self.inline_keyboard for button in row]

    @property
    def reply_keyboard(self) -> list[list[ReplyButton]] | None:
        """Rows of the reply keyboard this message carried, or None."""
        if not self.reply_markup or "keyboard" not in self.reply_markup:
            return None
        return _reply_rows(self.reply_markup)

    @property
    def edited(self) -> bool:
        """Whether the message was edited after it was sent."""
        return self.edit_date is not None

    def find_button(self, text: str) -> InlineButton:
        """Return the first inline button whose label contains ``text``."""
        found = _match_button(self.buttons, text)
        if found is None:
            labels = [b.text for b in self.buttons]
            raise LookupError(
                f"no button containing {text!r} on message {self.message_id}: {labels}"
            )
        return found

    def to_api(self, sender: dict[str, Any], chat: dict[str, Any]) -> dict[str, Any]:
        """Return the Bot API ``Message`` object."""
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": chat,
            "from": sender,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.text is not None:
            data["text"] = self.text
        if self.entities:
            data["entities"] = self.entities
        if self.document is not None:
            data["document"] = self.document.to_api()
        if self.caption is not None:
            data["caption"] = self.caption
        if self.contact is not None:
            data["contact"] = self.contact
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            # Telegram only echoes inline keyboards back in Message objects.
            data["reply_markup"] = {"inline_keyboard": self.reply_markup["inline_keyboard"]}
        return data


@dataclass
class ChatState:
    """Everything that happened in one private chat between the bot and a user."""

    user: ChatUser
    all_messages: list[ChatMessage] = field(default_factory=list)
    incoming: list[ChatMessage] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    reply_keyboard: list[list[ReplyButton]] | None = None
    actions: list[str] = field(default_factory=list)
    menu_button: dict[str, Any] | None = None
    blocked: bool = False

    @property
    def id(self) -> int:
        """The chat id (equal to the user id for private chats)."""
        return self.user.id

    @property
    def messages(self) -> list[ChatMessage]:
        """The bot's messages still shown in the chat, oldest first."""
        return [m for m in self.all_messages if not m.deleted]

    @property
    def last(self) -> ChatMessage | None:
        """The bot's newest message still shown, or None."""
        shown = self.messages
        return shown[-1] if shown else None

    @property
    def texts(self) -> list[str]:
        """Current text (or caption) of every message still shown."""
        return [m.text if m.text is not None else (m.caption or "") for m in self.messages]

    @property
    def sent_count(self) -> int:
        """How many messages the bot delivered to this chat (deleted ones included)."""
        return len(self.all_messages)

    @property
    def transcript(self) -> list[ChatMessage]:
        """Messages of both sides still shown, in chat order."""
        shown = [m for m in self.all_messages + self.incoming if not m.deleted]
        return sorted(shown, key=lambda m: m.message_id)

    def message(self, message_id: int) -> ChatMessage | None:
        """Return the message (either side, even deleted) with this id, or None."""
        for m in self.all_messages + self.incoming:
            if m.message_id == message_id:
                return m
        return None

    def find_button(self, text: str) -> InlineButton:
        """Return an inline button whose label contains ``text``, newest message first."""
        for message in reversed(self.messages):
            found = _match_button(message.buttons, text)
            if found is not None:
                return found
        labels = [b.text for m in self.messages for b in m.buttons]
        raise LookupError(f"no inline button containing {text!r} in chat {self.id}: {labels}")

    def find_reply_button(self, text: str) -> ReplyButton:
        """Return a button of the current reply keyboard whose label contains ``text``."""
        buttons = [b for row in self.reply_keyboard or [] for b in row]
        exact = [b for b in buttons if b.text == text]
        if exact:
            return exact[0]
        partial = [b for b in buttons if text.casefold() in b.text.casefold()]
        if partial:
            return partial[0]
        raise LookupError(
            f"no reply keyboard button containing {text!r} in chat {self.id}: "
            f"{[b.text for b in buttons]}"
        )


@dataclass
class CallbackQueryRecord:
    """A callback query sent on behalf of a user, and how the bot answered it."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False
    answer_url: str | None = None


@dataclass
class ApiCall:
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


@dataclass
class FaultRule:
    """A pending injected failure; see :meth:`BotApiEmulator.fail_next`."""

    method: str
    error_code: int
    description: str
    parameters: dict[str, Any] | None
    chat_id: int | None
    remaining: int

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        """Whether a call of ``method`` with ``params`` should fail."""
        if self.remaining <= 0:
            return False
        if self.method != "*" and self.method.lower() != method.lower():
            return False
        if self.method == "*" and method == "getUpdates":
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id


@dataclass(frozen=True)
class FloodControl:
    """Telegram's flood limits, as the emulator enforces them when given one.

    ``per_chat`` messages a second into one chat with ``chat_burst`` at once, and
    ``overall`` a second for the whole bot with ``overall_burst`` at once.  A test may
    raise the rates to run faster; the answers keep Telegram's shape (whole seconds).
    """

    per_chat: float = 1.0
    chat_burst: int = 3
    overall: float = 30.0
    overall_burst: int = 30


class _Pace:
    """A rate with a burst allowance (a token bucket kept as its next free instant)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (max(burst, 1) - 1) * self.interval
        self.next_free = 0.0

    def wait(self, now: float) -> float:
        """Seconds until one more message fits (0 if it fits now)."""
        return max(0.0, self.next_free - self.tolerance - now)

    def take(self, now: float) -> None:
        """Counts one message sent at ``now``."""
        self.next_free = max(self.next_free, now) + self.interval


class _FloodGate:
    """Flood control's state: a pace per chat, one overall, and the retry_after waits told."""

    def __init__(self, control: FloodControl) -> None:
        self.control = control
        self.chats: dict[int, _Pace] = {}
        self.overall = _Pace(control.overall, control.overall_burst)
        self.waits: dict[int | None, float] = {}  # a chat (None: all of them) -> end of its wait

    def waiting(self, chat_id: int, now: float) -> float:
        """Seconds left of a wait told to this chat or to the whole bot (0 if none)."""
        return max(self.waits.get(chat_id, 0.0), self.waits.get(None, 0.0)) - now

    def tell(self, chat_id: int | None, seconds: int, now: float) -> ApiError:
        """Opens a wait for the chat (None: for all) and says so as Telegram does."""
        self.waits[chat_id] = max(self.waits.get(chat_id, 0.0), now + seconds)
        return _too_many(seconds)

    def admit(self, chat_id: int, now: float) -> ApiError | None:
        """Counts a message if both paces allow it; else a 429 that opens a wait."""
        pace = self.chats.get(chat_id)
        if pace is None:
            pace = self.chats[chat_id] = _Pace(self.control.per_chat, self.control.chat_burst)
        if (wait := pace.wait(now)) > 0:
            return self.tell(chat_id, _whole_seconds(wait), now)
        if (wait := self.overall.wait(now)) > 0:
            return self.tell(None, _whole_seconds(wait), now)
        pace.take(now)
        self.overall.take(now)
        return None


def _whole_seconds(seconds: float) -> int:
    """A retry_after as Telegram gives it: whole seconds, at least one."""
    return max(1, math.ceil(seconds))


def _too_many(seconds: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})


# --------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------

_Handler = Callable[[dict[str, Any], dict[str, StoredFile], Request], Awaitable[Any]]


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handlers alone and stops without polling."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.exit_requested = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def main_loop(self) -> None:
        await self.on_tick(0)
        await self.exit_requested.wait()
        self.should_exit = True


class BotApiEmulator:
    """A Telegram Bot API server for one bot, running in the current event loop.

    Use it as ``async with BotApiEmulator() as emu`` or call :meth:`start` / :meth:`stop`.
    With ``token=None`` every token is accepted; otherwise other tokens get 401 Unauthorized.
    ``idle_quiet`` is the default quiet period of :meth:`wait_idle`.
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
    ) -> None:
        self._token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        prefix = (token or "").split(":", 1)[0]
        self.bot_id = bot_id or (int(prefix) if prefix.isdigit() else 7_000_000_001)
        self.host = host
        self.port = port
        self.idle_quiet = idle_quiet
        self.unanswered_grace = unanswered_grace
        self.flood = flood  # Telegram's flood limits, enforced when set (see FloodControl)
        # Messages sent into a chat during a retry_after it was told: (method, chat_id).
        self.sends_in_flood_wait: list[tuple[str, int]] = []
        self._flood_gate: _FloodGate | None = None

        self.calls: list[ApiCall] = []
        self.updates: list[dict[str, Any]] = []
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.files: dict[str, StoredFile] = {}
        self.webhook_url: str = ""
        self.webhook_secret: str | None = None
        self.webhook_deliveries: list[dict[str, Any]] = []
        self.default_menu_button: dict[str, Any] | None = None
        self.my_names: dict[str, str] = {}

        self._chats: dict[int, ChatState] = {}
        self._next_message_id: dict[int, int] = {}
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._pending: deque[dict[str, Any]] = deque()
        self._next_update_id = 1
        self._next_query_id = 1
        self._next_file_no = 1
        self._faults: list[FaultRule] = []
        self._subscribers: list[tuple[asyncio.Queue[ApiCall], bool]] = []
        self._call_cursor = 0
        self._inflight = 0
        self._last_activity = 0.0
        self._poll_generation = 0
        self._changed = asyncio.Event()
        self._closing = False
        self._webhook_error: tuple[int, str] | None = None

        self._server: _QuietServer | None = None
        self._server_task: asyncio.Task[None] | None = None
        self._webhook_task: asyncio.Task[None] | None = None

        self._methods: dict[str, tuple[str, _Handler]] = {}
        for name, handler in self._method_table().items():
            self._methods[name.lower()] = (name, handler)

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

    @property
    def token(self) -> str:
        """The configured token, or a well-formed sample token when any token is accepted."""
        return self._token or f"{self.bot_id}:EMULATOR-TOKEN"

    @property
    def bot_user(self) -> dict[str, Any]:
        """The Bot API ``User`` object of the bot."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ---------------------------------------------------------------- users and chats

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        language_code: str | None = "en",
        username: str | None = None,
        *,
        last_name: str | None = None,
        phone_number: str | None = None,
    ) -> ChatUser:
        """Register (or re-describe) a user and their private chat; return the user."""
        person = ChatUser(
            id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            phone_number=phone_number or f"+1555{user_id % 10_000_000:07d}",
        )
        chat = self._chats.get(user_id)
        if chat is None:
            self._chats[user_id] = ChatState(user=person)
        else:
            chat.user = person
        return person

    def chat(self, user: ChatUser | int) -> ChatState:
        """Return the state of the private chat with ``user`` (a user or a user id)."""
        user_id = user.id if isinstance(user, ChatUser) else int(user)
        try:
            return self._chats[user_id]
        except KeyError:
            raise KeyError(f"unknown chat {user_id}; register it with emu.user()") from None

    @property
    def chats(self) -> dict[int, ChatState]:
        """All chats by id."""
        return dict(self._chats)

    def block(self, user: ChatUser | int, *, notify: bool = False) -> None:
        """Make the user block the bot: sends to the chat answer 403 "bot was blocked".

        With ``notify=True`` a ``my_chat_member`` update (status "kicked") is queued, as
        Telegram does.  The user sending anything again unblocks the bot.
        """
        chat = self.chat(user)
        chat.blocked = True
        if notify:
            self._enqueue({"my_chat_member": self._member_update(chat, "member", "kicked")})

    def unblock(self, user: ChatUser | int, *, notify: bool = False) -> None:
        """Undo :meth:`block`; ``notify=True`` queues the matching ``my_chat_member``."""
        chat = self.chat(user)
        chat.blocked = False
        if notify:
            self._enqueue({"my_chat_member": self._member_update(chat, "kicked", "member")})

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """Return the commands the bot set for this scope and language (default scope)."""
        return list(self._commands.get((_scope_key(scope), language_code), []))

    # ---------------------------------------------------------------- acting as users

    async def send_text(self, user: ChatUser | int, text: str) -> ChatMessage:
        """Send a text message from the user; a leading ``/command`` gets its entity."""
        chat = self.chat(user)
        entities = None
        match = _COMMAND_RE.match(text)
        if match:
            entities = [{"type": "bot_command", "offset": 0, "length": len(match.group())}]
        message = self._user_message(chat, text=text, entities=entities)
        await asyncio.sleep(0)
        return message

    async def share_contact(
        self,
        user: ChatUser | int,
        phone: str | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> ChatMessage:
        """Send the user's own contact (``contact.user_id`` is the user), as a share does."""
        chat = self.chat(user)
        contact: dict[str, Any] = {
            "phone_number": phone or chat.user.phone_number,
            "first_name": first_name or chat.user.first_name,
            "user_id": chat.user.id,
        }
        if last_name or chat.user.last_name:
            contact["last_name"] = last_name or chat.user.last_name
        message = self._user_message(chat, contact=contact)
        await asyncio.sleep(0)
        return message

    async def press_reply_button(self, user: ChatUser | int, text: str) -> ChatMessage:
        """Press a button of the chat's current reply keyboard (found by label).

        A plain button sends its label as text; a ``request_contact`` button shares the
        user's contact.  Raises LookupError when no such button is shown.
        """
        chat = self.chat(user)
        button = chat.find_reply_button(text)
        if button.request_contact:
            return await self.share_contact(user)
        if button.request_location:
            raise ValueError("location buttons are not supported by the emulator")
        return await self.send_text(user, button.text)

    async def tap(self, user: ChatUser | int, button: str | InlineButton) -> CallbackQueryRecord:
        """Tap an inline button shown in the user's chat; return the callback query record.

        ``button`` is a button object (e.g. from ``chat.find_button("Book")``) or a
        callback_data string, which is searched on the shown messages, newest first.
        """
        chat = self.chat(user)
        if isinstance(button, str):
            candidates = [
                b for m in reversed(chat.messages) for b in m.buttons if b.callback_data == button
            ]
            if not candidates:
                shown = [b.callback_data for m in chat.messages for b in m.buttons]
                raise LookupError(f"no button with callback_data {button!r} shown: {shown}")
            button = candidates[0]
        if button.chat_id != chat.id:
            raise LookupError(f"button belongs to chat {button.chat_id}, not {chat.id}")
        message = chat.message(button.message_id)
        if message is None or message.deleted:
            raise LookupError(f"message {button.message_id} is no longer shown")
        if button.callback_data is None:
            raise ValueError(f"button {button.text!r} has no callback_data (url={button.url!r})")
        if not any(b.callback_data == button.callback_data for b in message.buttons):
            raise LookupError(f"button {button.text!r} is no longer on message {button.message_id}")
        return await self.tap_data(user, button.message_id, button.callback_data)

    async def tap_data(
        self, user: ChatUser | int, message_id: int, data: str
    ) -> CallbackQueryRecord:
        """Send a callback query with arbitrary (possibly forged) data for a message.

        If the message does not exist the query carries an inaccessible message, as
        Telegram does for old messages.
        """
        chat = self.chat(user)
        message = chat.message(message_id)
        if message is not None and not message.deleted:
            sender = self.bot_user if message.from_bot else chat.user.to_api()
            message_api = message.to_api(sender, chat.user.chat_api())
        else:
            message_api = {"chat": chat.user.chat_api(), "message_id": message_id, "date": 0}
        query_id = str(4_000_000_000_000 + self._next_query_id)
        self._next_query_id += 1
        record = CallbackQueryRecord(
            id=query_id, user_id=chat.user.id, chat_id=chat.id, message_id=message_id, data=data
        )
        self.callback_queries[query_id] = record
        self._enqueue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": chat.user.to_api(),
                    "chat_instance": f"ci-{chat.id}",
                    "message": message_api,
                    "data": data,
                }
            }
        )
        await asyncio.sleep(0)
        return record

    async def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (``update_id`` is assigned); for cases the helpers lack."""
        stored = self._enqueue(dict(update))
        await asyncio.sleep(0)
        return stored

    # ---------------------------------------------------------------- fault injection

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
        self._faults.append(rule)
        return rule

    def clear_faults(self) -> None:
        """Forget every pending injected failure."""
        self._faults.clear()

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

    # ---------------------------------------------------------------- internals: state

    def _touch(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._last_activity = asyncio.get_running_loop().time()

    def _notify(self) -> None:
        changed = self._changed
        self._changed = asyncio.Event()
        changed.set()

    def _busy(self, now: float, quiet: float) -> tuple[str | None, float]:
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

    def _enqueue(self, body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update_id, **body}
        self._next_update_id += 1
        self.updates.append(update)
        self._pending.append(update)
        self._touch()
        self._notify()
        return update

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _user_message(
        self,
        chat: ChatState,
        *,
        text: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        contact: dict[str, Any] | None = None,
    ) -> ChatMessage:
        chat.blocked = False  # writing to the bot again means it is not blocked
        message = ChatMessage(
            message_id=self._new_message_id(chat.id),
            chat_id=chat.id,
            date=int(time.time()),
            from_bot=False,
            text=text,
            raw_text=text,
            entities=entities,
            contact=contact,
        )
        chat.incoming.append(message)
        self._enqueue({"message": message.to_api(chat.user.to_api(), chat.user.chat_api())})
        return message

    def _member_update(self, chat: ChatState, old: str, new: str) -> dict[str, Any]:
        return {
            "chat": chat.user.chat_api(),
            "from": chat.user.to_api(),
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": self.bot_user},
            "new_chat_member": {
                "status": new,
                "user": self.bot_user,
                **({"until_date": 0} if new == "kicked" else {}),
            },
        }

    def _confirm(self, offset: int) -> None:
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

    def _record(self, call: ApiCall) -> None:
        self.calls.append(call)
        for queue, include_polling in self._subscribers:
            if include_polling or call.method != "getUpdates":
                queue.put_nowait(call)
        self._notify()

    def _take_fault(self, method: str, params: dict[str, Any]) -> ApiError | None:
        for rule in self._faults:
            if rule.matches(method, params):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._faults.remove(rule)
                return ApiError(rule.error_code, rule.description, rule.parameters)
        return None

    def _take_flood(self, method: str, params: dict[str, Any]) -> ApiError | None:
        """Flood control around the injected faults: the error this call gets, if any.

        A message into a chat still inside a retry_after is refused and counted; an
        injected 429 opens a wait like a real one; otherwise the paces decide.
        """
        chat_id = params.get("chat_id")
        if self.flood is None or method not in _FLOODED or not isinstance(chat_id, int):
            return self._take_fault(method, params)
        gate = self._flood_gate
        if gate is None or gate.control is not self.flood:
            gate = self._flood_gate = _FloodGate(self.flood)
        now = time.monotonic()
        if (left := gate.waiting(chat_id, now)) > 0:
            self.sends_in_flood_wait.append((method, chat_id))
            return _too_many(_whole_seconds(left))
        fault = self._take_fault(method, params)
        if fault is not None and fault.error_code == 429 and fault.parameters:
            gate.tell(chat_id, int(fault.parameters["retry_after"]), now)
        return fault or gate.admit(chat_id, now)

    # ---------------------------------------------------------------- internals: HTTP

    async def _handle_api(self, request: Request) -> Response:
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
            params, files = await _read_params(request)
            if handler is None:
                raise ApiError(404, "Not Found")
            fault = self._take_flood(name, params)
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
        token = request.path_params["token"]
        if self._token is not None and token != self._token:
            return JSONResponse(ApiError(401, "Unauthorized").payload(), status_code=401)
        path = request.path_params["file_path"]
        for stored in self.files.values():
            if stored.file_path == path:
                return Response(stored.data, media_type=stored.mime_type)
        return JSONResponse(ApiError(404, "Not Found").payload(), status_code=404)

    async def _webhook_worker(self) -> None:
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

    # ---------------------------------------------------------------- internals: helpers

    def _chat_for(self, params: dict[str, Any], method: str) -> ChatState:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise _bad_request("chat not found")
        if chat.blocked and method in _SENDING_METHODS:
            raise ApiError(403, BLOCKED)
        return chat

    def _bot_message(self, chat: ChatState, params: dict[str, Any], action: str) -> ChatMessage:
        message_id = params.get("message_id")
        if params.get("inline_message_id"):
            raise _bad_request("inline messages are not supported by the emulator")
        if not isinstance(message_id, int):
            raise _bad_request("message identifier is not specified")
        message = chat.message(message_id)
        if message is None or message.deleted:
            raise _bad_request(f"message to {action} not found")
        if not message.from_bot:
            raise _bad_request(f"message can't be {action}ed")
        return message

    def _message_api(self, message: ChatMessage) -> dict[str, Any]:
        chat = self._chats[message.chat_id]
        sender = self.bot_user if message.from_bot else chat.user.to_api()
        return message.to_api(sender, chat.user.chat_api())

    def _deliver(self, chat: ChatState, message: ChatMessage) -> None:
        chat.all_messages.append(message)
        shown = message.text if message.text is not None else message.caption
        if shown is not None:
            message.history.append(shown)
            chat.history.append(shown)
        markup = message.reply_markup or {}
        if "keyboard" in markup:
            chat.reply_keyboard = _reply_rows(markup)
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None

    def _store_file(
        self, params: dict[str, Any], files: dict[str, StoredFile], name: str
    ) -> StoredFile:
        value = params.get(name)
        if name in files:
            return self._register_upload(files[name])
        if isinstance(value, str) and value.startswith("attach://"):
            attached = files.get(value.removeprefix("attach://"))
            if attached is None:
                raise _bad_request(f"file attachment {value!r} not found")
            return self._register_upload(attached)
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            stored = StoredFile("", "", value.rsplit("/", 1)[-1] or None, None, b"", "", url=value)
            return self._register_upload(stored)
        if value:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        raise _bad_request(f"there is no {name} in the request")

    def _register_upload(self, upload: StoredFile) -> StoredFile:
        number = self._next_file_no
        self._next_file_no += 1
        suffix = ""
        if upload.filename and "." in upload.filename:
            suffix = "." + upload.filename.rsplit(".", 1)[-1]
        stored = StoredFile(
            file_id=f"BQACAgIAAx{uuid.uuid4().hex}",
            file_unique_id=f"AgAD{number:06d}",
            filename=upload.filename,
            mime_type=upload.mime_type,
            data=upload.data,
            file_path=f"documents/file_{number}{suffix}",
            url=upload.url,
        )
        self.files[stored.file_id] = stored
        return stored

    # ---------------------------------------------------------------- Bot API methods

    def _method_table(self) -> dict[str, _Handler]:
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "getFile": self._get_file,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "getChat": self._get_chat,
            "close": self._always_true,
            "logOut": self._always_true,
        }

    async def _always_true(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        return True

    async def _get_me(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self._confirm(_as_int(p.get("offset"), 0))
        limit = min(max(_as_int(p.get("limit"), 100), 1), 100)
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
        url = str(p.get("url") or "")
        if url and not url.startswith(("http://", "https://")):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        if p.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook_url = url
        self.webhook_secret = str(secret) if secret else None
        self._webhook_error = None
        self._notify()
        return True

    async def _delete_webhook(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
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

    async def _send_message(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        chat = self._chat_for(p, "sendMessage")
        raw = p.get("text")
        parse_mode = p.get("parse_mode")
        text = _render(str(raw) if raw is not None else "", parse_mode)
        _check_text(text)
        markup = _check_markup(p.get("reply_markup"))
        message = ChatMessage(
            message_id=self._new_message_id(chat.id),
            chat_id=chat.id,
            date=int(time.time()),
            from_bot=True,
            text=text,
            raw_text=str(raw),
            parse_mode=parse_mode,
            entities=_text_links(str(raw), parse_mode),
            reply_markup=markup,
        )
        self._deliver(chat, message)
        return self._message_api(message)

    async def _edit_message_text(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        chat = self._chat_for(p, "editMessageText")
        message = self._bot_message(chat, p, "edit")
        raw = p.get("text")
        parse_mode = p.get("parse_mode")
        text = _render(str(raw) if raw is not None else "", parse_mode)
        _check_text(text)
        markup = _check_markup(p.get("reply_markup"), inline_only=True)
        if message.text is None:
            raise _bad_request("there is no text in the message to edit")
        if (
            text == message.text
            and str(raw) == (message.raw_text or "")
            and _inline(markup) == _inline(message.reply_markup)
        ):
            raise ApiError(400, NOT_MODIFIED)
        message.text, message.raw_text, message.parse_mode = text, str(raw), parse_mode
        message.entities = _text_links(str(raw), parse_mode)
        message.reply_markup = markup
        message.edit_date = int(time.time())
        message.history.append(text)
        chat.history.append(text)
        return self._message_api(message)

    async def _edit_message_reply_markup(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        chat = self._chat_for(p, "editMessageReplyMarkup")
        message = self._bot_message(chat, p, "edit")
        markup = _check_markup(p.get("reply_markup"), inline_only=True)
        if _inline(markup) == _inline(message.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        message.reply_markup = markup
        message.edit_date = int(time.time())
        return self._message_api(message)

    async def _delete_message(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        chat = self._chat_for(p, "deleteMessage")
        message_id = p.get("message_id")
        message = chat.message(message_id) if isinstance(message_id, int) else None
        if message is None or message.deleted:
            raise _bad_request("message to delete not found")
        message.deleted = True
        return True

    async def _answer_callback_query(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        record = self.callback_queries.get(str(p.get("callback_query_id") or ""))
        if record is None or record.answered:
            raise ApiError(400, QUERY_TOO_OLD)
        text = p.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        record.answer_text = str(text) if text is not None else None
        record.show_alert = bool(p.get("show_alert"))
        record.answer_url = p.get("url")
        return True

    async def _send_document(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        chat = self._chat_for(p, "sendDocument")
        caption = None
        if p.get("caption") is not None:
            caption = _render(str(p["caption"]), p.get("parse_mode"))
            if len(caption) > MAX_CAPTION_LENGTH:
                raise _bad_request("message caption is too long")
        markup = _check_markup(p.get("reply_markup"))
        stored = self._store_file(p, f, "document")
        message = ChatMessage(
            message_id=self._new_message_id(chat.id),
            chat_id=chat.id,
            date=int(time.time()),
            from_bot=True,
            caption=caption or None,
            raw_text=p.get("caption"),
            parse_mode=p.get("parse_mode"),
            reply_markup=markup,
            document=stored,
        )
        self._deliver(chat, message)
        return self._message_api(message)

    async def _get_file(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        stored = self.files.get(str(p.get("file_id") or ""))
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    async def _send_chat_action(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        chat = self._chat_for(p, "sendChatAction")
        action = p.get("action")
        if not action:
            raise _bad_request("wrong parameter action in request")
        chat.actions.append(str(action))
        return True

    async def _set_my_commands(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        scope = json.loads(_scope_key(p.get("scope")))
        if scope.get("type") in _CHAT_SCOPES and not self._opened(scope.get("chat_id")):
            raise _bad_request("chat not found")  # a bot reaches only who opened it
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        cleaned = []
        for item in commands:
            if not isinstance(item, dict):
                raise _bad_request("can't parse BotCommand")
            name = str(item.get("command", ""))
            description = str(item.get("description", ""))
            if not _BOT_COMMAND_NAME_RE.fullmatch(name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        self._commands[(_scope_key(p.get("scope")), str(p.get("language_code") or ""))] = cleaned
        return True

    def _opened(self, chat_id: Any) -> bool:
        """Whether the user of a private chat ever wrote to the bot or tapped its buttons."""
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        return chat is not None and (
            bool(chat.incoming)
            or any(q.chat_id == chat.id for q in self.callback_queries.values())
        )

    async def _get_my_commands(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        return self.commands(p.get("scope"), str(p.get("language_code") or ""))

    async def _delete_my_commands(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        self._commands.pop((_scope_key(p.get("scope")), str(p.get("language_code") or "")), None)
        return True

    async def _set_chat_menu_button(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        button = p.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or "type" not in button:
            raise _bad_request("can't parse menu button JSON object")
        if p.get("chat_id") is None:
            self.default_menu_button = button
        else:
            self._chat_for(p, "setChatMenuButton").menu_button = button
        return True

    async def _get_chat_menu_button(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        if p.get("chat_id") is not None:
            chat = self._chat_for(p, "getChatMenuButton")
            if chat.menu_button is not None:
                return chat.menu_button
        return self.default_menu_button or {"type": "commands"}

    async def _get_chat(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        chat = self._chat_for(p, "getChat")
        return {
            **chat.user.chat_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }


# --------------------------------------------------------------------------------------
# Request decoding and validation helpers
# --------------------------------------------------------------------------------------


async def _read_params(request: Request) -> tuple[dict[str, Any], dict[str, StoredFile]]:
    """Decode query string plus JSON, urlencoded or multipart body into params and files."""
    params: dict[str, Any] = dict(request.query_params)
    files: dict[str, StoredFile] = {}
    content_type = request.headers.get("content-type", "")
    if request.method == "POST":
        if content_type.startswith("application/json"):
            raw = await request.body()
            if raw.strip():
                try:
                    data = json.loads(raw)
                except ValueError:
                    raise _bad_request("can't parse JSON request body") from None
                if not isinstance(data, dict):
                    raise _bad_request("JSON request body must be an object")
                params.update(data)
        elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            async with request.form(max_part_size=50 * 1024 * 1024) as form:
                for key, value in form.multi_items():
                    if isinstance(value, UploadFile):
                        files[key] = StoredFile(
                            file_id="",
                            file_unique_id="",
                            filename=value.filename,
                            mime_type=value.content_type
                            or mimetypes.guess_type(value.filename or "")[0],
                            data=await value.read(),
                            file_path="",
                        )
                    else:
                        params[key] = value
    return _normalize(params), files


def _normalize(params: dict[str, Any]) -> dict[str, Any]:
    """Decode JSON-encoded fields and coerce known integer and boolean fields."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str):
            if key in _JSON_FIELDS:
                try:
                    value = json.loads(value)
                except ValueError:
                    what = "reply keyboard markup" if key == "reply_markup" else key
                    raise _bad_request(f"can't parse {what} JSON object") from None
            elif key in _INT_FIELDS:
                value = _as_number(value)
            elif key in _BOOL_FIELDS:
                value = value.strip().lower() in ("true", "1")
        out[key] = value
    return out


def _as_number(value: str) -> Any:
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def _as_int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad_request(f"invalid integer value {value!r}") from None


async def _wait_disconnect(request: Request) -> None:
    """Return when the HTTP client of ``request`` disconnects (body already consumed)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def _wait_event(event: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)


def _check_text(text: str) -> None:
    if not text.strip():
        raise _bad_request("message text is empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise _bad_request("message is too long")


def _check_markup(markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
    """Validate a reply_markup object as Telegram does; return it (None if absent)."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request("can't parse inline keyboard markup JSON object")
        for row in rows:
            for button in row:
                _check_inline_button(button)
        _check_keyboard_size(rows, MAX_INLINE_BUTTONS, MAX_INLINE_ROW)
        return markup
    if inline_only:
        raise _bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        _check_keyboard_size(rows, MAX_REPLY_BUTTONS, MAX_REPLY_ROW)
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise _bad_request("can't parse reply keyboard markup JSON object")


MAX_INLINE_BUTTONS = 100
MAX_INLINE_ROW = 8
MAX_REPLY_BUTTONS = 300
MAX_REPLY_ROW = 12
MAX_MARKUP_BYTES = 10 * 1024


def _check_keyboard_size(rows: list[list[Any]], most: int, per_row: int) -> None:
    """Refuse a keyboard with too many buttons, too wide a row, or too many bytes.

    Telegram refuses more than 100 inline buttons, or about 10 KB of markup JSON, with
    "reply markup is too long" (tginfo/Telegram-Limits #187, #228). Past 8 inline buttons
    in a row, or 12 and 300 reply buttons, it answers ok and loses the rest (tdlib drops
    buttons past 12 a row and 300 in all; the apps show no more than 8 inline ones a
    row): the emulator refuses those too, so that buttons nobody could press show in tests.
    """
    if sum(len(row) for row in rows) > most:
        raise _bad_request("reply markup is too long")
    if any(len(row) > per_row for row in rows):
        raise _bad_request("too many buttons in a row")
    size = len(json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_MARKUP_BYTES:
        raise _bad_request("reply markup is too long")


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise _bad_request("can't parse inline keyboard button: Text must be a String")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise _bad_request("BUTTON_DATA_INVALID")
    elif "url" in button:
        if not str(button["url"]).startswith(("http://", "https://", "tg://")):
            raise _bad_request("BUTTON_URL_INVALID")
    elif not any(
        key in button
        for key in (
            "web_app",
            "login_url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "copy_text",
            "callback_game",
            "pay",
        )
    ):
        raise _bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )


def _inline(markup: dict[str, Any] | None) -> Any:
    """The inline keyboard of a markup, normalized for equality checks."""
    rows = (markup or {}).get("inline_keyboard") or []
    return json.dumps(rows, sort_keys=True)


def _reply_rows(markup: dict[str, Any]) -> list[list[ReplyButton]]:
    rows: list[list[ReplyButton]] = []
    for row in markup.get("keyboard") or []:
        buttons = []
        for button in row:
            if isinstance(button, str):
                buttons.append(ReplyButton(text=button, raw={"text": button}))
            else:
                buttons.append(
                    ReplyButton(
                        text=str(button.get("text", "")),
                        request_contact=bool(button.get("request_contact")),
                        request_location=bool(button.get("request_location")),
                        raw=button,
                    )
                )
        rows.append(buttons)
    return rows


def _match_button(buttons: Iterable[InlineButton], text: str) -> InlineButton | None:
    buttons = list(buttons)
    for button in buttons:
        if text in button.text:
            return button
    for button in buttons:
        if text.casefold() in button.text.casefold():
            return button
    return None


def _scope_key(scope: Any) -> str:
    if isinstance(scope, str):
        scope = json.loads(scope) if scope else None
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


# --------------------------------------------------------------------------------------
# parse_mode rendering (Telegram-like validation; entities themselves are not kept)
# --------------------------------------------------------------------------------------


def _render(text: str, parse_mode: Any) -> str:
    """Return the plain text Telegram would show for ``text`` in ``parse_mode``."""
    mode = str(parse_mode or "").lower()
    try:
        if mode == "html":
            return _render_html(text)
        if mode == "markdownv2":
            return _render_markdown_v2(text)
        if mode == "markdown":
            return _render_markdown(text)
    except _EntityError as error:
        raise _bad_request(f"can't parse entities: {error}") from None
    if mode:
        raise _bad_request(f"unsupported parse_mode {parse_mode!r}")
    return text


_HTML_TAGS = frozenset(
    "b strong i em u ins s strike del span tg-spoiler a tg-emoji code pre blockquote".split()
)


class _HtmlToText(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.links: list[dict[str, Any]] = []  # text_link entities, as Telegram keeps them
        self._anchors: list[tuple[str, int]] = []  # open <a>: its href, where its text starts
        self._utf16 = 0  # length of the text so far in UTF-16 code units, as offsets count
        self._line_starts = [0]
        for line in source.splitlines(keepends=True):
            self._line_starts.append(self._line_starts[-1] + len(line))

    def byte_offset(self) -> int:
        line, column = self.getpos()
        index = self._line_starts[min(line - 1, len(self._line_starts) - 1)] + column
        return len(self.source[:index].encode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            raise _EntityError(f'Unsupported start tag "{tag}" at byte offset {self.byte_offset()}')
        if tag == "span" and ("class", "tg-spoiler") not in attrs:
            raise _EntityError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset()}'
            )
        if tag == "a":
            self._anchors.append((dict(attrs).get("href") or "", self._utf16))
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise _EntityError(f"Unexpected end tag at byte offset {self.byte_offset()}")
        if self.stack[-1] != tag:
            raise _EntityError(
                f"Unmatched end tag at byte offset {self.byte_offset()}, "
                f'expected "</{self.stack[-1]}>", found "</{tag}>"'
            )
        self.stack.pop()
        if tag == "a":
            self._close_link()

    def _close_link(self) -> None:
        """Keeps the link just closed as a text_link, unless Telegram would drop it.

        Telegram keeps only links it can open: a `tel:` link (or any other scheme) is
        dropped silently, its text shown plain.
        """
        href, start = self._anchors.pop()
        if href.startswith(_LINK_SCHEMES) and self._utf16 > start:
            self.links.append(
                {"type": "text_link", "offset": start, "length": self._utf16 - start, "url": href}
            )

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self._utf16 += len(data.encode("utf-16-le")) // 2

    def handle_comment(self, data: str) -> None:
        raise _EntityError(f'Unsupported start tag "!--" at byte offset {self.byte_offset()}')

    def handle_decl(self, decl: str) -> None:
        raise _EntityError(f'Unsupported start tag "!" at byte offset {self.byte_offset()}')


def _render_html(source: str) -> str:
    parser = _HtmlToText(source)
    parser.feed(source)
    parser.close()
    if parser.stack:
        raise _EntityError(f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"')
    return "".join(parser.parts)


def _text_links(source: str, parse_mode: Any) -> list[dict[str, Any]] | None:
    """The text_link entities Telegram keeps of a text it rendered (HTML only; None if none)."""
    if str(parse_mode or "").lower() != "html":
        return None
    parser = _HtmlToText(source)
    parser.feed(source)
    parser.close()
    return parser.links or None


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_MARKERS = {
    "||": "Spoiler",
    "__": "Underline",
    "*": "Bold",
    "_": "Italic",
    "~": "Strikethrough",
}


def _find_unescaped(source: str, token: str, start: int) -> int:
    i = start
    while i < len(source):
        if source[i] == "\\":
            i += 2
            continue
        if source.startswith(token, i):
            return i
        i += 1
    return -1


def _unescape(source: str) -> str:
    return re.sub(r"\\(.)", r"\1", source, flags=re.DOTALL)


def _render_markdown_v2(source: str) -> str:
    out: list[str] = []
    open_marks: list[tuple[str, int]] = []
    link_start: int | None = None
    i = 0

    def offset(index: int) -> int:
        return len(source[:index].encode())

    while i < len(source):
        char = source[i]
        if char == "\\":
            if i + 1 < len(source) and 0 < ord(source[i + 1]) < 127:
                out.append(source[i + 1])
                i += 2
                continue
            raise _EntityError(
                "Character '\\' is reserved and must be escaped with the preceding '\\'"
            )
        if source.startswith("```", i):
            end = _find_unescaped(source, "```", i + 3)
            if end < 0:
                raise _EntityError(f"Can't find end of Pre entity at byte offset {offset(i)}")
            body = source[i + 3 : end]
            first, newline, rest = body.partition("\n")
            if newline and first and " " not in first:
                body = rest  # the first line names the language
            out.append(_unescape(body))
            i = end + 3
            continue
        if char == "`":
            end = _find_unescaped(source, "`", i + 1)
            if end < 0:
                raise _EntityError(f"Can't find end of Code entity at byte offset {offset(i)}")
            out.append(_unescape(source[i + 1 : end]))
            i = end + 1
            continue
        marker = next((m for m in _MDV2_MARKERS if source.startswith(m, i)), None)
        if marker is not None:
            opened = [m for m, _ in open_marks]
            if marker in opened:
                del open_marks[len(opened) - 1 - opened[::-1].index(marker)]
            else:
                open_marks.append((marker, offset(i)))
            i += len(marker)
            continue
        if char == "[" and link_start is None:
            link_start = i
            i += 1
            continue
        if char == "]" and link_start is not None:
            if not source.startswith("(", i + 1):
                raise _EntityError(
                    f"Can't find end of TextUrl entity at byte offset {offset(link_start)}"
                )
            end = _find_unescaped(source, ")", i + 2)
            if end < 0:
                raise _EntityError(f"Can't find end of a URL at byte offset {offset(i + 2)}")
            link_start = None
            i = end + 1
            continue
        if char == ">" and (i == 0 or source[i - 1] == "\n"):
            i += 1  # blockquote marker
            continue
        if char in _MDV2_RESERVED:
            raise _EntityError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        out.append(char)
        i += 1
    if link_start is not None:
        raise _EntityError(f"Can't find end of TextUrl entity at byte offset {offset(link_start)}")
    if open_marks:
        marker, at = open_marks[-1]
        raise _EntityError(f"Can't find end of {_MDV2_MARKERS[marker]} entity at byte offset {at}")
    return "".join(out)


def _render_markdown(source: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source) and source[i + 1] in "_*`[":
            out.append(source[i + 1])
            i += 2
            continue
        token = "```" if source.startswith("```", i) else char if char in "*_`" else None
        if token is not None:
            end = source.find(token, i + len(token))
            if end < 0:
                at = len(source[:i].encode())
                raise _EntityError(f"Can't find end of the entity starting at byte offset {at}")
            out.append(source[i + len(token) : end])
            i = end + len(token)
            continue
        if char == "[":
            close = source.find("](", i)
            end = source.find(")", close + 2) if close >= 0 else -1
            if end >= 0:
                out.append(source[i + 1 : close])
                i = end + 1
                continue
        out.append(char)
        i += 1
    return "".join(out)
