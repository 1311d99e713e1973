"""bookbot: a Telegram booking assistant for businesses of specialists.

bookbot's values are msgspec Structs, made in C (a dataclass compiles its methods when
its module is imported: ~1 ms a class on Python 3.11, half of a read-only command's
start-up). msgspec loads typing_extensions when it is installed (SQLAlchemy needs it),
only to read type hints for decoding, which bookbot never asks of it; typing_extensions
imports inspect, ~10 ms of a 60 ms command. So unless it is loaded already, it is hidden
while msgspec loads, and msgspec takes the same names from Python's own typing.
"""

import sys

__version__ = "0.1.0"

if "typing_extensions" in sys.modules or "msgspec" in sys.modules:
    import msgspec  # noqa: F401
else:
    sys.modules["typing_extensions"] = None  # type: ignore[assignment]  # import fails
    try:
        import msgspec  # noqa: F401
    finally:
        del sys.modules["typing_extensions"]
