"""A JSON clinic file read piece by piece: its bookings one at a time, never all at once.

A clinic of a million bookings is some 200 MB of JSON; as Python dicts it would take
gigabytes. `JsonFile` decodes every top-level value but `bookings` whole (the head),
and yields the elements of `bookings` one by one from a bounded buffer. It reads exactly
what the YAML reader (loading.py) reads from the same text, or gives up with NotPlain,
and the caller reads the file the YAML way: where the two could differ (a tab, a
character YAML refuses or takes for a line break, a surrogate escape, nesting deeper
than DEEPEST, anything that is not strict JSON), and for a top level that is not a
mapping.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

DEEPEST = 32  # levels of nesting; a clinic file needs 7 (YAML's bound too: loading.py)
READ = 1 << 20  # characters read at a time
LOW = 1 << 16  # characters left in the buffer below which more is read
# What YAML refuses, reads otherwise than JSON (tab, NEL, LS, PS: YAML's white space and
# line breaks) or decodes otherwise (an escaped surrogate: JSON pairs them, YAML does not).
# Two searches: one pattern with both alternatives took three times as long on a megabyte.
_UNLIKE_CHARACTER = re.compile(
    "[^\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_SURROGATE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def _unlike_yaml(text: str) -> bool:
    """Tells whether the text holds what YAML would refuse, or read otherwise than JSON."""
    return bool(_UNLIKE_CHARACTER.search(text) or _SURROGATE.search(text))


_SPACE = re.compile(r"[ \n\r]*")


class NotPlain(Exception):
    """The file is not JSON that reads as YAML reads it: read it the YAML way instead."""


def _number(text: str) -> int | str:
    """An integer as YAML reads one: at most 20 characters, else the text."""
    return int(text) if len(text) <= 20 else text


_DECODER = json.JSONDecoder(parse_float=str, parse_int=_number, parse_constant=str)


def plain(value: Any, depth: int = 1) -> Any:
    """A decoded value as YAML reads it: true and false are text; too deep is NotPlain."""
    if depth >= DEEPEST:  # YAML counts the scalars inside too: leave the edge to it
        raise NotPlain
    if value.__class__ is dict:
        for key, item in value.items():
            if item.__class__ is bool:
                value[key] = "true" if item else "false"
            elif item.__class__ is dict or item.__class__ is list:
                plain(item, depth + 1)
    elif value.__class__ is list:
        for i, item in enumerate(value):
            if item.__class__ is bool:
                value[i] = "true" if item else "false"
            elif item.__class__ is dict or item.__class__ is list:
                plain(item, depth + 1)
    return value


def loads(text: str) -> Any:
    """A whole JSON document as YAML reads it, or NotPlain."""
    if text.startswith("\ufeff") or _unlike_yaml(text):
        raise NotPlain
    try:
        found = _DECODER.decode(text)
    except (json.JSONDecodeError, RecursionError):
        raise NotPlain from None
    if found.__class__ is not dict and found.__class__ is not list:
        raise NotPlain
    return plain(found)


class JsonFile:
    """One JSON clinic file: `head()` first, then `bookings()`, then `rest()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stream: IO[str] | None = None
        self.text = ""
        self.at = 0
        self.ended = False
        self.keys: list[str] = []  # the top-level keys in file order
        self.streaming = False  # inside the bookings array

    def __enter__(self) -> JsonFile:
        self.stream = self.path.open(encoding="utf-8", newline="")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.stream is not None
        self.stream.close()

    # -- reading ----------------------------------------------------------------------------

    def _more(self) -> bool:
        """Reads the next piece of the file into the buffer; False at its end."""
        assert self.stream is not None
        piece = self.stream.read(READ)
        if not piece:
            self.ended = True
            return False
        if _unlike_yaml(self.text[-5:] + piece):
            raise NotPlain
        self.text = self.text[self.at :] + piece
        self.at = 0
        return True

    def _char(self) -> str:
        """The next character after white space ('' at the end), not consumed."""
        while True:
            self.at = _SPACE.match(self.text, self.at).end()  # type: ignore[union-attr]
            if self.at < len(self.text):
                return self.text[self.at]
            if not self._more():
                return ""

    def _expect(self, char: str) -> None:
        if self._char() != char:
            raise NotPlain
        self.at += 1

    def _value(self) -> Any:
        """Decodes the next value, reading more of the file while it is cut short."""
        self._char()
        while True:
            if len(self.text) - self.at < LOW and not self.ended:
                self._more()
            try:
                value, end = _DECODER.raw_decode(self.text, self.at)
            except json.JSONDecodeError:
                if self.ended:
                    raise NotPlain from None
                self._more()
                continue
            except RecursionError:
                raise NotPlain from None
            if end == len(self.text) and not self.ended:  # a number may go on
                self._more()
                continue
            self.at = end
            return value

    def _key(self) -> str:
        key = self._value()
        if not isinstance(key, str):
            raise NotPlain
        self._expect(":")
        return key

    # -- the document -----------------------------------------------------------------------

    def head(self) -> dict[str, Any]:
        """The top-level values read up to `bookings` (all of them when there is none)."""
        assert self.stream is not None
        self.text = self.stream.read(READ)
        if self.text.startswith("\ufeff") or _unlike_yaml(self.text):
            raise NotPlain
        self.ended = not self.text
        self._expect("{")
        found: dict[str, Any] = {}
        if self._char() == "}":
            self.at += 1
            self._end()
            return found
        while True:
            key = self._key()
            self.keys.append(key)
            if key == "bookings" and self._char() == "[":
                self.at += 1
                self.streaming = True
                return found
            found[key] = plain(self._value(), 2)
            if not self._next():
                self._end()
                return found

    def bookings(self) -> Iterator[Any]:
        """The elements of the bookings array, each as YAML reads it."""
        if not self.streaming:
            return
        self.streaming = False
        if self._char() == "]":
            self.at += 1
            return
        decode = _DECODER.raw_decode
        while True:
            text, at = self.text, self.at
            value = None
            if len(text) - at > LOW and text[at] == "{":  # the usual case, made quick
                try:
                    value, self.at = decode(text, at)
                except (json.JSONDecodeError, RecursionError):
                    value = None  # cut short, or deep: the careful way below
            if value is None:
                value = self._value()
            yield plain(value, 3)
            text, at = self.text, self.at
            if text[at : at + 2] == ", ":
                self.at = at + 2
                continue
            char = self._char()
            self.at += 1
            if char == "]":
                return
            if char != ",":
                raise NotPlain

    def rest(self) -> dict[str, Any]:
        """The top-level values after the bookings array, up to the file's end.

        A second `bookings` is NotPlain: YAML would keep the last, not the one streamed.
        """
        found: dict[str, Any] = {}
        if "bookings" not in self.keys:
            return found
        while self._next():
            key = self._key()
            if key in self.keys:
                raise NotPlain
            self.keys.append(key)
            found[key] = plain(self._value(), 2)
        self._end()
        return found

    def _next(self) -> bool:
        """Passes the comma before another key (True) or the closing brace (False)."""
        char = self._char()
        self.at += 1
        if char == "}":
            return False
        if char != ",":
            raise NotPlain
        return True

    def _end(self) -> None:
        """Nothing but white space may follow the document."""
        if self._char() != "":
            raise NotPlain
