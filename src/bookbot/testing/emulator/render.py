"""parse_mode rendering: the plain text Telegram shows for HTML, MarkdownV2 and Markdown.

Validation is Telegram-like (approximately): malformed markup is refused with
"can't parse entities" and the byte offset Telegram names.  Of the entities only the
text links of HTML are kept, because the bot's messages carry them and tests look.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from .errors import bad_request

# Link schemes Telegram keeps in a text link; any other (tel:, javascript:) is dropped.
_LINK_SCHEMES = ("http://", "https://", "tg://")


class _EntityError(Exception):
    """Raised by the parse_mode renderers; becomes "can't parse entities: ..."."""


def render(text: str, parse_mode: Any) -> str:
    """Return the plain text Telegram would show for ``text`` in ``parse_mode``."""
    mode = str(parse_mode or "").lower()
    try:
        if mode == "html":
            return _render_html(text)
        if mode == "markdownv2":
            return _render_markdown_v2(text)
        if mode == "markdown":
            return _render_markdown(text)
    except _EntityError as error:
        raise bad_request(f"can't parse entities: {error}") from None
    if mode:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    return text


_HTML_TAGS = frozenset(
    "b strong i em u ins s strike del span tg-spoiler a tg-emoji code pre blockquote".split()
)


class _HtmlToText(HTMLParser):
    """Telegram's HTML subset to plain text, keeping the text links it would keep."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.links: list[dict[str, Any]] = []  # text_link entities, as Telegram keeps them
        self._anchors: list[tuple[str, int]] = []  # open <a>: its href, where its text starts
        self._utf16 = 0  # length of the text so far in UTF-16 code units, as offsets count
        self._line_starts = [0]
        for line in source.splitlines(keepends=True):
            self._line_starts.append(self._line_starts[-1] + len(line))

    def byte_offset(self) -> int:
        """Where the parser is, in bytes of UTF-8, as Telegram's errors count."""
        line, column = self.getpos()
        index = self._line_starts[min(line - 1, len(self._line_starts) - 1)] + column
        return len(self.source[:index].encode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            raise _EntityError(f'Unsupported start tag "{tag}" at byte offset {self.byte_offset()}')
        if tag == "span" and ("class", "tg-spoiler") not in attrs:
            raise _EntityError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset()}'
            )
        if tag == "a":
            self._anchors.append((dict(attrs).get("href") or "", self._utf16))
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise _EntityError(f"Unexpected end tag at byte offset {self.byte_offset()}")
        if self.stack[-1] != tag:
            raise _EntityError(
                f"Unmatched end tag at byte offset {self.byte_offset()}, "
                f'expected "</{self.stack[-1]}>", found "</{tag}>"'
            )
        self.stack.pop()
        if tag == "a":
            self._close_link()

    def _close_link(self) -> None:
        """Keeps the link just closed as a text_link, unless Telegram would drop it.

        Telegram keeps only links it can open: a `tel:` link (or any other scheme) is
        dropped silently, its text shown plain.
        """
        href, start = self._anchors.pop()
        if href.startswith(_LINK_SCHEMES) and self._utf16 > start:
            self.links.append(
                {"type": "text_link", "offset": start, "length": self._utf16 - start, "url": href}
            )

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self._utf16 += len(data.encode("utf-16-le")) // 2

    def handle_comment(self, data: str) -> None:
        raise _EntityError(f'Unsupported start tag "!--" at byte offset {self.byte_offset()}')

    def handle_decl(self, decl: str) -> None:
        raise _EntityError(f'Unsupported start tag "!" at byte offset {self.byte_offset()}')


