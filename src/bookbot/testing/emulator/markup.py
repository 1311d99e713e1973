"""Telegram's checks of what a message carries: text length and keyboards, with their limits.

The emulator refuses what Telegram refuses, with its words, so a bot that overflows a
limit fails in the tests rather than in front of a user.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import bad_request

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_INLINE_ROW = 8
MAX_REPLY_BUTTONS = 300
MAX_REPLY_ROW = 12
MAX_MARKUP_BYTES = 10 * 1024


def check_text(text: str) -> None:
    """Refuse an empty text, or one longer than a message holds."""
    if not text.strip():
        raise bad_request("message text is empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")


def check_markup(markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
    """Validate a reply_markup object as Telegram does; return it (None if absent)."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard markup JSON object")
        for row in rows:
            for button in row:
                _check_inline_button(button)
        _check_keyboard_size(rows, MAX_INLINE_BUTTONS, MAX_INLINE_ROW)
        return markup
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse reply keyboard markup JSON object")
        _check_keyboard_size(rows, MAX_REPLY_BUTTONS, MAX_REPLY_ROW)
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _check_keyboard_size(rows: list[list[Any]], most: int, per_row: int) -> None:
    """Refuse a keyboard with too many buttons, too wide a row, or too many bytes.

    Telegram refuses more than 100 inline buttons, or about 10 KB of markup JSON, with
    "reply markup is too long" (tginfo/Telegram-Limits #187, #228). Past 8 inline buttons
    in a row, or 12 and 300 reply buttons, it answers ok and loses the rest (tdlib drops
    buttons past 12 a row and 300 in all; the apps show no more than 8 inline ones a
    row): the emulator refuses those too, so that buttons nobody could press show in tests.
    """
    if sum(len(row) for row in rows) > most:
        raise bad_request("reply markup is too long")
    if any(len(row) > per_row for row in rows):
        raise bad_request("too many buttons in a row")
    size = len(json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_MARKUP_BYTES:
        raise bad_request("reply markup is too long")


def _check_inline_button(button: Any) -> None:
    """Refuse an inline button without a label, or without one thing it does."""
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Text must be a String")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    elif "url" in button:
        if not str(button["url"]).startswith(("http://", "https://", "tg://")):
            raise bad_request("BUTTON_URL_INVALID")
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
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )


def inline(markup: dict[str, Any] | None) -> Any:
    """The inline keyboard of a markup, normalized for equality checks."""
    rows = (markup or {}).get("inline_keyboard") or []
    return json.dumps(rows, sort_keys=True)
