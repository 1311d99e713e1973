"""The users' side: what a test (or `bookbot try`) does as a person in a private chat.

Every action becomes an update queued for the bot, shaped as Telegram shapes it: a text
(with its command entity), a shared contact or location, a reply-keyboard press, a button tap.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from .chats import CallbackQueryRecord, ChatMessage, ChatState, ChatUser, InlineButton
from .state import EmulatorState

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")


class UserActions(EmulatorState):
    """Acting as users: writing, sharing a contact, pressing buttons, blocking the bot."""

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

    async def press_reply_button(
        self, user: ChatUser | int, text: str, location: tuple[float, float] | None = None
    ) -> ChatMessage:
        """Press a button of the chat's current reply keyboard (found by label).

        A plain button sends its label as text; a ``request_contact`` button shares the
        user's contact; a ``request_location`` button shares ``location`` (latitude,
        longitude), which it then needs.  Raises LookupError when no such button is shown.
        """
        chat = self.chat(user)
        button = chat.find_reply_button(text)
        if button.request_contact:
            return await self.share_contact(user)
        if button.request_location:
            if location is None:
                raise ValueError("a location button needs the location to share")
            return await self.share_location(user, *location)
        return await self.send_text(user, button.text)

    async def share_location(
        self, user: ChatUser | int, latitude: float, longitude: float
    ) -> ChatMessage:
        """Send a location from the user, as Telegram's share-location button does."""
        chat = self.chat(user)
        message = self._user_message(
            chat, location={"latitude": float(latitude), "longitude": float(longitude)}
        )
        await asyncio.sleep(0)
        return message

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

    def _user_message(
        self,
        chat: ChatState,
        *,
        text: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        contact: dict[str, Any] | None = None,
        location: dict[str, Any] | None = None,
    ) -> ChatMessage:
        """Adds a message from the user to the chat and queues it for the bot."""
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
            location=location,
        )
        chat.incoming.append(message)
        self._enqueue({"message": message.to_api(chat.user.to_api(), chat.user.chat_api())})
        return message

    def _member_update(self, chat: ChatState, old: str, new: str) -> dict[str, Any]:
        """A ``my_chat_member`` body: the bot's status in the chat went from old to new."""
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
