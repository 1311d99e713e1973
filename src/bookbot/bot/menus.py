"""The command menus Telegram shows, in every language: clients' for all, more for staff."""

from __future__ import annotations

import hashlib
import json

from telegram import Bot, BotCommand, BotCommandScopeChat

from bookbot import i18n

CLIENT = ("start", "my", "language", "help")
# A linked specialist's own commands, then an admin's; a person gets the union of theirs.
SPECIALIST = (
    "today",
    "week",
    "schedule",
    "bookings",
    "dayoff",
    "vacation",
    "hours",
    "extra",
    "block",
    "unblock",
    "reviews",
    "noshow",
)
ADMIN = (
    "schedule",
    "bookings",
    "dayoff",
    "vacation",
    "hours",
    "extra",
    "block",
    "unblock",
    "holidays",
    "weekly",
    "invite",
    "promote",
    "demote",
    "addservice",
    "renameservice",
    "addspecialist",
    "renamespecialist",
    "offer",
    "location",
    "reviews",
    "noshow",
    "forgive",
    "stats",
    "waitlist",
    "payments",
    "refund",
)


async def publish(bot: Bot) -> None:
    """Registers the client commands, with descriptions in each language."""
    for lang in i18n.languages():
        commands = [BotCommand(name, i18n.text(f"menu.{name}", lang)) for name in CLIENT]
        await bot.set_my_commands(commands, language_code=lang)
    fallback = i18n.fallback()
    await bot.set_my_commands(
        [BotCommand(name, i18n.text(f"menu.{name}", fallback)) for name in CLIENT]
    )


def names(admin: bool, specialist: bool) -> tuple[str, ...]:
    """The commands one person may use: a client's, plus a specialist's and an admin's."""
    found = list(CLIENT)
    for role, commands in ((specialist, SPECIALIST), (admin, ADMIN)):
        if role:
            found += [name for name in commands if name not in found]
    return tuple(found)


def description(name: str, lang: str) -> str:
    """What a command does, in one short line."""
    if name in CLIENT:
        return i18n.text(f"menu.{name}", lang)
    if name in SPECIALIST and name not in ADMIN:
        return i18n.text(f"specialist.menu.{name}", lang)
    return i18n.text(f"admin.menu.{name}", lang)


def signature(admin: bool, specialist: bool) -> str | None:
    """A fingerprint of the menus `publish_for` sets for these roles; None for a client's.

    It changes with the roles and with any command or description, so a chat whose menu
    was set before a new release gets the new one at its owner's next message.
    """
    if not admin and not specialist:
        return None
    allowed = names(admin, specialist)
    shown = {
        lang: [(n, description(n, lang)) for n in allowed]
        for lang in (*i18n.languages(), i18n.fallback())
    }
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()


async def publish_for(bot: Bot, telegram_id: int, admin: bool, specialist: bool) -> None:
    """Shows one person exactly the commands they may use (their chat's own menu scope)."""
    scope = BotCommandScopeChat(telegram_id)
    if not admin and not specialist:  # back to the default menu, the clients'
        for lang in i18n.languages():
            await bot.delete_my_commands(scope=scope, language_code=lang)
        await bot.delete_my_commands(scope=scope)
        return
    allowed = names(admin, specialist)
    for lang in i18n.languages():
        await bot.set_my_commands(
            [BotCommand(n, description(n, lang)) for n in allowed], scope=scope, language_code=lang
        )
    fallback = i18n.fallback()
    await bot.set_my_commands(
        [BotCommand(n, description(n, fallback)) for n in allowed], scope=scope
    )
