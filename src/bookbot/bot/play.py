"""`bookbot try`: the real bot on the demo clinic, served by the local emulator, in a terminal.

Messages are printed as the bot sends or edits them; buttons are numbered; the user types
a number to press one, or any text to send it.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from bookbot import i18n
from bookbot.bot import callbacks
from bookbot.bot.inbox import intake
from bookbot.config import Settings
from bookbot.demo import clinic
from bookbot.deps import Clock, open_database, system_clock
from bookbot.errors import BadInput
from bookbot.services.clinic import business, import_clinic
from bookbot.testing.emulator import (
    TEST_PROVIDER,
    BotApiEmulator,
    ChatMessage,
    ChatState,
    ChatUser,
    ReplyButton,
)
from bookbot.wiring import build_bot

Reader = Callable[[str], Awaitable[str | None]]
PLAYER = 100_000_001
QUIT = {"q", "quit", "exit"}
PAY = "pay"
TEST_CARD = "4242 4242 4242 4242"  # the test card of Telegram's test payment providers
HERE = (48.1590, 11.5860)  # where the player "is" when sharing a location: Munich, near Schwabing


async def read_line(prompt: str) -> str | None:
    """Reads one line from the terminal without blocking the bot; None at end of input."""
    try:
        return await asyncio.get_running_loop().run_in_executor(None, input, prompt)
    except EOFError:
        return None


async def play(
    url: str,
    lang: str,
    read: Reader = read_line,
    write: Callable[[str], None] = print,
    clock: Clock = system_clock,
) -> None:
    """Runs a whole session: the demo data if the database is empty, then the chat loop."""
    db = open_database(url)
    try:
        await business(db)
    except BadInput:
        await import_clinic(db, clinic(clock()), provider=True)
    await db.close()
    # Update ids count on from every session before (milliseconds since the epoch), as
    # Telegram's do across restarts: the inbox would take a repeated id for a redelivery.
    async with BotApiEmulator(first_update_id=time.time_ns() // 1_000_000) as emulator:
        # The local emulator keeps no flood limits: pacing would only make answers lag.
        settings = Settings(
            token=emulator.token,
            api_url=f"{emulator.url}/bot",
            database_url=url,
            locale=lang,
            pace=False,
            payment_token=TEST_PROVIDER,  # the emulator's: a test card pays
        )
        application = build_bot(settings, open_database(url), clock)
        await application.initialize()
        if application.post_init:
            await application.post_init(application)
        await application.start()
        await intake(application).start()
        try:
            player = emulator.user(PLAYER, "You", language_code=lang)
            await _chat(emulator, player, lang, read, write, intake(application).working)
        finally:
            await intake(application).stop()
            await application.stop()
            await application.shutdown()


async def _chat(
    emulator: BotApiEmulator,
    user: ChatUser,
    lang: str,
    read: Reader,
    write: Callable[[str], None],
    working: Callable[[], bool],
) -> None:
    write(i18n.text("try.intro", lang))
    chat = emulator.chat(user)
    screen = _Screen(chat, write, lang)
    before: tuple | None = _state(emulator, chat)
    await emulator.send_text(user, "/start")
    while True:
        if before is not None:
            await _answered(emulator, chat, before, working)
        choices = screen.show()
        line = await read(i18n.text("try.prompt", lang))
        if line is None or line.strip().lower() in QUIT:
            write(i18n.text("try.bye", lang))
            return
        line = line.strip()
        before = _state(emulator, chat)
        if line.lower() == PAY and emulator.invoices(user):
            if not await _pay(emulator, user, lang, read, write):
                before = None  # nothing reached the chat: nothing to wait for
        elif line.isdigit() and 1 <= int(line) <= len(choices):
            chosen = choices[int(line) - 1]
            if isinstance(chosen, ReplyButton):
                await emulator.press_reply_button(user, chosen.text, location=HERE)
            else:
                await emulator.tap(user, chosen)
        elif line.isdigit() or not line:
            write(i18n.text("try.pick", lang, most=len(choices)))
            before = None
        else:
            await emulator.send_text(user, line)


async def _pay(
    emulator: BotApiEmulator, user: ChatUser, lang: str, read: Reader, write: Callable[[str], None]
) -> bool:
    """The card form Telegram would show, in the terminal: the test card pays the newest invoice.

    Tells whether the payment went through (the bot then answers in the chat).
    """
    card = await read(i18n.text("try.card", lang, card=TEST_CARD))
    if (card or "").replace(" ", "") != TEST_CARD.replace(" ", ""):
        write(i18n.text("try.declined", lang, card=TEST_CARD))
        return False
    checkout = await emulator.pay(user)
    if not checkout.ok:
        write(i18n.text("try.refused", lang, reason=checkout.error_message or ""))
    return bool(checkout.ok)


async def _answered(
    emulator: BotApiEmulator,
    chat: ChatState,
    before: tuple,
    working: Callable[[], bool],
    timeout: float = 10,
) -> None:
    """Waits until the bot has answered the last action and gone quiet.

    Idle alone is not enough: a handler may think longer than the emulator's quiet
    period before its first call. Nor is a change in the chat: the outbox may deliver a
    message the action before owed (a booking's calendar file) while the handler of
    this one (`working`) has yet to answer.
    """
    async with asyncio.timeout(timeout):
        while True:
            await emulator.wait_idle(timeout=timeout)
            if _state(emulator, chat) != before and not working():
                return
            await asyncio.sleep(0.02)


def _state(emulator: BotApiEmulator, chat: ChatState) -> tuple:
    """What the bot has shown and answered so far in the chat."""
    answered = sum(1 for q in emulator.callback_queries.values() if q.answered)
    return len(chat.all_messages), sum(len(m.history) for m in chat.all_messages), answered


class _Screen:
    """Prints what changed in the chat since last time, and numbers the buttons to press."""

    def __init__(self, chat: ChatState, write: Callable[[str], None], lang: str) -> None:
        self.chat, self.write, self.lang = chat, write, lang
        self.seen: dict[int, int] = {}

    def show(self) -> list:
        """Prints new or edited messages; returns the pressable buttons in their numbering."""
        for message in self.chat.messages:
            if message.from_bot and self.seen.get(message.message_id) != len(message.history):
                self.seen[message.message_id] = len(message.history)
                self._message(message)
        return self._buttons()

    def _message(self, message: ChatMessage) -> None:
        self.write("")
        if message.invoice is not None:
            amount = i18n.price(
                message.invoice["total_amount"], message.invoice["currency"], self.lang
            )
            self.write(
                "  │ "
                + i18n.text("try.invoice", self.lang, title=message.invoice["title"], amount=amount)
            )
            return
        for line in (message.text or message.caption or "").splitlines():
            self.write(f"  │ {line}")
        if message.venue is not None:
            point = message.venue["location"]
            self.write(
                "  │ "
                + i18n.text(
                    "try.venue",
                    self.lang,
                    title=message.venue["title"],
                    address=message.venue["address"],
                    lat=point["latitude"],
                    lon=point["longitude"],
                )
            )
        if message.document is not None:
            self.write(
                "  │ "
                + i18n.text(
                    "try.file",
                    self.lang,
                    name=message.document.filename,
                    size=message.document.size,
                )
            )

    def _buttons(self) -> list:
        shown = next((m for m in reversed(self.chat.messages) if m.buttons), None)
        choices: list = []
        rows = shown.inline_keyboard if shown else []
        for row in rows:
            cells = []
            for button in row:
                if button.callback_data and button.callback_data != callbacks.NO_OP:
                    choices.append(button)
                    cells.append(f"[{len(choices)}] {button.text}")
                elif button.text.strip():
                    cells.append(f"    {button.text}")
            if any(cell.strip() for cell in cells):
                self.write("  " + "  ".join(cells))
        for keys in self.chat.reply_keyboard or []:
            for key in keys:
                choices.append(key)
                self.write(f"  [{len(choices)}] {key.text}")
        return choices


def run(url: str, lang: str, now: datetime | None = None) -> None:
    """Plays in this terminal until the user quits."""
    clock = (lambda: now) if now else system_clock
    try:
        asyncio.run(play(url, lang, clock=clock))
    except KeyboardInterrupt:
        sys.stdout.write("\n")
