"""The Telegram Sender's buttons: every action delivery names is a tap the bot reads."""

from __future__ import annotations

from bookbot.bot import callbacks
from bookbot.bot.sender import TAPPED_AS, keyboard
from bookbot.notify.sender import Action, Button


def test_every_action_becomes_callback_data_its_handler_decodes() -> None:
    arguments = {Action.RATE: "42-5"}
    rows = (
        (*(Button(a.value, a, arguments.get(a, "42")) for a in Action),),
        (Button("page", url="https://clinic.example/review?token=t"),),
    )
    markup = keyboard(rows)
    assert markup is not None
    taps = [callbacks.decode(b.callback_data) for b in markup.inline_keyboard[0]]
    assert [(t.action, t.argument) for t in taps if t] == [
        (TAPPED_AS[a], arguments.get(a, "42")) for a in Action
    ]
    assert markup.inline_keyboard[1][0].url == "https://clinic.example/review?token=t"
    assert keyboard(()) is None
