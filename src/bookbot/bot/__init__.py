"""Telegram bot: handlers, wiring and a local Bot API emulator for tests and demos."""
