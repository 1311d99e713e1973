"""The bot's command lists and menu button, by scope and language.

setMyCommands checks names and descriptions as Telegram does and refuses a chat scope
for a chat that never opened the bot; the lists are kept per (scope, language).
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request

from .chats import StoredFile
from .errors import bad_request
from .state import EmulatorState

_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
# Command scopes naming one chat: Telegram refuses them for a chat that never opened the bot.
_CHAT_SCOPES = frozenset({"chat", "chat_administrators", "chat_member"})


class MenuMethods(EmulatorState):
    """setMyCommands, getMyCommands, deleteMyCommands, setChatMenuButton, getChatMenuButton."""

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """Return the commands the bot set for this scope and language (default scope)."""
        return list(self._commands.get((_scope_key(scope), language_code), []))

    async def _set_my_commands(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        """setMyCommands: the command list of a scope and language, checked."""
        scope = json.loads(_scope_key(p.get("scope")))
        if scope.get("type") in _CHAT_SCOPES and not self._opened(scope.get("chat_id")):
            raise bad_request("chat not found")  # a bot reaches only who opened it
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        cleaned = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad_request("can't parse BotCommand")
            name = str(item.get("command", ""))
            description = str(item.get("description", ""))
            if not _BOT_COMMAND_NAME_RE.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        self._commands[(_scope_key(p.get("scope")), str(p.get("language_code") or ""))] = cleaned
        return True

    def _opened(self, chat_id: Any) -> bool:
        """Whether the user of a private chat ever wrote to the bot or tapped its buttons."""
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        return chat is not None and (
            bool(chat.incoming) or any(q.chat_id == chat.id for q in self.callback_queries.values())
        )

    async def _get_my_commands(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        """getMyCommands: the list set for a scope and language (empty if none)."""
        return self.commands(p.get("scope"), str(p.get("language_code") or ""))

    async def _delete_my_commands(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        """deleteMyCommands: forgets the list of a scope and language."""
        self._commands.pop((_scope_key(p.get("scope")), str(p.get("language_code") or "")), None)
        return True

    async def _set_chat_menu_button(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        """setChatMenuButton: one chat's menu button, or everyone's without chat_id."""
        button = p.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or "type" not in button:
            raise bad_request("can't parse menu button JSON object")
        if p.get("chat_id") is None:
            self.default_menu_button = button
        else:
            self._chat_for(p, "setChatMenuButton").menu_button = button
        return True

    async def _get_chat_menu_button(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        """getChatMenuButton: the chat's own button, else the default one."""
        if p.get("chat_id") is not None:
            chat = self._chat_for(p, "getChatMenuButton")
            if chat.menu_button is not None:
                return chat.menu_button
        return self.default_menu_button or {"type": "commands"}


def _scope_key(scope: Any) -> str:
    """A command scope as a key: canonical JSON, the default scope when none is given."""
    if isinstance(scope, str):
        scope = json.loads(scope) if scope else None
    return json.dumps(scope or {"type": "default"}, sort_keys=True)
