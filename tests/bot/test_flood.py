"""Telegram's flood control: the emulator enforces it, the bot's one limiter keeps under it.

The emulator answers a send over the rates with 429 and refuses (and counts) any send into
a chat during its retry_after; the bot must lose no reply to a 429 and let no busy chat
hold up another.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from telegram import BotCommand
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bookbot import clinic_file, config
from bookbot.bot.limiter import UNPACED, Limiter, Rates
from bookbot.errors import BadInput
from bookbot.notify import messages
from bookbot.services.availability import free_slots
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.store.tables import OutboxRow
from bookbot.store.uow import UnitOfWork
from bookbot.testing.emulator import BotApiEmulator, ChatMessage, ChatUser, FloodControl
from tests.bot.conftest import Clock, Harness
from tests.clinics import BASIC, NOW

TOKEN = "123456:FLOOD-token"
ALICE, BOB = 42, 43


def bot_on(emu: BotApiEmulator, rates: Rates = UNPACED) -> ExtBot:
    """A bot whose every request goes through its own Limiter, as one process's does."""
    return ExtBot(TOKEN, base_url=f"{emu.url}/bot", rate_limiter=Limiter(rates))


async def flooded(flood: FloodControl) -> BotApiEmulator:
    emu = BotApiEmulator(token=TOKEN, flood=flood)
    await emu.start()
    for chat in (ALICE, BOB):
        emu.user(chat, f"U{chat}")
    return emu


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    """Flood control whose rates only an injected 429 can meet: the waits are the subject."""
    running = await flooded(
        FloodControl(per_chat=1000, chat_burst=1000, overall=1000, overall_burst=1000)
    )
    yield running
    await running.stop()


def refused(emu: BotApiEmulator) -> list[tuple[str, object]]:
    return [(c.method, c.chat_id) for c in emu.calls if c.error_code == 429]


# ----------------------------------------------------------------------------- the emulator


async def test_the_emulator_answers_a_chat_over_its_rate_and_refuses_sends_in_the_wait() -> None:
    emu = await flooded(FloodControl(per_chat=0.1, chat_burst=2, overall=1000, overall_burst=1000))
    try:
        async with ExtBot(TOKEN, base_url=f"{emu.url}/bot") as bot:
            await bot.send_message(ALICE, "one")
            await bot.send_message(ALICE, "two")  # the burst
            with pytest.raises(RetryAfter, match="Retry in"):
                await bot.send_message(ALICE, "three")
            told = emu.calls[-1]
            assert told.description.startswith("Too Many Requests: retry after ")
            assert emu.sends_in_flood_wait == []
            with pytest.raises(RetryAfter):
                await bot.send_message(ALICE, "four")  # inside the wait it was told
            await bot.send_message(BOB, "another chat goes on")
    finally:
        await emu.stop()
    assert emu.sends_in_flood_wait == [("sendMessage", ALICE)]
    assert emu.chat(ALICE).texts == ["one", "two"] and emu.chat(BOB).sent_count == 1


async def test_the_emulator_keeps_an_overall_rate_across_chats() -> None:
    emu = await flooded(FloodControl(per_chat=1000, chat_burst=1000, overall=0.1, overall_burst=3))
    try:
        async with ExtBot(TOKEN, base_url=f"{emu.url}/bot") as bot:
            for text in ("a", "b", "c"):
                await bot.send_message(ALICE, text)
            with pytest.raises(RetryAfter):
                await bot.send_message(BOB, "over the bot's rate")
            with pytest.raises(RetryAfter):
                await bot.send_message(ALICE, "every chat waits")
    finally:
        await emu.stop()
    assert emu.sends_in_flood_wait == [("sendMessage", ALICE)]


async def test_answering_taps_is_not_flood_limited() -> None:
    emu = await flooded(FloodControl(per_chat=0.1, chat_burst=1, overall=0.1, overall_burst=1))
    try:
        async with ExtBot(TOKEN, base_url=f"{emu.url}/bot") as bot:
            await bot.send_message(ALICE, "menu")
            taps = [await emu.tap_data(ALICE, 1, f"x:{n}") for n in range(5)]
            for record in taps:
                assert await bot.answer_callback_query(record.id)
    finally:
        await emu.stop()
    assert all(record.answered for record in taps) and refused(emu) == []


async def test_an_injected_429_opens_a_wait_like_a_real_one(emu: BotApiEmulator) -> None:
    emu.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=ALICE)
    async with ExtBot(TOKEN, base_url=f"{emu.url}/bot") as bot:
        with pytest.raises(RetryAfter):
            await bot.send_message(ALICE, "told to wait")
        with pytest.raises(RetryAfter):
            await bot.send_message(ALICE, "did not wait")
        await asyncio.sleep(1.1)
        await bot.send_message(ALICE, "waited")
    assert emu.sends_in_flood_wait == [("sendMessage", ALICE)]
    assert emu.chat(ALICE).texts == ["waited"]


