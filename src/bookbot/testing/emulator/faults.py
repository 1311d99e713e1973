"""Failures on purpose: single injected errors, and Telegram's flood control.

A test asks for the next call of a method to fail (:class:`FaultRule`), or gives the
emulator a :class:`FloodControl` so that sending too fast is answered with 429 and a
``retry_after``, as Telegram does.  :class:`Faults` holds both and decides, call by call,
which error (if any) a request gets before its method runs.
"""

from __future__ import annotations

import math
import time
from typing import Any

from msgspec import Struct

from .errors import ApiError

# Messages into a chat: what Telegram's flood control counts (answerCallbackQuery is not).
_FLOODED = frozenset(
    {"sendMessage", "sendDocument", "sendVenue", "editMessageText", "editMessageReplyMarkup"}
)


class FaultRule(Struct):
    """A pending injected failure; see :meth:`BotApiEmulator.fail_next`."""

    method: str
    error_code: int
    description: str
    parameters: dict[str, Any] | None
    chat_id: int | None
    remaining: int

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        """Whether a call of ``method`` with ``params`` should fail."""
        if self.remaining <= 0:
            return False
        if self.method != "*" and self.method.lower() != method.lower():
            return False
        if self.method == "*" and method == "getUpdates":
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id


class FloodControl(Struct, frozen=True):
    """Telegram's flood limits, as the emulator enforces them when given one.

    ``per_chat`` messages a second into one chat with ``chat_burst`` at once, and
    ``overall`` a second for the whole bot with ``overall_burst`` at once.  A test may
    raise the rates to run faster; the answers keep Telegram's shape (whole seconds).
    """

    per_chat: float = 1.0
    chat_burst: int = 3
    overall: float = 30.0
    overall_burst: int = 30


class _Pace:
    """A rate with a burst allowance (a token bucket kept as its next free instant)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (max(burst, 1) - 1) * self.interval
        self.next_free = 0.0

    def wait(self, now: float) -> float:
        """Seconds until one more message fits (0 if it fits now)."""
        return max(0.0, self.next_free - self.tolerance - now)

    def take(self, now: float) -> None:
        """Counts one message sent at ``now``."""
        self.next_free = max(self.next_free, now) + self.interval


class _FloodGate:
    """Flood control's state: a pace per chat, one overall, and the retry_after waits told."""

    def __init__(self, control: FloodControl) -> None:
        self.control = control
        self.chats: dict[int, _Pace] = {}
        self.overall = _Pace(control.overall, control.overall_burst)
        self.waits: dict[int | None, float] = {}  # a chat (None: all of them) -> end of its wait

    def waiting(self, chat_id: int, now: float) -> float:
        """Seconds left of a wait told to this chat or to the whole bot (0 if none)."""
        return max(self.waits.get(chat_id, 0.0), self.waits.get(None, 0.0)) - now

    def tell(self, chat_id: int | None, seconds: int, now: float) -> ApiError:
        """Opens a wait for the chat (None: for all) and says so as Telegram does."""
        self.waits[chat_id] = max(self.waits.get(chat_id, 0.0), now + seconds)
        return _too_many(seconds)

    def admit(self, chat_id: int, now: float) -> ApiError | None:
        """Counts a message if both paces allow it; else a 429 that opens a wait."""
        pace = self.chats.get(chat_id)
        if pace is None:
            pace = self.chats[chat_id] = _Pace(self.control.per_chat, self.control.chat_burst)
        if (wait := pace.wait(now)) > 0:
            return self.tell(chat_id, _whole_seconds(wait), now)
        if (wait := self.overall.wait(now)) > 0:
            return self.tell(None, _whole_seconds(wait), now)
        pace.take(now)
        self.overall.take(now)
        return None


def _whole_seconds(seconds: float) -> int:
    """A retry_after as Telegram gives it: whole seconds, at least one."""
    return max(1, math.ceil(seconds))


def _too_many(seconds: int) -> ApiError:
    """Telegram's 429, telling the sender to wait ``seconds``."""
    return ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})


class Faults:
    """The injected failures still pending, and flood control's state when it is on."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self.gate: _FloodGate | None = None
        # Messages sent into a chat during a retry_after it was told: (method, chat_id).
        self.sends_in_flood_wait: list[tuple[str, int]] = []

    def take(
        self, method: str, params: dict[str, Any], flood: FloodControl | None
    ) -> ApiError | None:
        """Flood control around the injected faults: the error this call gets, if any.

        A message into a chat still inside a retry_after is refused and counted; an
        injected 429 opens a wait like a real one; otherwise the paces decide.
        """
        chat_id = params.get("chat_id")
        if flood is None or method not in _FLOODED or not isinstance(chat_id, int):
            return self._take_fault(method, params)
        gate = self.gate
        if gate is None or gate.control is not flood:
            gate = self.gate = _FloodGate(flood)
        now = time.monotonic()
        if (left := gate.waiting(chat_id, now)) > 0:
            self.sends_in_flood_wait.append((method, chat_id))
            return _too_many(_whole_seconds(left))
        fault = self._take_fault(method, params)
        if fault is not None and fault.error_code == 429 and fault.parameters:
            gate.tell(chat_id, int(fault.parameters["retry_after"]), now)
        return fault or gate.admit(chat_id, now)

    def _take_fault(self, method: str, params: dict[str, Any]) -> ApiError | None:
        """The error of the first pending rule this call matches, using up one of its times."""
        for rule in self.rules:
            if rule.matches(method, params):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self.rules.remove(rule)
                return ApiError(rule.error_code, rule.description, rule.parameters)
        return None
