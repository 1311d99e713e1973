"""The plumbing of a client's taps: one step signature, the tap wrapper, replies and edits.

Every client button runs through `tap` (bot/actions.py routes there): the user's chat is
read once, the step runs, and a refusal is answered as an alert in the user's language.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import InlineKeyboardMarkup, Update, User
from telegram.error import BadRequest

from bookbot import i18n
from bookbot.bot import views
from bookbot.bot.callbacks import Tap
from bookbot.bot.context import BotContext, Tapped, language_of
from bookbot.errors import BookbotError
from bookbot.services import chat as client_chat


def phrase(lang: str, key: str, **params: object) -> str:
    return i18n.text(f"bot.{key}", lang, **params)


# One signature for every step of the flow: the tap, the user's language, and where their
# flow stands (profile, draft, data version), read once per tap by `tap`.
Step = Callable[[Update, BotContext, str, Tap, client_chat.Chat], Awaitable[None]]


def tap(step: Step) -> Tapped:
    """A client's button (anyone may press it): reads the chat, runs `step`, answers.

    A refusal is answered as an alert in the user's language; bot/actions.py routes here.
    """

    async def handle(update: Update, context: BotContext, pressed: Tap) -> None:
        query = update.callback_query
        assert query is not None
        chat = await client_chat.chat(context.deps.db, user_of(update).id)
        lang = language_of(update, context, chat.profile)
        try:
            await step(update, context, lang, pressed, chat)
        except BookbotError as error:
            await query.answer(i18n.text(error.key, lang, **error.params), show_alert=True)
            return
        await query.answer()

    return handle


async def stale(update: Update, context: BotContext) -> None:
    """Answers a button whose data does not decode: an old or a forged one."""
    await answer(update, context, "bot.stale_button")


async def nothing(update: Update, context: BotContext, pressed: Tap) -> None:
    """Answers a button that does nothing (a greyed day, a blank cell)."""
    await answer(update, context, "bot.nothing_there")


async def answer(update: Update, context: BotContext, key: str) -> None:
    """Answers the tap with the text of `key` (a whole locale key), in the user's language."""
    query = update.callback_query
    assert query is not None
    chat = await client_chat.chat(context.deps.db, user_of(update).id)
    await query.answer(i18n.text(key, language_of(update, context, chat.profile)))


def user_of(update: Update) -> User:
    """The user who pressed: a callback query always has one."""
    assert update.effective_user is not None
    return update.effective_user


async def edit(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Edits the tapped message in place.

    Through do_api_request without a return type: Telegram answers with the whole edited
    message, and building PTB objects of its keyboard cost more than the rest of the tap.
    A text too long for one message fills this one and goes on in new ones, buttons last.
    """
    query = update.callback_query
    assert query is not None and query.message is not None
    parts = views.chunks(text, html=False)
    asked: dict = {
        "chat_id": query.message.chat.id,
        "message_id": query.message.message_id,
        "text": parts[0],
    }
    if markup is not None and len(parts) == 1:
        asked["reply_markup"] = markup
    try:
        await query.get_bot().do_api_request("editMessageText", api_kwargs=asked)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise
    for i, part in enumerate(parts[1:], start=2):
        await query.message.chat.send_message(
            part, reply_markup=markup if i == len(parts) else None
        )


async def reply(update: Update, text: str, markup: Any = None) -> None:
    """Answers in the chat; a text too long for one message goes as several, buttons last."""
    assert update.effective_message is not None
    parts = views.chunks(text, html=False)
    for i, part in enumerate(parts, start=1):
        await update.effective_message.reply_text(
            part, reply_markup=markup if i == len(parts) else None
        )
