"""Settings from the environment, and from a `.env` file in the working folder."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from msgspec import Struct

from bookbot import parsing
from bookbot.errors import BadInput
from bookbot.store.version import DEFAULT_URL

ADMIN_ID = re.compile(r"^[0-9]{1,16}$")  # a Telegram user id: ASCII digits, < 2**53
DAYS = re.compile(r"^(?:([0-9]{1,4})d)?(.*)$")


class Settings(Struct, frozen=True):
    """Everything bookbot reads from its environment (see spec/bot.md)."""

    token: str | None = None
    api_url: str | None = None
    database_url: str = DEFAULT_URL
    admins: frozenset[int] = frozenset()
    reminders: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2))
    review_after: timedelta = timedelta(hours=24)
    review_ttl: timedelta = timedelta(days=7)
    hold: timedelta = timedelta(minutes=10)
    secret: str | None = None
    public_url: str | None = None
    locale: str = "en"
    pace: bool = True  # keep under Telegram's flood limits; off for a peer without them
    rounds: timedelta = timedelta(seconds=5)  # between the outbox's looks for due messages
    payment_token: str | None = None  # a payment provider's token from @BotFather

    def require_token(self) -> str:
        """The bot token, or a clear error saying where to put it."""
        if not self.token:
            raise BadInput("error.no_token")
        return self.token


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file; blank lines and # comments are skipped."""
    if not path.is_file():
        return {}
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        found[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return found


def load(environ: Mapping[str, str] | None = None, dotenv: Path = Path(".env")) -> Settings:
    """Settings from `environ` (default: the process's) over the `.env` file."""
    env = {**read_dotenv(dotenv), **(os.environ if environ is None else environ)}

    def get(name: str) -> str | None:
        value = env.get(f"BOOKBOT_{name}")
        return value.strip() if value and value.strip() else None

    return Settings(
        token=get("TELEGRAM_TOKEN"),
        api_url=get("TELEGRAM_API_URL"),
        database_url=get("DATABASE_URL") or DEFAULT_URL,
        admins=_ids(get("ADMINS")),
        reminders=tuple(_durations("BOOKBOT_REMINDERS", get("REMINDERS") or "24h,2h")),
        review_after=_one_duration("BOOKBOT_REVIEW_AFTER", get("REVIEW_AFTER") or "24h"),
        review_ttl=_one_duration("BOOKBOT_REVIEW_TTL", get("REVIEW_TTL") or "7d"),
        hold=_one_duration("BOOKBOT_HOLD", get("HOLD") or "10m"),
        secret=get("SECRET"),
        public_url=(get("PUBLIC_URL") or "").rstrip("/") or None,
        locale=get("LOCALE") or "en",
        pace=_switch("BOOKBOT_PACE", get("PACE") or "on"),
        payment_token=get("PAYMENT_PROVIDER_TOKEN"),
    )


def _ids(text: str | None) -> frozenset[int]:
    if not text:
        return frozenset()
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not all(ADMIN_ID.match(part) and 0 < int(part) < 2**53 for part in parts):
        raise BadInput(
            "error.bad_setting", name="BOOKBOT_ADMINS", value=text, example="12345,67890"
        )
    return frozenset(int(part) for part in parts)


def _switch(name: str, text: str) -> bool:
    """An on/off setting."""
    if text.lower() not in ("on", "off"):
        raise BadInput("error.bad_setting", name=name, value=text, example="off")
    return text.lower() == "on"


def _one_duration(name: str, text: str) -> timedelta:
    """A duration setting; days (`7d`) are allowed here besides h and m."""
    match = DAYS.match(text)
    days, rest = (match[1] or "0", match[2]) if match else ("0", text)
    try:
        value = timedelta(days=int(days)) + (parsing.duration(rest) if rest else timedelta(0))
    except BadInput:
        raise BadInput("error.bad_setting", name=name, value=text, example="24h") from None
    if value <= timedelta(0):
        raise BadInput("error.bad_setting", name=name, value=text, example="24h")
    return value


def _durations(name: str, text: str) -> list[timedelta]:
    return [_one_duration(name, part.strip()) for part in text.split(",") if part.strip()]
