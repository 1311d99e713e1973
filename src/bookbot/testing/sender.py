"""A Sender that keeps what it is asked to send: delivery tested with no messenger at all.

It satisfies `bookbot.notify.sender.Sender`. Every letter is accepted (`Sent`) and kept in
`sent`, in order, unless the test told the sender to fail for that chat (`fail`): then the
letter is answered with that outcome and not kept, as a messenger that refused it would.
It never paces: `pace_wait` is always 0.
"""

from __future__ import annotations

from msgspec import Struct

from bookbot.notify.sender import Buttons, Document, Outcome, Sent


class Delivered(Struct, frozen=True):
    """One letter the sender accepted: its chat, its text (a document's caption), buttons, file."""

    chat_id: int
    text: str
    buttons: Buttons = ()
    document: Document | None = None


class RecordingSender:
    """Keeps accepted letters in `sent`; answers a chat it was told to fail with that outcome.

    Usage: `sender = RecordingSender(); sender.fail(555, Unreachable("blocked"));
    await delivery.deliver(sender, db, settings, now); assert sender.sent == [...]`.
    """

    def __init__(self) -> None:
        self.sent: list[Delivered] = []
        self.failing: dict[int, Outcome] = {}

    def fail(self, chat_id: int, outcome: Outcome) -> None:
        """Answers every later letter to this chat with `outcome` (a Flooded, Unreachable…)."""
        self.failing[chat_id] = outcome

    async def send_text(self, chat_id: int, text: str, buttons: Buttons = ()) -> Outcome:
        """Keeps a text with its buttons, or answers the chat's failure."""
        return self._take(Delivered(chat_id, text, buttons))

    async def send_document(
        self, chat_id: int, document: Document, caption: str, buttons: Buttons = ()
    ) -> Outcome:
        """Keeps a file with its caption and buttons, or answers the chat's failure."""
        return self._take(Delivered(chat_id, caption, buttons, document))

    def pace_wait(self, chat_id: int) -> float:
        """No pace to keep: a letter may always go now."""
        return 0.0

    def _take(self, letter: Delivered) -> Outcome:
        """The outcome of one letter; an accepted one is kept."""
        refusal = self.failing.get(letter.chat_id)
        if refusal is not None:
            return refusal
        self.sent.append(letter)
        return Sent()
