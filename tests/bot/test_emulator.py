"""End-to-end tests of the Bot API emulator with python-telegram-bot's real HTTP client."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bookbot.testing.emulator import BotApiEmulator

TOKEN = "123456:TEST-token"
ALICE = 42


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN) as emulator:
        emulator.user(ALICE, first_name="Alice", username="alice")
        yield emulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=f"{emu.url}/bot", base_file_url=f"{emu.url}/file/bot") as b:
        yield b


# ----------------------------------------------------------------------------- a tiny bot


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    payload = " ".join(context.args or [])
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Book a slot", callback_data="book:1")],
            [InlineKeyboardButton("Website", url="https://example.com")],
        ]
    )
    await update.effective_message.reply_text(f"Welcome! payload={payload}", reply_markup=keyboard)


async def phone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("Share my phone", request_contact=True)], ["Cancel"]],
        one_time_keyboard=True,
    )
    await update.effective_message.reply_text("Send your phone", reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    context.bot_data.setdefault("taps", []).append(query.data)
    await query.answer(f"got {query.data}")
    if query.message is not None and query.message.is_accessible:
        await query.edit_message_text(f"Booked {query.data}")


async def on_slow_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await asyncio.sleep(0.3)  # longer than wait_idle's quiet period, no API call meanwhile
    await update.callback_query.edit_message_text("slow done")
    await update.callback_query.answer()


async def on_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    contact = update.effective_message.contact
    context.bot_data["contact"] = (contact.user_id, contact.phone_number)
    await update.effective_message.reply_text(
        f"Thanks, {contact.phone_number}", reply_markup=ReplyKeyboardRemove()
    )


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(f"You said: {update.effective_message.text}")


@contextlib.asynccontextmanager
async def running_bot(emu: BotApiEmulator) -> AsyncIterator[Application]:
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{emu.url}/bot")
        .base_file_url(f"{emu.url}/file/bot")
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("phone", phone))
    app.add_handler(CallbackQueryHandler(on_slow_button, pattern="^slow$"))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.CONTACT, on_contact))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    async with asyncio.timeout(5):
        await app.initialize()
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield app
    finally:
        async with asyncio.timeout(5):
            await app.updater.stop()
            await app.stop()
            await app.shutdown()


# ----------------------------------------------------------------------------- conversations


async def test_start_replies_with_inline_keyboard(emu: BotApiEmulator) -> None:
    async with running_bot(emu) as app:
        await emu.send_text(ALICE, "/start promo42")
        await emu.wait_idle()
        assert app.bot.username == "bookbot_test_bot"

    chat = emu.chat(ALICE)
    assert chat.last is not None
    assert chat.last.text == "Welcome! payload=promo42"
    assert [[b.text for b in row] for row in chat.last.inline_keyboard] == [
        ["Book a slot"],
        ["Website"],
    ]
    assert chat.find_button("Book").callback_data == "book:1"
    assert chat.find_button("website").url == "https://example.com"
    assert chat.sent_count == 1
    assert [c.method for c in emu.calls if c.method != "getUpdates"][:2] == [
        "getMe",
        "deleteWebhook",
    ]


async def test_tap_edits_in_place_and_keeps_history(emu: BotApiEmulator) -> None:
    async with running_bot(emu) as app:
        await emu.send_text(ALICE, "/start")
        await emu.wait_idle()
        chat = emu.chat(ALICE)
        first_id = chat.last.message_id
        query = await emu.tap(ALICE, chat.find_button("Book"))
        await emu.wait_idle()
        assert app.bot_data["taps"] == ["book:1"]

    assert query.answered and query.answer_text == "got book:1"
    assert len(chat.messages) == 1
    assert chat.last.message_id == first_id
    assert chat.last.text == "Booked book:1"
    assert chat.last.edited and chat.last.inline_keyboard == []
    assert chat.history == ["Welcome! payload=", "Booked book:1"]
    assert chat.last.history == chat.history
    with pytest.raises(LookupError):
        await emu.tap(ALICE, "book:1")  # the keyboard is gone after the edit


async def test_forged_tap_reaches_handler(emu: BotApiEmulator) -> None:
    async with running_bot(emu) as app:
        await emu.send_text(ALICE, "/start")
        await emu.wait_idle()
        message_id = emu.chat(ALICE).last.message_id
        forged = await emu.tap_data(ALICE, message_id, "book:999;admin=1")
        stale = await emu.tap_data(ALICE, 9999, "ghost")  # inaccessible message
        await emu.wait_idle()
        assert app.bot_data["taps"] == ["book:999;admin=1", "ghost"]

    assert forged.answered and stale.answered
    assert emu.chat(ALICE).last.text == "Booked book:999;admin=1"


async def test_wait_idle_waits_for_unanswered_callback(emu: BotApiEmulator) -> None:
    async with running_bot(emu):
        await emu.send_text(ALICE, "/start")
        await emu.wait_idle()
        query = await emu.tap_data(ALICE, emu.chat(ALICE).last.message_id, "slow")
        await emu.wait_idle()
        assert query.answered
        assert emu.chat(ALICE).last.text == "slow done"


async def test_reply_keyboard_contact_and_text(emu: BotApiEmulator) -> None:
    async with running_bot(emu) as app:
        await emu.send_text(ALICE, "/phone")
        await emu.wait_idle()
        chat = emu.chat(ALICE)
        assert [[b.text for b in row] for row in chat.reply_keyboard] == [
            ["Share my phone"],
            ["Cancel"],
        ]
        await emu.press_reply_button(ALICE, "Share my phone")
        await emu.wait_idle()
        assert app.bot_data["contact"] == (ALICE, chat.user.phone_number)
        assert chat.last.text == f"Thanks, {chat.user.phone_number}"
        assert chat.reply_keyboard is None
        with pytest.raises(LookupError):
            await emu.press_reply_button(ALICE, "Cancel")
        await emu.send_text(ALICE, "hello")
        await emu.wait_idle()
        assert chat.last.text == "You said: hello"
        assert [m.text for m in chat.incoming if m.text] == ["/phone", "hello"]


async def test_wait_idle_times_out_without_a_bot(emu: BotApiEmulator) -> None:
    await emu.send_text(ALICE, "/start")
    with pytest.raises(TimeoutError, match="not yet fetched"):
        await emu.wait_idle(timeout=0.2)


# ----------------------------------------------------------------------------- errors


async def test_retry_after_injection(
    emu: BotApiEmulator, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    emu.fail_next("sendMessage", error_code=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ALICE, "hi")
    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    await bot.send_message(ALICE, "hi")
    assert emu.chat(ALICE).sent_count == 1
    assert [(c.ok, c.error_code) for c in emu.calls_to("sendMessage")] == [
        (False, 429),
        (True, None),
    ]


async def test_fault_filters_by_chat_and_count(emu: BotApiEmulator, bot: Bot) -> None:
    emu.user(7)
    emu.fail_next("sendMessage", error_code=500, chat_id=7, times=2)
    await bot.send_message(ALICE, "unaffected")
    for _ in range(2):
        with pytest.raises(Exception, match="Internal Server Error"):
            await bot.send_message(7, "x")
    await bot.send_message(7, "now fine")
    assert emu.chat(7).sent_count == 1


async def test_blocked_user_is_forbidden(emu: BotApiEmulator, bot: Bot) -> None:
    emu.block(ALICE)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ALICE, "hi")
    emu.unblock(ALICE)
    await bot.send_message(ALICE, "hi")
    assert emu.chat(ALICE).sent_count == 1


async def test_telegram_validation_errors(emu: BotApiEmulator, bot: Bot) -> None:
    message = await bot.send_message(
        ALICE,
        "pick",
        reply_markup=InlineKeyboardMarkup.from_button(InlineKeyboardButton("A", callback_data="a")),
    )
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text(
            "pick", ALICE, message.message_id, reply_markup=message.reply_markup
        )
    # Without reply_markup the edit removes the keyboard, so it is a modification.
    await bot.edit_message_text("pick", ALICE, message.message_id)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_reply_markup(ALICE, message.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", ALICE, 999)
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(555, "x")
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(
            ALICE,
            "x",
            reply_markup=InlineKeyboardMarkup.from_button(
                InlineKeyboardButton("A", callback_data="x" * 65)
            ),
        )
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(ALICE, "")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(ALICE, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query("12345")
    with pytest.raises(BadRequest, match='(?i)unsupported start tag "br"'):
        await bot.send_message(ALICE, "a<br>b", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)character '\\.' is reserved"):
        await bot.send_message(ALICE, "Hello.", parse_mode="MarkdownV2")
    await bot.send_message(ALICE, "<b>Hi</b> &amp; <i>bye</i>", parse_mode="HTML")
    assert emu.chat(ALICE).last.text == "Hi & bye"
    await bot.send_message(ALICE, r"*Hi* \- _there_\.", parse_mode="MarkdownV2")
    assert emu.chat(ALICE).last.text == "Hi - there."
    assert emu.chat(ALICE).sent_count == 3


def _grid(count: int, per_row: int, label: str = "b") -> InlineKeyboardMarkup:
    """An inline keyboard of `count` buttons, `per_row` a row."""
    buttons = [InlineKeyboardButton(f"{label}{i}", callback_data=f"k:{i}") for i in range(count)]
    return InlineKeyboardMarkup([buttons[i : i + per_row] for i in range(0, count, per_row)])


async def test_keyboards_past_telegrams_limits_are_refused(emu: BotApiEmulator, bot: Bot) -> None:
    await bot.send_message(ALICE, "100 buttons, 8 a row", reply_markup=_grid(100, 8))
    with pytest.raises(BadRequest, match="^Reply markup is too long$"):
        await bot.send_message(ALICE, "101 buttons", reply_markup=_grid(101, 1))
    with pytest.raises(BadRequest, match="^Too many buttons in a row$"):
        await bot.send_message(ALICE, "9 in a row", reply_markup=_grid(9, 9))
    with pytest.raises(BadRequest, match="^Reply markup is too long$"):  # ~11 KB of labels
        await bot.send_message(ALICE, "long labels", reply_markup=_grid(50, 1, "x" * 200))
    listing = await bot.send_message(ALICE, "pick", reply_markup=_grid(3, 3))
    with pytest.raises(BadRequest, match="^Reply markup is too long$"):
        await bot.edit_message_text(
            "pick more", ALICE, listing.message_id, reply_markup=_grid(101, 4)
        )
    with pytest.raises(BadRequest, match="^Too many buttons in a row$"):
        await bot.edit_message_reply_markup(ALICE, listing.message_id, reply_markup=_grid(9, 9))
    with pytest.raises(BadRequest, match="^Message is too long$"):
        await bot.edit_message_text("x" * 4097, ALICE, listing.message_id)
    with pytest.raises(BadRequest, match="^Message is too long$"):  # counted once rendered
        await bot.edit_message_text(
            "<b>" + "x" * 4097 + "</b>", ALICE, listing.message_id, parse_mode="HTML"
        )
    await bot.edit_message_text(
        "<b>" + "x" * 4096 + "</b>", ALICE, listing.message_id, parse_mode="HTML"
    )
    wide = ReplyKeyboardMarkup([[KeyboardButton(str(i)) for i in range(13)]])
    with pytest.raises(BadRequest, match="^Too many buttons in a row$"):
        await bot.send_message(ALICE, "13 reply buttons in a row", reply_markup=wide)
    many = ReplyKeyboardMarkup([[KeyboardButton(str(i))] for i in range(301)])
    with pytest.raises(BadRequest, match="^Reply markup is too long$"):
        await bot.send_message(ALICE, "301 reply buttons", reply_markup=many)
    with pytest.raises(BadRequest, match="^Message caption is too long$"):
        await bot.send_document(ALICE, document=b"x", filename="x.txt", caption="x" * 1025)
    assert [m.text for m in emu.chat(ALICE).messages] == ["100 buttons, 8 a row", "x" * 4096]


async def test_a_chat_menu_needs_a_person_who_opened_the_bot(emu: BotApiEmulator, bot: Bot) -> None:
    # Telegram answers "chat not found" to a chat scope whose person never wrote to the bot.
    menu = [BotCommand("today", "Today")]
    for stranger in (ALICE, 555):
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.set_my_commands(menu, scope=BotCommandScopeChat(stranger))
    assert emu.commands({"type": "chat", "chat_id": ALICE}) == []
    await bot.set_my_commands(menu)  # the default scope needs no chat
    await bot.send_message(ALICE, "hello")
    await emu.tap_data(ALICE, 1, "x")  # a tap opens it as well as a message would
    await bot.set_my_commands(menu, scope=BotCommandScopeChat(ALICE))
    assert emu.commands({"type": "chat", "chat_id": ALICE}) == [
        {"command": "today", "description": "Today"}
    ]


async def test_tel_links_are_dropped_and_tel_buttons_refused(emu: BotApiEmulator, bot: Bot) -> None:
    # As Telegram: a tel: link keeps its text but loses the link; a web link is kept.
    sent = await bot.send_message(
        ALICE,
        'Call <a href="tel:+4915112345678">+49 151</a> or see '
        '<a href="https://example.com">ß site</a>',
        parse_mode="HTML",
    )
    shown = emu.chat(ALICE).last
    assert shown.text == "Call +49 151 or see ß site"
    assert shown.entities == [
        {"type": "text_link", "offset": 20, "length": 6, "url": "https://example.com"}
    ]
    assert [e.url for e in sent.entities] == ["https://example.com"]
    await bot.edit_message_text(
        '<a href="tel:+1">call</a>', ALICE, sent.message_id, parse_mode="HTML"
    )
    assert shown.text == "call" and shown.entities is None
    with pytest.raises(BadRequest, match="(?i)button_url_invalid"):
        await bot.send_message(
            ALICE,
            "x",
            reply_markup=InlineKeyboardMarkup.from_button(
                InlineKeyboardButton("Call", url="tel:+4915112345678")
            ),
        )


async def test_answer_twice_is_rejected(emu: BotApiEmulator, bot: Bot) -> None:
    await bot.send_message(ALICE, "m")
    query = await emu.tap_data(ALICE, 1, "d")
    await bot.answer_callback_query(query.id, text="ok")
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query.id)


async def test_token_and_unknown_method(emu: BotApiEmulator, bot: Bot) -> None:
    wrong = Bot("999:WRONG", base_url=f"{emu.url}/bot")
    try:
        with pytest.raises(InvalidToken):
            await wrong.initialize()  # initialize() calls getMe
    finally:
        await wrong.shutdown()
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")
    assert emu.calls[-1].error_code == 404


# ----------------------------------------------------------------------------- other methods


async def test_document_upload_and_download(emu: BotApiEmulator, bot: Bot) -> None:
    content = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    sent = await bot.send_document(
        ALICE, document=content, filename="booking.ics", caption="Your booking"
    )
    stored = emu.chat(ALICE).last.document
    assert stored is not None
    assert (stored.filename, stored.mime_type, stored.data) == (
        "booking.ics",
        "text/calendar",
        content,
    )
    assert emu.chat(ALICE).last.caption == "Your booking"
    assert sent.document.file_name == "booking.ics"
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content
    # Re-sending by file_id reuses the stored file.
    await bot.send_document(ALICE, document=sent.document.file_id)
    assert emu.chat(ALICE).last.document is stored


async def test_commands_menu_chat_and_actions(emu: BotApiEmulator, bot: Bot) -> None:
    scope = BotCommandScopeChat(ALICE)
    await emu.send_text(ALICE, "/start")  # a chat's own menu needs the person to open the bot
    await bot.set_my_commands([BotCommand("start", "Start")])
    await bot.set_my_commands([BotCommand("book", "Book")], scope=scope, language_code="ru")
    assert emu.commands() == [{"command": "start", "description": "Start"}]
    assert emu.commands({"type": "chat", "chat_id": ALICE}, "ru")[0]["command"] == "book"
    got = await bot.get_my_commands(scope=scope, language_code="ru")
    assert [c.command for c in got] == ["book"]
    await bot.delete_my_commands(scope=scope, language_code="ru")
    assert await bot.get_my_commands(scope=scope, language_code="ru") == ()
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    await bot.set_chat_menu_button(ALICE)
    assert emu.chat(ALICE).menu_button == {"type": "default"}
    chat = await bot.get_chat(ALICE)
    assert (chat.id, chat.type, chat.first_name) == (ALICE, "private", "Alice")
    await bot.send_chat_action(ALICE, "typing")
    assert emu.chat(ALICE).actions == ["typing"]


async def test_delete_message(emu: BotApiEmulator, bot: Bot) -> None:
    first = await bot.send_message(ALICE, "one")
    await bot.send_message(ALICE, "two")
    assert await bot.delete_message(ALICE, first.message_id)
    chat = emu.chat(ALICE)
    assert chat.texts == ["two"] and chat.sent_count == 2
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(ALICE, first.message_id)


async def test_long_poll_offset_and_conflict(emu: BotApiEmulator, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=dtm.timedelta(milliseconds=200)) == ()
    assert loop.time() - started >= 0.15

    polling = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    await emu.send_text(ALICE, "hi")
    updates = await asyncio.wait_for(polling, 1)
    assert [u.message.text for u in updates] == ["hi"]
    # Not confirmed yet: delivered again until a later offset confirms it.
    assert len(await bot.get_updates(timeout=0)) == 1
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
    await emu.wait_idle(timeout=1)

    async with Bot(TOKEN, base_url=f"{emu.url}/bot") as other:
        waiting = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.05)
        await other.get_updates(timeout=0)
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await asyncio.wait_for(waiting, 1)


async def test_next_call_and_subscription(emu: BotApiEmulator, bot: Bot) -> None:
    queue = emu.subscribe_calls()
    await bot.send_chat_action(ALICE, "typing")
    await bot.send_message(ALICE, "first")
    call = await emu.next_call("sendMessage", timeout=1)
    assert call.params["chat_id"] == ALICE and call.params["text"] == "first"
    assert call.result["message_id"] == 1
    with pytest.raises(TimeoutError):
        await emu.next_call(timeout=0.05)
    assert [queue.get_nowait().method for _ in range(queue.qsize())] == [
        "sendChatAction",
        "sendMessage",
    ]


# ----------------------------------------------------------------------------- webhook


async def test_webhook_delivery(emu: BotApiEmulator, bot: Bot) -> None:
    received: asyncio.Queue[tuple[dict[str, str], dict[str, Any]]] = asyncio.Queue()

    async def receiver(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")[1:]
        pairs = (line.partition(":") for line in lines if line)
        headers = {name.lower(): value.strip() for name, _, value in pairs}
        body = await reader.readexactly(int(headers["content-length"]))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
        await received.put((headers, json.loads(body)))

    server = await asyncio.start_server(receiver, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        url = f"http://127.0.0.1:{port}/hook"
        assert await bot.set_webhook(url, secret_token="s3cret")
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        await emu.send_text(ALICE, "/start")
        headers, update = await asyncio.wait_for(received.get(), 2)
        assert headers["x-telegram-bot-api-secret-token"] == "s3cret"
        assert update["message"]["text"] == "/start"
        assert update["message"]["entities"][0]["type"] == "bot_command"
        await emu.wait_idle(timeout=1)
        assert emu.webhook_deliveries == [update]
        assert await bot.delete_webhook()
        assert await bot.get_updates(timeout=0) == ()
    finally:
        server.close()
        await server.wait_closed()
