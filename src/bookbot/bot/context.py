"""What every handler needs: the database, the settings, the clock, and the user's language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from telegram import Update
from telegram.ext import ContextTypes

from bookbot import flow, i18n
from bookbot.config import Settings
from bookbot.notify.messages import Policy
from bookbot.store.db import Database
from bookbot.store.repository import Profile

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """The bot's collaborators, passed in by build_application so tests can hand in their own."""

    db: Database
    settings: Settings
    clock: Clock = system_clock

    @property
    def policy(self) -> Policy:
        """When reminders and review requests go out, from the settings."""
        return Policy(self.settings.reminders, self.settings.review_after)


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
    return i18n.choose(profile.locale, user.language_code if user else None,
                       deps(context).settings.locale)
