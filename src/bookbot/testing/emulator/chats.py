"""What the users see: private chats, their messages and buttons, and the files sent.

These are plain records the emulator keeps and tests read: a :class:`ChatState` per
user holds every message of both sides, the reply keyboard shown, and the chat actions;
a :class:`ChatMessage` renders back into a Bot API ``Message``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from msgspec import Struct, field


class ChatUser(Struct):
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


class StoredFile(Struct):
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


class InlineButton(Struct):
    """One button of an inline keyboard, remembering where it is shown."""

    text: str
    chat_id: int
    message_id: int
    callback_data: str | None = None
    url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


class ReplyButton(Struct):
    """One button of a reply (custom) keyboard."""

    text: str
    request_contact: bool = False
    request_location: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


class ChatMessage(Struct):
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
    invoice: dict[str, Any] | None = None  # an invoice the bot sent (payments.py)
    successful_payment: dict[str, Any] | None = None  # what the user paid (payments.py)
    location: dict[str, Any] | None = None  # a shared location, or a venue's point
    venue: dict[str, Any] | None = None  # a map pin the bot sent (places.py)
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
        return reply_rows(self.reply_markup)

    @property
    def edited(self) -> bool:
        """Whether the message was edited after it was sent."""
        return self.edit_date is not None

    def find_button(self, text: str) -> InlineButton:
        """Return the first inline button whose label contains ``text``."""
        found = match_button(self.buttons, text)
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
        if self.invoice is not None:
            data["invoice"] = self.invoice
        if self.successful_payment is not None:
            data["successful_payment"] = self.successful_payment
        if self.location is not None:
            data["location"] = self.location
        if self.venue is not None:
            data["venue"] = self.venue
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            # Telegram only echoes inline keyboards back in Message objects.
            data["reply_markup"] = {"inline_keyboard": self.reply_markup["inline_keyboard"]}
        return data


class ChatState(Struct):
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
            found = match_button(message.buttons, text)
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


class CallbackQueryRecord(Struct):
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


def reply_rows(markup: dict[str, Any]) -> list[list[ReplyButton]]:
    """The buttons of a reply keyboard markup, row by row (a bare string is a label)."""
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


def match_button(buttons: Iterable[InlineButton], text: str) -> InlineButton | None:
    """The first button whose label contains ``text``; failing that, ignoring case."""
    buttons = list(buttons)
    for button in buttons:
        if text in button.text:
            return button
    for button in buttons:
        if text.casefold() in button.text.casefold():
            return button
    return None
