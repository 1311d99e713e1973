"""One rate limiter for every request the bot makes: Telegram's flood limits kept and waited out.

Telegram allows a bot about 30 messages a second overall and about one a second into one
chat, short bursts tolerated (spec/bot.md). Every send of the process goes through one
`Limiter` (PTB calls it from `ExtBot._do_post`, so `do_api_request` too): messages into a
chat wait for that chat's turn and for the overall one, one at a time per chat, so a
429 that one of them gets is known before the next goes out. A 429 pauses that chat (a
429 without a chat pauses every chat) for its `retry_after`, and the request is sent
again after it; one busy chat never holds up another.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Coroutine
from typing import Any

from msgspec import Struct
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

# Requests that put a message into a chat: the ones Telegram's flood limits count.
MESSAGES = ("send", "edit", "copy", "forward")
RETRIES = 5  # 429s one request waits out before its error is raised
MARGIN = 0.05  # seconds past a retry_after, so a retry does not land on its last instant
KEEP = 1024  # chats remembered before idle ones are forgotten

Result = bool | dict[str, Any] | list[dict[str, Any]]


class Patience(Struct, frozen=True):
    """How a request may wait: a pause of at most `pause` seconds, and `retries` 429s.

    A pause longer than `pause` is not waited out: the request raises RetryAfter with the
    time left at once, without being sent, so its sender can come back later.
    """

    pause: float = math.inf
    retries: int = RETRIES


class Rates(Struct, frozen=True):
    """Messages a second into one chat and overall, each with how many may go at once."""

    per_chat: float = 1.0
    chat_burst: int = 2
    overall: float = 30.0
    overall_burst: int = 10


# Telegram's published limits, with bursts a little below what it tolerates.
TELEGRAM = Rates()
# No pacing, only 429s waited out: for a peer without flood limits (BOOKBOT_PACE=off).
UNPACED = Rates(math.inf, 1, math.inf, 1)
REPLY = Patience()  # a handler's reply: it waits whatever it takes (bounded by RETRIES)
OUTBOX = Patience(pause=0.0, retries=0)  # the outbox writes a flood wait down instead


class _Pace:
    """A rate with a burst allowance (a token bucket kept as its next free instant)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (max(burst, 1) - 1) * self.interval
        self.next_free = 0.0

    def wait(self, now: float) -> float:
        """Seconds until one more message fits (0 if it fits now)."""
        return max(0.0, self.next_free - self.tolerance - now)

    def take(self, now: float) -> float:
        """Books the next free turn from `now`; returns the seconds to wait for it."""
        wait = self.wait(now)
        self.next_free = max(self.next_free, now) + self.interval
        return wait


class _Chat:
    """One chat's state: its pace, its pause, and the lock that sends one message at a time."""

    def __init__(self, rate: float, burst: int) -> None:
        self.pace = _Pace(rate, burst)
        self.paused_until = 0.0
        self.lock = asyncio.Lock()

    def idle(self, now: float) -> bool:
        """Whether forgetting this chat changes nothing."""
        return not self.lock.locked() and max(self.paused_until, self.pace.next_free) < now


class Limiter(BaseRateLimiter[Patience]):
    """Paces messages per chat and overall, and waits out 429s for their chat only.

    `rate_limit_args` takes a `Patience` (default `REPLY`).
    """

    def __init__(
        self, rates: Rates = TELEGRAM, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rates, self.clock = rates, clock
        self.overall = _Pace(rates.overall, rates.overall_burst)
        self.paused_until = 0.0  # every chat's, after a 429 that named none
        self.chats: dict[int | str, _Chat] = {}

    async def initialize(self) -> None:
        """Nothing to set up: the state lives in memory."""

    async def shutdown(self) -> None:
        """Forgets every chat's pace and pause."""
        self.chats.clear()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Patience | None,
    ) -> Result:
        """Sends one request when its chat's turn and the overall turn come; waits out 429s."""
        patience = rate_limit_args or REPLY
        chat_id = data.get("chat_id")
        chat = self._chat(chat_id) if chat_id is not None else None
        if (left := self._paused(chat)) > patience.pause:  # not worth queueing for the lock
            raise RetryAfter(math.ceil(left))
        if chat is None or not endpoint.startswith(MESSAGES):
            return await self._send(callback, args, kwargs, chat, patience, paced=False)
        async with chat.lock:  # one at a time: a 429 is known before the next message goes
            return await self._send(callback, args, kwargs, chat, patience, paced=True)

    async def _send(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        chat: _Chat | None,
        patience: Patience,
        paced: bool,
    ) -> Result:
        """Sends after the pauses (and the paces, if `paced`); retries after each 429."""
        for attempt in range(patience.retries + 1):
            await self._turn(chat, patience, paced)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                until = self.clock() + retry_seconds(error) + MARGIN
                if chat is None:
                    self.paused_until = max(self.paused_until, until)
                else:
                    chat.paused_until = max(chat.paused_until, until)
                if attempt == patience.retries:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _turn(self, chat: _Chat | None, patience: Patience, paced: bool) -> None:
        """Waits until no pause holds this request and, if paced, its message fits both rates."""
        while True:
            now = self.clock()
            if (paused := self._paused(chat)) > 0:
                if paused > patience.pause:
                    raise RetryAfter(math.ceil(paused))
                await asyncio.sleep(paused)
                continue
            if not paced:
                return
            assert chat is not None
            if (wait := chat.pace.wait(now)) > 0:
                await asyncio.sleep(wait)
                continue
            # The overall turn is booked first come, first served; the chat's lock is held,
            # so nobody takes this chat's turn meanwhile.
            await asyncio.sleep(self.overall.take(now))
            if self._paused(chat) <= 0:
                chat.pace.take(self.clock())
                return

    def pace_wait(self, chat_id: int | str) -> float:
        """Seconds until the chat's pace lets one more message go (0: now); pauses aside."""
        chat = self.chats.get(_chat_key(chat_id))
        return chat.pace.wait(self.clock()) if chat else 0.0

    def _paused(self, chat: _Chat | None) -> float:
        """Seconds left of the pause that holds this chat's requests (none: 0 or less)."""
        until = max(self.paused_until, chat.paused_until if chat else 0.0)
        return until - self.clock()

    def _chat(self, chat_id: int | str) -> _Chat:
        """The state of one chat, made on first use; idle ones are forgotten past KEEP."""
        key = _chat_key(chat_id)
        chat = self.chats.get(key)
        if chat is None:
            if len(self.chats) >= KEEP:
                now = self.clock()
                for other in [k for k, c in self.chats.items() if c.idle(now)]:
                    del self.chats[other]
            chat = self.chats[key] = _Chat(self.rates.per_chat, self.rates.chat_burst)
        return chat


def _chat_key(chat_id: int | str) -> int | str:
    """A chat id as one key whether it came as a number or as its digits."""
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return str(chat_id)


def retry_seconds(error: RetryAfter) -> float:
    """The seconds a RetryAfter asks for.

    Read from the timedelta PTB keeps, as its own AIORateLimiter does: the public
    attribute warns about its type changing in a later version.
    """
    return error._retry_after.total_seconds()
