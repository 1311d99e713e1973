"""The emulator's memory: the bot, its chats, the update queue, and what changed when.

:class:`EmulatorState` is the base of the emulator's parts: the Bot API methods
(messages, updates, menus), the users' actions, and the HTTP server each add their
behaviour on top of this one state, so no part reaches into another's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request

from .chats import CallbackQueryRecord, ChatMessage, ChatState, ChatUser, StoredFile
from .errors import BLOCKED, ApiError, bad_request

# A Bot API method: decoded parameters, uploaded files and the request in; its result out.
Handler = Callable[[dict[str, Any], dict[str, StoredFile], Request], Awaitable[Any]]

# Methods that deliver something into a chat; they answer 403 when the user blocked the bot.
_SENDING_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendVenue",
        "sendChatAction",
        "editMessageText",
        "editMessageReplyMarkup",
        "sendInvoice",
    }
)


class EmulatorState:
    """One bot's chats, files, commands, webhook and pending updates, and their clock of change.

    ``_changed`` is an event replaced on every change, so a waiter takes the current one,
    checks, and sleeps on it; ``_last_activity`` is when the bot or a user last did anything.
    """

    def __init__(
        self,
        *,
        token: str | None,
        bot_username: str,
        bot_first_name: str,
        bot_id: int | None,
        first_update_id: int = 1,
    ) -> None:
        self._token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        prefix = (token or "").split(":", 1)[0]
        self.bot_id = bot_id or (int(prefix) if prefix.isdigit() else 7_000_000_001)

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
        self._next_update_id = first_update_id
        self._next_query_id = 1
        self._next_file_no = 1
        self._last_activity = 0.0
        self._poll_generation = 0
        self._changed = asyncio.Event()
        self._closing = False
        self._webhook_error: tuple[int, str] | None = None

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

    # ---------------------------------------------------------------- changes

    def _touch(self) -> None:
        """Notes that something happened now (for wait_idle's quiet period)."""
        with contextlib.suppress(RuntimeError):
            self._last_activity = asyncio.get_running_loop().time()

    def _notify(self) -> None:
        """Wakes everyone waiting for a change."""
        changed = self._changed
        self._changed = asyncio.Event()
        changed.set()

    def _enqueue(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queues an update for the bot, numbering it; returns the update."""
        update = {"update_id": self._next_update_id, **body}
        self._next_update_id += 1
        self.updates.append(update)
        self._pending.append(update)
        self._touch()
        self._notify()
        return update

    def _new_message_id(self, chat_id: int) -> int:
        """The next message id of a chat (both sides count, as in a private chat)."""
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    # ---------------------------------------------------------------- for the methods

    def _chat_for(self, params: dict[str, Any], method: str) -> ChatState:
        """The chat a call names by ``chat_id``; 400 if unknown, 403 if it blocked the bot."""
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if chat.blocked and method in _SENDING_METHODS:
            raise ApiError(403, BLOCKED)
        return chat

    def _message_api(self, message: ChatMessage) -> dict[str, Any]:
        """The Bot API ``Message`` of a message in one of the chats."""
        chat = self._chats[message.chat_id]
        sender = self.bot_user if message.from_bot else chat.user.to_api()
        return message.to_api(sender, chat.user.chat_api())
