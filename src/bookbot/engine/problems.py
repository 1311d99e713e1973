"""A problem with an input, named by its path: what every check of the engine returns."""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field


class Problem(Struct, frozen=True):
    """One thing wrong with an input, at a path like `specialists[1].weekly[0].start`."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    path: str = ""