def _render_html(source: str) -> str:
    """The text of an HTML message, or an _EntityError naming what Telegram would refuse."""
    parser = _HtmlToText(source)
    parser.feed(source)
    parser.close()
    if parser.stack:
        raise _EntityError(f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"')
    return "".join(parser.parts)


def text_links(source: str, parse_mode: Any) -> list[dict[str, Any]] | None:
    """The text_link entities Telegram keeps of a text it rendered (HTML only; None if none)."""
    if str(parse_mode or "").lower() != "html":
        return None
    parser = _HtmlToText(source)
    parser.feed(source)
    parser.close()
    return parser.links or None


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_MARKERS = {
    "||": "Spoiler",
    "__": "Underline",
    "*": "Bold",
    "_": "Italic",
    "~": "Strikethrough",
}


def _find_unescaped(source: str, token: str, start: int) -> int:
    """Index of ``token`` at or after ``start`` not preceded by a backslash, or -1."""
    i = start
    while i < len(source):
        if source[i] == "\\":
            i += 2
            continue
        if source.startswith(token, i):
            return i
        i += 1
    return -1


def _unescape(source: str) -> str:
    """Drops the backslash of every escaped character."""
    return re.sub(r"\\(.)", r"\1", source, flags=re.DOTALL)


def _render_markdown_v2(source: str) -> str:
    """The text of a MarkdownV2 message; reserved characters must come escaped."""
    out: list[str] = []
    open_marks: list[tuple[str, int]] = []
    link_start: int | None = None
    i = 0

    def offset(index: int) -> int:
        return len(source[:index].encode())

    while i < len(source):
        char = source[i]
        if char == "\\":
            if i + 1 < len(source) and 0 < ord(source[i + 1]) < 127:
                out.append(source[i + 1])
                i += 2
                continue
            raise _EntityError(
                "Character '\\' is reserved and must be escaped with the preceding '\\'"
            )
        if source.startswith("```", i):
            end = _find_unescaped(source, "```", i + 3)
            if end < 0:
                raise _EntityError(f"Can't find end of Pre entity at byte offset {offset(i)}")
            body = source[i + 3 : end]
            first, newline, rest = body.partition("\n")
            if newline and first and " " not in first:
                body = rest  # the first line names the language
            out.append(_unescape(body))
            i = end + 3
            continue
        if char == "`":
            end = _find_unescaped(source, "`", i + 1)
            if end < 0:
                raise _EntityError(f"Can't find end of Code entity at byte offset {offset(i)}")
            out.append(_unescape(source[i + 1 : end]))
            i = end + 1
            continue
        marker = next((m for m in _MDV2_MARKERS if source.startswith(m, i)), None)
        if marker is not None:
            opened = [m for m, _ in open_marks]
            if marker in opened:
                del open_marks[len(opened) - 1 - opened[::-1].index(marker)]
            else:
                open_marks.append((marker, offset(i)))
            i += len(marker)
            continue
        if char == "[" and link_start is None:
            link_start = i
            i += 1
            continue
        if char == "]" and link_start is not None:
            if not source.startswith("(", i + 1):
                raise _EntityError(
                    f"Can't find end of TextUrl entity at byte offset {offset(link_start)}"
                )
            end = _find_unescaped(source, ")", i + 2)
            if end < 0:
                raise _EntityError(f"Can't find end of a URL at byte offset {offset(i + 2)}")
            link_start = None
            i = end + 1
            continue
        if char == ">" and (i == 0 or source[i - 1] == "\n"):
            i += 1  # blockquote marker
            continue
        if char in _MDV2_RESERVED:
            raise _EntityError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        out.append(char)
        i += 1
    if link_start is not None:
        raise _EntityError(f"Can't find end of TextUrl entity at byte offset {offset(link_start)}")
    if open_marks:
        marker, at = open_marks[-1]
        raise _EntityError(f"Can't find end of {_MDV2_MARKERS[marker]} entity at byte offset {at}")
    return "".join(out)


def _render_markdown(source: str) -> str:
    """The text of a legacy Markdown message (no nesting, few escapes)."""
    out: list[str] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source) and source[i + 1] in "_*`[":
            out.append(source[i + 1])
            i += 2
            continue
        token = "```" if source.startswith("```", i) else char if char in "*_`" else None
        if token is not None:
            end = source.find(token, i + len(token))
            if end < 0:
                at = len(source[:i].encode())
                raise _EntityError(f"Can't find end of the entity starting at byte offset {at}")
            out.append(source[i + len(token) : end])
            i = end + len(token)
            continue
        if char == "[":
            close = source.find("](", i)
            end = source.find(")", close + 2) if close >= 0 else -1
            if end >= 0:
                out.append(source[i + 1 : close])
                i = end + 1
                continue
        out.append(char)
        i += 1
    return "".join(out)
