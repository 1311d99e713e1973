"""The Bot API methods that put something into a chat or answer a user.

Messages and their edits and deletions, callback answers, documents and their files,
and chat actions; each checks its input as Telegram does before anything changes.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from starlette.requests import Request

from .chats import ChatMessage, ChatState, StoredFile, reply_rows
from .errors import NOT_MODIFIED, QUERY_TOO_OLD, ApiError, bad_request
from .markup import MAX_CAPTION_LENGTH, check_markup, check_text, inline
from .render import render, text_links
from .state import EmulatorState


class MessageMethods(EmulatorState):
    """The methods of messages, callback answers, documents and chat actions.

    sendMessage, editMessageText, editMessageReplyMarkup, deleteMessage,
    answerCallbackQuery, sendDocument, getFile and sendChatAction.
    """

    async def _send_message(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        """sendMessage: a new text message from the bot, rendered and checked."""
        chat = self._chat_for(p, "sendMessage")
        raw = p.get("text")
        parse_mode = p.get("parse_mode")
        text = render(str(raw) if raw is not None else "", parse_mode)
        check_text(text)
        markup = check_markup(p.get("reply_markup"))
        message = ChatMessage(
            message_id=self._new_message_id(chat.id),
            chat_id=chat.id,
            date=int(time.time()),
            from_bot=True,
            text=text,
            raw_text=str(raw),
            parse_mode=parse_mode,
            entities=text_links(str(raw), parse_mode),
            reply_markup=markup,
        )
        self._deliver(chat, message)
        return self._message_api(message)

    async def _edit_message_text(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        """editMessageText: new text (and inline keyboard) for a bot's message."""
        chat = self._chat_for(p, "editMessageText")
        message = self._bot_message(chat, p, "edit")
        raw = p.get("text")
        parse_mode = p.get("parse_mode")
        text = render(str(raw) if raw is not None else "", parse_mode)
        check_text(text)
        markup = check_markup(p.get("reply_markup"), inline_only=True)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        if (
            text == message.text
            and str(raw) == (message.raw_text or "")
            and inline(markup) == inline(message.reply_markup)
        ):
            raise ApiError(400, NOT_MODIFIED)
        message.text, message.raw_text, message.parse_mode = text, str(raw), parse_mode
        message.entities = text_links(str(raw), parse_mode)
        message.reply_markup = markup
        message.edit_date = int(time.time())
        message.history.append(text)
        chat.history.append(text)
        return self._message_api(message)

    async def _edit_message_reply_markup(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        """editMessageReplyMarkup: a new inline keyboard for a bot's message."""
        chat = self._chat_for(p, "editMessageReplyMarkup")
        message = self._bot_message(chat, p, "edit")
        markup = check_markup(p.get("reply_markup"), inline_only=True)
        if inline(markup) == inline(message.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        message.reply_markup = markup
        message.edit_date = int(time.time())
        return self._message_api(message)

    async def _delete_message(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        """deleteMessage: the message is no longer shown (tests still see it)."""
        chat = self._chat_for(p, "deleteMessage")
        message_id = p.get("message_id")
        message = chat.message(message_id) if isinstance(message_id, int) else None
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        return True

    async def _answer_callback_query(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        """answerCallbackQuery: records the answer; a query is answered once."""
        record = self.callback_queries.get(str(p.get("callback_query_id") or ""))
        if record is None or record.answered:
            raise ApiError(400, QUERY_TOO_OLD)
        text = p.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        record.answer_text = str(text) if text is not None else None
        record.show_alert = bool(p.get("show_alert"))
        record.answer_url = p.get("url")
        return True

    async def _send_document(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        """sendDocument: a file (uploaded, by file_id or by URL) with its caption."""
        chat = self._chat_for(p, "sendDocument")
        caption = None
        if p.get("caption") is not None:
            caption = render(str(p["caption"]), p.get("parse_mode"))
            if len(caption) > MAX_CAPTION_LENGTH:
                raise bad_request("message caption is too long")
        markup = check_markup(p.get("reply_markup"))
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
        """getFile: where an uploaded file can be downloaded from."""
        stored = self.files.get(str(p.get("file_id") or ""))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    async def _send_chat_action(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        """sendChatAction: notes the action ("typing" …) in the chat."""
        chat = self._chat_for(p, "sendChatAction")
        action = p.get("action")
        if not action:
            raise bad_request("wrong parameter action in request")
        chat.actions.append(str(action))
        return True

    def _bot_message(self, chat: ChatState, params: dict[str, Any], action: str) -> ChatMessage:
        """The bot's own message a call names by ``message_id``, still shown; 400 if not."""
        message_id = params.get("message_id")
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the emulator")
        if not isinstance(message_id, int):
            raise bad_request("message identifier is not specified")
        message = chat.message(message_id)
        if message is None or message.deleted:
            raise bad_request(f"message to {action} not found")
        if not message.from_bot:
            raise bad_request(f"message can't be {action}ed")
        return message

    def _deliver(self, chat: ChatState, message: ChatMessage) -> None:
        """Shows a new bot message in the chat; a reply keyboard it carries replaces the last."""
        chat.all_messages.append(message)
        shown = message.text if message.text is not None else message.caption
        if shown is not None:
            message.history.append(shown)
            chat.history.append(shown)
        markup = message.reply_markup or {}
        if "keyboard" in markup:
            chat.reply_keyboard = reply_rows(markup)
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None

    def _store_file(
        self, params: dict[str, Any], files: dict[str, StoredFile], name: str
    ) -> StoredFile:
        """The file a parameter names: an upload, an ``attach://`` part, a file_id or a URL."""
        value = params.get(name)
        if name in files:
            return self._register_upload(files[name])
        if isinstance(value, str) and value.startswith("attach://"):
            attached = files.get(value.removeprefix("attach://"))
            if attached is None:
                raise bad_request(f"file attachment {value!r} not found")
            return self._register_upload(attached)
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            stored = StoredFile("", "", value.rsplit("/", 1)[-1] or None, None, b"", "", url=value)
            return self._register_upload(stored)
        if value:
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request(f"there is no {name} in the request")

    def _register_upload(self, upload: StoredFile) -> StoredFile:
        """Keeps a file under a new file_id and download path, as Telegram stores uploads."""
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
