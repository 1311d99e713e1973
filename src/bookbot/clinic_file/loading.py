"""YAML and JSON text to plain data, bounded, and plain data back to YAML text."""

from __future__ import annotations

import re
from typing import Any

import yaml

from bookbot.clinic_file.streaming import DEEPEST, NotPlain, loads
from bookbot.clinic_file.values import shown
from bookbot.errors import BadInput

# Bounds on what a file may hold (README, "The clinic file in brief"): each keeps every later
# question fast and every value inside its column and Python's date range.
LARGEST_FILE = 256 * 1024 * 1024  # bytes read whole; the 1.5 M bookings of bench size a: ~200 MB
# Plain JSON is read a chunk of bookings at a time (streamed.py), its memory bounded by the
# bookings, not the text: the 2.5 M bookings of bench size b take ~320 MB.
LARGEST_STREAMED = 1024 * 1024 * 1024
ALIASED = 100_000  # values aliases may repeat beyond those the file writes out


class _Loader(yaml.SafeLoader):
    """YAML without 1.1's implicit sexagesimals, timestamps and yes/no booleans, and bounded.

    An unquoted `10:30` would otherwise arrive as the integer 630, and a date as a date
    object; here every such scalar stays the text the user wrote, and so does a number
    with a point (a price like 19.99 must not pass through a float). Nesting deeper than
    DEEPEST is refused before Python's recursion limit is reached, and so are aliases that
    refer to themselves or repeat more than ALIASED values beyond the file's own (a 531-byte
    "billion laughs" file would otherwise stand for a billion strings).
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.written = 0  # nodes the file writes out
        self.counted = 0  # nodes as if every alias were written out
        self.sizes: dict[str, int] = {}  # anchor -> nodes it stands for, once composed

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Composes one node, counting what it stands for and how deep it lies."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            size = self.sizes.get(event.anchor or "")
            if size is None and event.anchor in self.anchors:
                raise BadInput("file.recursive_alias", line=_line(event))
            node = super().compose_node(parent, index)
            self.counted += size or 0
            if self.counted - self.written > max(ALIASED, self.written):
                raise BadInput("file.too_many_aliased", line=_line(event), most=ALIASED)
            return node
        self.depth += 1
        if self.depth > DEEPEST:
            raise BadInput("file.too_deep", line=_line(event), most=DEEPEST)
        before = self.counted
        self.written += 1
        self.counted += 1
        node = super().compose_node(parent, index)
        self.depth -= 1
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self.sizes[anchor] = self.counted - before
        return node


def _line(event: yaml.Event) -> int:
    """The 1-based line an event starts on (the parser marks every event it yields)."""
    assert event.start_mark is not None
    return event.start_mark.line + 1


_DROPPED = (
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
)
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(  # at most 20 characters: longer digits stay text, refused later
    "tag:yaml.org,2002:int",
    re.compile(
        r"^(?=.{1,20}$)(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)"
        r"|[-+]?0x[0-9a-fA-F_]+)$"
    ),
    list("-+0123456789"),
)
# Plain data only: an explicit `!!binary`, `!!set`, `!!timestamp`, `!!omap` or `!!pairs` is
# refused as YAML SafeLoader cannot construct, instead of arriving as an odd Python value.
_Loader.yaml_constructors = {
    tag: make
    for tag, make in yaml.SafeLoader.yaml_constructors.items()
    if tag is None
    or tag.rsplit(":", 1)[-1] in ("null", "str", "int", "float", "bool", "seq", "map")
}


class Dumper(yaml.SafeDumper):
    """Quotes every text with a colon, so no YAML reader can take `09:00` for a number."""


Dumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style='"' if ":" in value else None
    ),
)


def load_text(text: str) -> Any:
    """Reads YAML or JSON text without YAML's time-as-number trap, within the bounds.

    JSON is decoded as such when it reads as YAML would read it (streaming.py): the same
    values, a hundred times faster.
    """
    if len(text) > LARGEST_FILE:
        raise BadInput("file.too_large", most=LARGEST_FILE // 2**20)
    if text.lstrip(" \n\r")[:1] in ("{", "["):
        try:
            return loads(text)
        except NotPlain:
            pass
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise BadInput(
            "error.not_yaml",
            line=(mark.line + 1) if mark else "?",
            detail=shown(getattr(error, "problem", None) or error, 200),
        ) from None
    except (ValueError, OverflowError) as error:  # an explicit `!!int` of 5,000 digits
        raise BadInput("error.not_yaml", line="?", detail=shown(error, 200)) from None
