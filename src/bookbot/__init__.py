"""bookbot: a Telegram booking assistant for businesses of specialists."""

__version__ = "0.1.0"
