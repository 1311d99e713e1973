"""The Telegram `Sender`: delivery's plain letters sent through the Bot API.

Buttons become an inline keyboard (each action its callback data, see bot/callbacks.py),
and the Bot API's errors become the outcomes delivery acts on.
"""

from __future__ import annotations

from collections.abc import Awaitable

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, RetryAfter, TelegramError

from bookbot.bot import callbacks, limiter
from bookbot.notify.sender import (
    Action,
    Button,
    Buttons,
    Document,
    Failed,
    Flooded,
    Outcome,
    Sent,
    Unreachable,
)

# The bot's action each delivered button is tapped as (bot/actions.py runs it).
TAPPED_AS = {
    Action.ASK_CANCEL: callbacks.Action.ASK_CANCEL,
    Action.RESCHEDULE: callbacks.Action.RESCHEDULE,
    Action.SPECIALIST_CANCEL: callbacks.Action.SPECIALIST_CANCEL,  # asks for a reason first
    Action.RATE: callbacks.Action.RATE,
    Action.ATTEND: callbacks.Action.ATTEND,
    Action.TAKE_OFFER: callbacks.Action.TAKE_OFFER,
    Action.PASS_OFFER: callbacks.Action.PASS_OFFER,
    Action.LEAVE_OFFERED: callbacks.Action.LEAVE_OFFERED,
}


class TelegramSender:
    """Sends through a Bot; through its Limiter on the outbox's terms, when it has one.

    Those terms: a flood wait is not waited out in memory but reported, to be written down.
    """

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_text(self, chat_id: int, text: str, buttons: Buttons = ()) -> Outcome:
        """Sends a message with an inline keyboard."""
        return await self._outcome(
            self.bot.send_message(chat_id, text, reply_markup=keyboard(buttons), **self._terms())
        )

    async def send_document(
        self, chat_id: int, document: Document, caption: str, buttons: Buttons = ()
    ) -> Outcome:
        """Sends a file with its caption and an inline keyboard."""
        return await self._outcome(
            self.bot.send_document(
                chat_id,
                document.content,
                filename=document.filename,
                caption=caption,
                reply_markup=keyboard(buttons),
                **self._terms(),
            )
        )

    def pace_wait(self, chat_id: int) -> float:
        """Seconds until the bot's Limiter lets one more message into the chat (none: 0)."""
        paced = self._limiter()
        return paced.pace_wait(chat_id) if paced is not None else 0.0

    def _limiter(self) -> limiter.Limiter | None:
        paced = getattr(self.bot, "rate_limiter", None)
        return paced if isinstance(paced, limiter.Limiter) else None

    def _terms(self) -> dict:
        return {"rate_limit_args": limiter.OUTBOX} if self._limiter() is not None else {}

    @staticmethod
    async def _outcome(sending: Awaitable[object]) -> Outcome:
        """What became of a request: sent, or the error it raised as an outcome."""
        try:
            await sending
        except RetryAfter as error:
            return Flooded(limiter.retry_seconds(error), str(error))
        except Forbidden as error:
            return Unreachable(str(error))
        except TelegramError as error:
            return Failed(str(error))
        return Sent()


def keyboard(buttons: Buttons) -> InlineKeyboardMarkup | None:
    """An inline keyboard of plain buttons; None for none."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([[_button(b) for b in row] for row in buttons])


def _button(button: Button) -> InlineKeyboardButton:
    if button.url is not None:
        return InlineKeyboardButton(button.label, url=button.url)
    assert button.action is not None, button
    return InlineKeyboardButton(
        button.label, callback_data=callbacks.encode(TAPPED_AS[button.action], button.argument)
    )
