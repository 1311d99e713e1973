"""Errors that reach a user: a locale key and its parameters, never a sentence."""

from __future__ import annotations

from typing import Any

from bookbot.engine.problems import Problem

__all__ = ["BadInput", "BookbotError", "Invalid", "Problem", "Refused"]


class BookbotError(Exception):
    """A failure to show the user; `exit_code` follows the command line's contract."""

    exit_code = 1

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class BadInput(BookbotError):
    """Bad arguments or a bad file: nothing was written."""

    exit_code = 2


class Invalid(BadInput):
    """An input with one or more problems, each named by its path."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("error.invalid", count=len(problems))
        self.problems = problems


class Refused(BookbotError):
    """A request the rules refuse (slot taken, too soon, not offered): nothing was written."""

    exit_code = 3
