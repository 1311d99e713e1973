"""Telegram handlers, one module per kind of person talking to the bot."""
