"""How a bookbot process runs Python's cyclic garbage collector: seldom, for its many objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG = 100_000  # objects made, less those freed, between two looks at the youngest


@contextmanager
def spaced() -> Iterator[None]:
    """Python's cyclic garbage collector run seldom while a command runs.

    By default it looks at its youngest objects every 700 made, and at every object the
    process holds once a quarter more have lived a while: an answer that makes a hundred
    thousand objects over a catalog of 10,000 specialists spent a quarter of its time
    there (bench/scale.py, hygienists' holes of size b), an import a sixth. Objects are
    still freed at once by their counts of references; only those in cycles wait for a
    look. What exists when it begins is set aside from the looks (gc.freeze) until it ends.
    """
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
