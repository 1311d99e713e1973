"""What every handler needs: its collaborators (bookbot.deps), and the user's language."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import CallbackContext, ExtBot

from bookbot import i18n
from bookbot.bot.callbacks import Tap
from bookbot.deps import Deps
from bookbot.services import chat
from bookbot.services.chat import Profile


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The context every handler and job gets (app.py hands PTB this type): deps typed."""

    @property
    def deps(self) -> Deps:
        """The collaborators stored in the application."""
        found: Deps = self.bot_data["deps"]
        return found


# What bot/actions.py runs for a decoded tap (client.tap and staff.tap make these).
Tapped = Callable[[Update, BotContext, Tap], Coroutine[Any, Any, None]]


async def language(update: Update, context: BotContext) -> str:
    """The user's language: their choice, else Telegram's language_code, else the default."""
    user = update.effective_user
    if user is None:
        return i18n.choose(context.deps.settings.locale)
    return language_of(update, context, await chat.profile(context.deps.db, user.id))


def language_of(update: Update, context: BotContext, profile: Profile) -> str:
    """The language of a user whose profile is at hand (see `language`)."""
    user = update.effective_user
    return i18n.choose(
        profile.locale, user.language_code if user else None, context.deps.settings.locale
    )
