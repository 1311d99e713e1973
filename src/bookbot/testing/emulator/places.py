"""Places in a chat: the bot's map pins (sendVenue), checked as Telegram checks them.

A venue needs a latitude in -90..90, a longitude in -180..180, a title and an address;
anything else is refused with Telegram's 400 and nothing is shown.
"""

from __future__ import annotations

import math
import time
from typing import Any

from starlette.requests import Request

from .chats import ChatMessage, StoredFile
from .errors import bad_request
from .markup import check_markup
from .messages import MessageMethods


def coordinate(value: Any, name: str, most: float) -> float:
    """A latitude or longitude parameter as a float within ±`most`; 400 otherwise."""
    if isinstance(value, bool) or value is None or value == "":
        raise bad_request(f"parameter {name} is required")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} value {value!r}") from None
    if not math.isfinite(number) or not -most <= number <= most:
        raise bad_request(f"wrong {name} specified")
    return number


def _required_text(p: dict[str, Any], name: str) -> str:
    value = p.get(name)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"parameter {name} is required")
    return value


class PlaceMethods(MessageMethods):
    """sendVenue: a map pin with a place's title and address."""

    async def _send_venue(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        """sendVenue: a venue message, its coordinates, title and address checked."""
        chat = self._chat_for(p, "sendVenue")
        latitude = coordinate(p.get("latitude"), "latitude", 90)
        longitude = coordinate(p.get("longitude"), "longitude", 180)
        title, address = _required_text(p, "title"), _required_text(p, "address")
        markup = check_markup(p.get("reply_markup"))
        location = {"latitude": latitude, "longitude": longitude}
        message = ChatMessage(
            message_id=self._new_message_id(chat.id),
            chat_id=chat.id,
            date=int(time.time()),
            from_bot=True,
            reply_markup=markup,
            location=location,
            venue={"location": location, "title": title, "address": address},
        )
        self._deliver(chat, message)
        return self._message_api(message)
