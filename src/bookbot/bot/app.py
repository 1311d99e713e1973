"""The bot: build_application makes the PTB application and registers every handler.

What it is built from (database, settings, clock, sender) comes from wiring.py.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from telegram import Bot, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PreCheckoutQueryHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bookbot.bot import actions, menus, outbox
from bookbot.bot.context import BotContext
from bookbot.bot.handlers import admin, attendance, booking, client, payments, specialist, staff
from bookbot.bot.inbox import Intake
from bookbot.bot.limiter import TELEGRAM, UNPACED, Limiter
from bookbot.config import Settings
from bookbot.deps import Deps

CONCURRENT = 32
# handlers/taps.py edits through do_api_request on purpose (see edit there).
warnings.filterwarnings(
    "ignore", message=r"Please use 'Bot\.editMessageText'", category=PTBUserWarning
)
# Connections to the Bot API. httpcore checks every pooled connection on every request,
# so a big pool costs CPU on each call; eight keep up with CONCURRENT handlers (measured
# with bench/taps.py: 157 taps/s with PTB's default of 256, over 400 with 4 or 8).
CONNECTIONS = 8
MENU_GROUP = -2  # before anything answers: a staff member's first update sets their menu
STAFF_GROUP = -1  # before the client's handlers, which would answer those updates too
TEXT = filters.TEXT & ~filters.COMMAND


def build_application(
    settings: Settings, collaborators: Callable[[Bot], Deps], *, polling: bool = True
) -> Application:
    """Wires the bot: its Bot API endpoint, its collaborators (given its Bot) and every handler.

    With `polling`, its intake polls Telegram (start it with `inbox.intake(app).start()`);
    without, updates come from the webhook of `bookbot serve` instead.
    """
    # Updates are handled concurrently: every tap re-reads its state from the database,
    # so order between two taps does not matter, and one slow request holds no one up.
    builder = (
        ApplicationBuilder()
        .context_types(ContextTypes(context=BotContext))
        .token(settings.require_token())
        .concurrent_updates(CONCURRENT)
        .connection_pool_size(CONNECTIONS)
        .pool_timeout(10)
        .rate_limiter(Limiter(TELEGRAM if settings.pace else UNPACED))
    )
    if settings.api_url:
        base = settings.api_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")

    async def open_store(application: Application) -> None:
        await deps.db.prepare()
        await menus.publish(application.bot)
        await admin.publish_menus(application)

    async def close_store(_: Application) -> None:
        await deps.db.close()

    # PTB's Updater confirms updates to Telegram before they are handled; bot/inbox.py
    # takes them in instead, storing each before it is confirmed.
    builder = builder.updater(None)
    application = builder.post_init(open_store).post_shutdown(close_store).build()
    deps = collaborators(application.bot)
    application.bot_data["deps"] = deps
    application.bot_data["intake"] = Intake(application, deps.db, polling=polling)

    # Staff first (lower groups run first). A staff member's first update sets their menu;
    # then staff commands, an invite link, and a specialist's awaited cancel reason. The
    # last two stop there, so the client's /start and text handlers do not answer them too.
    application.add_handler(TypeHandler(Update, staff.first_contact), group=MENU_GROUP)
    for name, (body, specialists) in {
        **admin.COMMANDS,
        **specialist.COMMANDS,
        **attendance.COMMANDS,
        **payments.COMMANDS,
    }.items():
        command = staff.command(name, body, specialists=specialists)
        application.add_handler(CommandHandler(name, command), group=STAFF_GROUP)
    invite = CommandHandler("start", specialist.join, filters=filters.Regex(specialist.INVITE))
    application.add_handler(invite, group=STAFF_GROUP)
    application.add_handler(MessageHandler(TEXT, specialist.reason), group=STAFF_GROUP)
    # Clients: the flow's commands, the contact asked for while a time is held.
    application.add_handler(CommandHandler("start", client.start))
    application.add_handler(CommandHandler("my", client.my))
    application.add_handler(CommandHandler("help", client.help_text))
    application.add_handler(CommandHandler("language", client.choose_language))
    application.add_handler(MessageHandler(filters.CONTACT, booking.contact))
    application.add_handler(MessageHandler(filters.LOCATION, booking.shared_location))
    # Payments: the pre-checkout question (answered within Telegram's 10 s), the payment.
    application.add_handler(PreCheckoutQueryHandler(payments.pre_checkout))
    application.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, payments.paid))
    application.add_handler(MessageHandler(TEXT, booking.typed_contact))
    # Every button of everyone: one router, one table (bot/actions.py).
    application.add_handler(CallbackQueryHandler(actions.route))
    # What is owed (reminders, notices): delivered every few seconds, and at once on a change.
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        outbox.deliver_due, interval=settings.rounds, first=1, name="outbox"
    )
    return application
