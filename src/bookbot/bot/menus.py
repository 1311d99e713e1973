"""The command menus Telegram shows, in every language."""

from __future__ import annotations

from telegram import Bot, BotCommand

from bookbot import i18n

CLIENT = ("start", "my", "language", "help")


async def publish(bot: Bot) -> None:
    """Registers the client commands, with descriptions in each language."""
    for lang in i18n.languages():
        commands = [BotCommand(name, i18n.text(f"menu.{name}", lang)) for name in CLIENT]
        await bot.set_my_commands(commands, language_code=lang)
    fallback = i18n.fallback()
    await bot.set_my_commands([BotCommand(name, i18n.text(f"menu.{name}", fallback))
                               for name in CLIENT])
