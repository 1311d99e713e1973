"""What admin and specialist handlers share: who is asking, HTML replies, one-line usage."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import date, datetime
from html import escape
from typing import Any

from msgspec import Struct
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bookbot import i18n, parsing
from bookbot.bot import arguments, menus, views
from bookbot.bot.callbacks import Tap
from bookbot.bot.context import BotContext, Tapped, language
from bookbot.deps import Deps
from bookbot.errors import BadInput, BookbotError, Invalid
from bookbot.services import catalog, people, schedules
from bookbot.services.people import Actor

LOG = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
Buttons = Sequence[Sequence[tuple[str, str]]]  # rows of (label, callback data)
SEEN = "menus_seen"  # bot_data: whose menu this process has checked since it started
MOST_SEEN = 100_000  # then the set starts over: forgetting costs one read per person
LONGEST_ECHO = 64  # of a wrong value named in an answer, so the answer stays one short line


class Call(Struct, frozen=True):
    """One command as received: who sent it, in which language, with which arguments."""

    update: Update
    context: BotContext
    lang: str
    actor: Actor
    args: list[str]
    now: datetime

    @property
    def deps(self) -> Deps:
        """The bot's collaborators."""
        return self.context.deps

    async def reply(self, text: str, buttons: Buttons | None = None) -> None:
        """Answers in the chat, in HTML; a long text goes as several messages."""
        await reply(self.update, text, buttons)

    async def target(self) -> tuple[str, list[str], date]:
        """Whose schedule the command is about, the other arguments, and that person's today."""
        found = await catalog.roster(self.deps.db)
        who, rest = arguments.target(
            self.args, found.zones, self.actor.specialist, self.actor.admin
        )
        return who, rest, schedules.today(self.now, found.zones.get(who, found.timezone))


Body = Callable[[Call], Awaitable[None]]
Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


def command(name: str, body: Body, *, specialists: bool = False) -> Handler:
    """A command handler: checks the role, runs `body`, and turns errors into one line.

    Admins may use every command; with `specialists`, linked specialists may too (the use
    cases then keep them to their own schedule). Anyone else gets "not allowed".
    """

    async def handle(update: Update, context: BotContext) -> None:
        d, lang = context.deps, await language(update, context)
        assert update.effective_user is not None
        actor = await people.who(d.db, update.effective_user.id, d.settings.admins)
        if not actor.admin and not (specialists and actor.specialist):
            await reply(update, views.t(lang, "admin.not_allowed"))
            return
        call = Call(update, context, lang, actor, list(context.args or []), d.clock())
        try:
            await body(call)
        except arguments.Missing:
            await reply(update, views.t(lang, "admin.usage_only", usage=usage(name, lang)))
        except BadInput as error:
            await reply(
                update,
                i18n.text(
                    "admin.wrong",
                    lang,
                    problem=problem(error, lang),
                    usage=escape(usage(name, lang), quote=False),
                ),
            )
        except BookbotError as error:
            await reply(update, problem(error, lang))

    return handle


TapBody = Callable[[Update, BotContext, str, Actor, Tap], Awaitable[None]]


def tap(body: TapBody) -> Tapped:
    """A staff button (bot/actions.py routes here): finds the asker, runs `body`, answers.

    The use case checks the asker's roles; a refusal is answered as an alert.
    """

    async def handle(update: Update, context: BotContext, pressed: Tap) -> None:
        query = update.callback_query
        assert query is not None and update.effective_user is not None
        d, lang = context.deps, await language(update, context)
        actor = await people.who(d.db, update.effective_user.id, d.settings.admins)
        try:
            await body(update, context, lang, actor, pressed)
        except BookbotError as error:
            await query.answer(problem(error, lang, html=False), show_alert=True)
            return
        await query.answer()

    return handle


def usage(name: str, lang: str) -> str:
    """The one-line usage of a command, with an example."""
    return i18n.text(f"admin.usage.{name}", lang)


