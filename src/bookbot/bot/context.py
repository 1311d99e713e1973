"""What every handler needs: its collaborators (bookbot.deps), and the user's language."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bookbot import flow, i18n
from bookbot.deps import Deps
from bookbot.store.chats import Profile


def deps(context: ContextTypes.DEFAULT_TYPE) -> Deps:
    """The collaborators stored in the application."""
    return context.application.bot_data["deps"]


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The user's language: their choice, else Telegram's language_code, else the default."""
    user = update.effective_user
    if user is None:
        return i18n.choose(deps(context).settings.locale)
    return language_of(update, context, await flow.profile(deps(context).db, user.id))


def language_of(update: Update, context: ContextTypes.DEFAULT_TYPE, profile: Profile) -> str:
    """The language of a user whose profile is at hand (see `language`)."""
    user = update.effective_user
    return i18n.choose(
        profile.locale, user.language_code if user else None, deps(context).settings.locale
    )
