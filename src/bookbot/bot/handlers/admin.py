"""Handlers for admins (being built: see issue 4)."""

from __future__ import annotations

from telegram.ext import Application


def register(application: Application) -> None:
    """Adds the admin's handlers to the application."""