def problem(error: BookbotError, lang: str, html: bool = True) -> str:
    """What went wrong, in the user's language (the first problem of an invalid change)."""
    if isinstance(error, Invalid) and error.problems:
        key, params = error.problems[0].key, error.problems[0].params
    else:
        key, params = error.key, error.params
    params = {name: _echo(value) for name, value in params.items()}
    if not html:
        return i18n.text(key, lang, **params)
    return views.t(lang, key, **params)


def _echo(value: object) -> object:
    """A value as an answer repeats it: cut to LONGEST_ECHO, its control characters shown."""
    if not isinstance(value, str):
        return value
    shown = value if len(value) <= LONGEST_ECHO else value[:LONGEST_ECHO] + "…"
    return parsing.visible(shown)


def markup(buttons: Buttons | None) -> InlineKeyboardMarkup | None:
    """Inline buttons from rows of (label, callback data)."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in buttons
        ]
    )


async def reply(update: Update, text: str, buttons: Buttons | None = None) -> None:
    """Sends an HTML answer to the chat of the update; buttons go on the last part."""
    assert update.effective_chat is not None
    parts = views.chunks(text)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        await update.effective_chat.send_message(
            part,
            parse_mode=ParseMode.HTML,
            reply_markup=markup(buttons) if last else None,
            link_preview_options=NO_PREVIEW,
        )


async def edit(update: Update, text: str, buttons: Buttons | None = None) -> None:
    """Replaces the text of the message whose button was pressed (HTML).

    A text too long for one message fills the edited one and goes on in new messages;
    the buttons go on the last part.
    """
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    parts = views.chunks(text)
    try:
        await query.edit_message_text(
            parts[0],
            parse_mode=ParseMode.HTML,
            reply_markup=markup(buttons) if len(parts) == 1 else None,
            link_preview_options=NO_PREVIEW,
        )
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise
    for i, part in enumerate(parts[1:], start=2):
        await update.effective_chat.send_message(
            part,
            parse_mode=ParseMode.HTML,
            reply_markup=markup(buttons) if i == len(parts) else None,
            link_preview_options=NO_PREVIEW,
        )


async def refresh_menu(context: BotContext, telegram_id: int) -> bool:
    """Shows a person the commands their roles allow now (after a link, promotion, demotion).

    Tells whether their chat shows that menu now. If Telegram refused it, the person's
    next message sets it (`first_contact`).
    """
    d = context.deps
    if await sync_menu(context.bot, d, await people.menu(d.db, telegram_id, d.settings.admins)):
        return True
    context.bot_data.get(SEEN, set()).discard(telegram_id)
    return False


async def sync_menu(bot: Bot, d: Deps, found: people.Menu) -> bool:
    """Sets one person's menu unless their chat shows the one their roles call for already.

    Tells whether it shows that one now; a refusal (Telegram answers "chat not found" to a
    chat whose person never opened the bot) is logged, not raised.
    """
    who = found.actor
    wanted = menus.signature(who.admin, who.specialist is not None)
    if wanted == found.shown:
        return True
    try:
        await menus.publish_for(bot, who.telegram_id, who.admin, who.specialist is not None)
    except TelegramError as error:
        LOG.warning("no command menu for %s yet: %s", who.telegram_id, error)
        return False
    await people.menu_set(d.db, d.clock(), who.telegram_id, wanted)
    return True


async def first_contact(update: Update, context: BotContext) -> None:
    """Sets a staff member's menu at the first message or tap of theirs this process sees.

    Menus set at start-up miss whoever had not opened the bot then; they get theirs here.
    For everyone else it costs one read, once per process.
    """
    user = update.effective_user
    if user is None:
        return
    seen: set[int] = context.bot_data.setdefault(SEEN, set())
    if user.id in seen:
        return
    if len(seen) >= MOST_SEEN:
        seen.clear()
    seen.add(user.id)  # before awaiting, so their next update meanwhile does not ask again
    await refresh_menu(context, user.id)
