"""Telegram bot: handlers and wiring (the Bot API emulator is in bookbot.testing)."""