def test_pacing_is_on_unless_switched_off(tmp_path: Path) -> None:
    none = tmp_path / "no.env"
    assert config.load({}, none).pace and config.load({"BOOKBOT_PACE": "On"}, none).pace
    assert not config.load({"BOOKBOT_PACE": "off"}, none).pace
    with pytest.raises(BadInput) as refused_value:
        config.load({"BOOKBOT_PACE": "slow"}, none)
    assert refused_value.value.params["name"] == "BOOKBOT_PACE"


# ----------------------------------------------------------------------------- the limiter


async def until_called(emu: BotApiEmulator, done: Callable[[], bool], timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not done():
            await asyncio.sleep(0.01)


async def test_a_429_pauses_only_its_chat_and_the_reply_goes_after_it(emu: BotApiEmulator) -> None:
    emu.fail_next("sendMessage", error_code=429, retry_after=3, chat_id=ALICE)
    async with bot_on(emu) as bot:
        first = asyncio.create_task(bot.send_message(ALICE, "first"))
        await until_called(emu, lambda: refused(emu) != [])
        second = asyncio.create_task(bot.send_message(ALICE, "second"))  # during the pause
        for n in range(5):
            await bot.send_message(BOB, f"bob {n}")  # another chat is not paused
        await asyncio.gather(first, second)
    assert emu.sends_in_flood_wait == []
    assert emu.chat(ALICE).texts == ["first", "second"]  # nothing lost, order kept
    sends = [(c.chat_id, c.ok, c.at) for c in emu.calls_to("sendMessage")]
    told = next(at for chat, ok, at in sends if chat == ALICE and not ok)
    alice_ok = [i for i, (chat, ok, _) in enumerate(sends) if chat == ALICE and ok]
    bob = [i for i, (chat, _, _) in enumerate(sends) if chat == BOB]
    assert max(bob) < min(alice_ok)
    assert sends[alice_ok[0]][2] - told >= 3


async def test_a_429_without_a_chat_pauses_every_chat(emu: BotApiEmulator) -> None:
    emu.fail_next("setMyCommands", error_code=429, retry_after=2)
    async with bot_on(emu) as bot:
        commands = asyncio.create_task(bot.set_my_commands([BotCommand("start", "Start")]))
        await until_called(emu, lambda: refused(emu) != [])
        # The 429 was sent; the send below starts once the bot has read it (a send made
        # while the answer is on its way cannot know of it, in Telegram as here).
        limiter = bot.rate_limiter
        assert isinstance(limiter, Limiter)
        await until_called(emu, lambda: limiter.paused_until > 0)
        await bot.send_message(BOB, "waits for the pause")
        await commands
    told = next(c.at for c in emu.calls if c.error_code == 429)
    assert emu.calls_to("sendMessage")[0].at - told >= 2
    assert [c.ok for c in emu.calls_to("setMyCommands")] == [False, True]


async def test_edits_made_through_do_api_request_are_limited_too(emu: BotApiEmulator) -> None:
    async with bot_on(emu) as bot:
        shown = await bot.send_message(ALICE, "before")
        emu.fail_next("editMessageText", error_code=429, retry_after=1, chat_id=ALICE)
        await bot.do_api_request(
            "editMessageText",
            api_kwargs={"chat_id": ALICE, "message_id": shown.message_id, "text": "after"},
        )
    assert emu.chat(ALICE).texts == ["after"]
    assert [c.ok for c in emu.calls_to("editMessageText")] == [False, True]
    assert emu.sends_in_flood_wait == []


async def test_the_limiter_keeps_under_the_rates_of_a_busy_chat_and_of_the_bot() -> None:
    # Rates five times Telegram's and bursts a little under the emulator's, as for Telegram.
    emu = await flooded(FloodControl(per_chat=5, chat_burst=4, overall=50, overall_burst=30))
    chats = range(100, 110)
    for chat in chats:
        emu.user(chat)
    try:
        async with bot_on(
            emu, Rates(per_chat=5, chat_burst=2, overall=50, overall_burst=10)
        ) as bot:
            await asyncio.gather(
                *(bot.send_message(ALICE, f"busy {n}") for n in range(15)),
                *(bot.send_message(chat, f"{chat} {n}") for chat in chats for n in range(4)),
            )
    finally:
        await emu.stop()
    assert refused(emu) == [] and emu.sends_in_flood_wait == []
    assert sorted(emu.chat(ALICE).texts) == sorted(f"busy {n}" for n in range(15))
    assert all(emu.chat(chat).sent_count == 4 for chat in chats)


# ----------------------------------------------------------------------------- the whole bot

CLIENTS = 50


@pytest.fixture
async def crowd(tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot on the BASIC clinic against an emulator keeping Telegram's own rates."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    db = Database(url)
    await import_clinic(db, clinic_file.read(BASIC), datetime.fromisoformat(NOW))
    await db.close()
    async with BotApiEmulator(flood=FloodControl()) as emulator:
        running = Harness(emulator, url, Clock())
        await running.start()
        yield running
        await running.stop()


async def free_december_slots(h: Harness, count: int) -> list[tuple[str, int, str]]:
    """`count` distinct (specialist's name, day, HH:MM) free in December, both specialists."""
    db = Database(h.url)
    try:
        found = {
            name: await free_slots(
                db,
                h.clock(),
                date(2026, 12, 1),
                date(2026, 12, 31),
                specialist=key,
                service="checkup",
            )
            for key, name in (("ann", "Dr. Ann Weber"), ("ben", "Ben Keller"))
        }
    finally:
        await db.close()
    pairs = [
        (name, s)
        for rank in range(count)
        for name, slots in found.items()
        if rank < len(slots)
        for s in [slots[rank]]
    ]
    return [(name, s.start.day, s.start.strftime("%H:%M")) for name, s in pairs[:count]]


async def eventually(done: Callable[[], object], what: str, timeout: float = 120) -> None:
    """Waits for `done()` (the crowd keeps the emulator busy, so no wait_idle here)."""
    try:
        async with asyncio.timeout(timeout):
            while not done():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"never happened: {what}") from None


async def tap(h: Harness, user: ChatUser, label: str) -> ChatMessage:
    """Taps the newest button labelled `label` (else containing it), waits for the answer."""
    chat = h.emulator.chat(user)
    buttons = [b for m in reversed(chat.messages) for b in m.buttons]
    button = next((b for b in buttons if b.text == label), None) or next(
        b for b in buttons if label in b.text
    )
    record = await h.emulator.tap(user, button)
    await eventually(lambda: record.answered, f"{user.id} tapped {label!r} and got an answer")
    tapped = chat.message(button.message_id)
    assert tapped is not None
    return tapped


async def book_through_the_flow(
    h: Harness, user: ChatUser, specialist: str, day: int, at: str
) -> str:
    """One client from /start to Confirm; returns what the summary message says at the end."""
    chat = h.emulator.chat(user)

    def shown(needle: str) -> bool:
        return any(needle in (m.text or "") for m in chat.messages)

    await h.emulator.send_text(user, "/start")
    await eventually(lambda: shown("What would you like to book"), f"{user.id} got the menu")
    await tap(h, user, "Check-up")
    await tap(h, user, specialist)
    await tap(h, user, "›")
    await tap(h, user, str(day))
    await tap(h, user, at)
    await eventually(lambda: chat.reply_keyboard is not None, f"{user.id} was asked a phone")
    await h.emulator.share_contact(user)
    await eventually(lambda: shown("Please check and confirm"), f"{user.id} got the summary")
    return (await tap(h, user, "Confirm")).text or ""


async def test_fifty_clients_booking_at_once_all_get_booked_and_one_confirmation_each(
    crowd: Harness,
) -> None:
    h, emu = crowd, crowd.emulator
    slots = await free_december_slots(h, CLIENTS)
    users = [emu.user(60_000 + n, f"Client{n}") for n in range(CLIENTS)]
    ends = await asyncio.gather(
        *(book_through_the_flow(h, user, *slot) for user, slot in zip(users, slots, strict=True))
    )
    assert all("Booked" in end for end in ends), [e for e in ends if "Booked" not in e]
    # A 429 the outbox met is written down against the moved clock: let any such wait pass.
    h.clock.advance(minutes=1)

    def confirmations() -> Counter:
        return Counter(c.chat_id for c in emu.calls_to("sendDocument") if c.ok)

    await eventually(lambda: len(confirmations()) == CLIENTS, "every confirmation sent")
    await _confirmations_settled(h)
    assert confirmations() == Counter({user.id: 1 for user in users})
    answers = Counter(
        c.params.get("callback_query_id") for c in emu.calls_to("answerCallbackQuery") if c.ok
    )
    assert set(answers) == set(emu.callback_queries) and set(answers.values()) == {1}
    assert not [c for c in emu.calls_to("answerCallbackQuery") if not c.ok]
    assert emu.sends_in_flood_wait == []


async def _confirmations_settled(h: Harness, timeout: float = 60) -> None:
    """Waits until no confirmation is pending or claimed in the outbox any more."""
    db = Database(h.url)
    try:
        async with asyncio.timeout(timeout):
            while True:
                async with UnitOfWork(db, write=False) as uow:
                    left = await uow.session.scalar(
                        select(OutboxRow.id)
                        .where(
                            OutboxRow.kind == messages.CONFIRMATION,
                            OutboxRow.status.in_(("pending", "claimed")),
                        )
                        .limit(1)
                    )
                if left is None:
                    return
                await asyncio.sleep(0.2)
    finally:
        await db.close()
