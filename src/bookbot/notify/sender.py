"""What delivery sends, as plain data, and the `Sender` that carries it to a chat.

Delivery renders an outbox row into a `Letter` and hands it to a `Sender`; it knows no
messenger. The Telegram one is `bookbot.bot.sender.TelegramSender`; a test may hand in any
object with these methods. A button names what it does (`Action`), not how a messenger
encodes it: the bot turns actions into its own button data.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from msgspec import Struct


class Action(Enum):
    """What a button in a delivered message asks the bot to do with its argument."""

    ASK_CANCEL = "ask_cancel"  # a client asks to cancel a booking (booking id)
    RESCHEDULE = "reschedule"  # a client reschedules a booking (booking id)
    SPECIALIST_CANCEL = "specialist_cancel"  # a specialist cancels, asked the reason (booking id)
    RATE = "rate"  # a client rates a visit ("<booking id>-<stars>")
    ATTEND = "attend"  # a client says they will come (booking id)
    TAKE_OFFER = "take_offer"  # a client takes a waitlist offer (booking id)
    PASS_OFFER = "pass_offer"  # "Not this one": the offer goes to the next (booking id)
    LEAVE_OFFERED = "leave_offered"  # "Leave the waitlist" on an offer (booking id)


class Button(Struct, frozen=True):
    """One button: an action with its argument, or a link (`url`)."""

    label: str
    action: Action | None = None
    argument: str = ""
    url: str | None = None


Buttons = tuple[tuple[Button, ...], ...]  # rows of buttons, top to bottom


class Document(Struct, frozen=True):
    """A file to attach, by name."""

    filename: str
    content: bytes


class Letter(Struct, frozen=True):
    """A rendered message: its text, its buttons, and an optional attachment (text as caption)."""

    text: str
    buttons: Buttons = ()
    document: Document | None = None


class Sent(Struct, frozen=True):
    """The messenger accepted the message."""


class Flooded(Struct, frozen=True):
    """The messenger's flood limit: nothing more to this chat for `seconds`."""

    seconds: float
    error: str


class Unreachable(Struct, frozen=True):
    """The recipient cannot be written to (they blocked the bot)."""

    error: str


class Failed(Struct, frozen=True):
    """Any other refusal or failure; worth trying again later."""

    error: str


Outcome = Sent | Flooded | Unreachable | Failed


class Sender(Protocol):
    """Carries letters to chats and says what became of each; raises nothing it can name."""

    async def send_text(self, chat_id: int, text: str, buttons: Buttons = ()) -> Outcome:
        """Sends a text with buttons below it."""
        ...

    async def send_document(
        self, chat_id: int, document: Document, caption: str, buttons: Buttons = ()
    ) -> Outcome:
        """Sends a file with a caption and buttons below it."""
        ...

    def pace_wait(self, chat_id: int) -> float:
        """Seconds until the sender's pace lets one more message into the chat (none: 0)."""
        ...


async def post(sender: Sender, chat_id: int, letter: Letter) -> Outcome:
    """Sends a letter the way its shape asks: as a document when it has one, else as text."""
    if letter.document is not None:
        return await sender.send_document(chat_id, letter.document, letter.text, letter.buttons)
    return await sender.send_text(chat_id, letter.text, letter.buttons)
