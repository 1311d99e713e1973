"""A local emulator of the Telegram Bot API that speaks real HTTP on 127.0.0.1.

The emulator plays Telegram's part for one bot and any number of private chats.  A bot
under test talks to it with python-telegram-bot's real HTTP client; the test (or the
terminal demo) plays the users::

    async with BotApiEmulator() as emu:
        app = (
            ApplicationBuilder()
            .token(emu.token)
            .base_url(f"{emu.url}/bot")          # PTB appends the token itself
            .base_file_url(f"{emu.url}/file/bot")
            .build()
        )
        ...  # add handlers, initialize/start the app, start polling
        alice = emu.user(42, first_name="Alice")
        await emu.send_text(alice, "/start")
        await emu.wait_idle()
        assert "Welcome" in emu.chat(alice).last.text

What it implements
    ``POST|GET /bot{token}/{method}`` with JSON, urlencoded or multipart bodies (fields that
    carry JSON objects, such as ``reply_markup``, may arrive JSON-encoded and are decoded),
    and ``GET /file/bot{token}/{file_path}`` for downloads.  Supported methods: getMe,
    getUpdates (offset confirmation, long polling, limit), setWebhook / deleteWebhook /
    getWebhookInfo (updates are then POSTed to the webhook), sendMessage, editMessageText,
    editMessageReplyMarkup, deleteMessage, answerCallbackQuery, sendDocument, sendVenue, getFile,
    sendChatAction, setMyCommands / getMyCommands / deleteMyCommands, setChatMenuButton /
    getChatMenuButton, getChat, close and logOut.  Method names are case-insensitive, as
    on Telegram.  Errors use Telegram's JSON shape and HTTP status, so python-telegram-bot
    raises its real exceptions (``BadRequest``, ``Forbidden``, ``RetryAfter``, ``Conflict``,
    ``InvalidToken``).  ``parse_mode`` HTML, MarkdownV2 and Markdown are parsed the way
    Telegram does (approximately): messages store the rendered plain text, and malformed
    markup is rejected with "can't parse entities".

Flood control
    Off by default; ``BotApiEmulator(flood=FloodControl())`` enforces Telegram's limits on
    messages (about one a second into a chat, with a short burst, and about 30 a second
    overall): a send over them gets 429 with ``parameters.retry_after``, and a send during
    that wait is refused again and counted in :attr:`BotApiEmulator.sends_in_flood_wait`.
    Single failures can still be injected with :meth:`BotApiEmulator.fail_next`.

What it does not do
    Groups and channels, media other than documents, inline mode, shipping, and message
    entities in results.

Payments
    sendInvoice, answerPreCheckoutQuery and refundStarPayment (``payments``); a test pays
    with :meth:`BotApiEmulator.pay`, or in two steps with ``check_out`` and ``complete``.

Waiting without sleeps
    :meth:`BotApiEmulator.wait_idle` returns once the bot has fetched every update, has no
    request in progress, and has been silent for a short quiet period; see its docstring.
    :meth:`BotApiEmulator.next_call` and :meth:`BotApiEmulator.subscribe_calls` follow the
    bot's calls as they happen.

Where each part lives
    ``server`` (HTTP, lifecycle, observing the bot, fault injection), ``state`` (the chats
    and update queue every part shares), ``users`` (acting as users), ``methods`` (the
    method table) with ``messages``, ``updates`` and ``menus`` (the methods by what they
    touch), ``chats`` (the records tests read), ``markup`` (keyboard and text limits),
    ``render`` (parse modes), ``faults`` (injected failures and flood control),
    ``params`` (request decoding) and ``errors`` (Telegram's error shape).
"""

from .chats import (
    CallbackQueryRecord,
    ChatMessage,
    ChatState,
    ChatUser,
    InlineButton,
    ReplyButton,
    StoredFile,
)
from .errors import ApiError
from .faults import FaultRule, FloodControl
from .payments import TEST_PROVIDER, Checkout, Paid
from .server import ApiCall, BotApiEmulator

__all__ = [
    "ApiCall",
    "ApiError",
    "BotApiEmulator",
    "CallbackQueryRecord",
    "ChatMessage",
    "ChatState",
    "ChatUser",
    "Checkout",
    "FaultRule",
    "FloodControl",
    "InlineButton",
    "Paid",
    "ReplyButton",
    "StoredFile",
    "TEST_PROVIDER",
]
