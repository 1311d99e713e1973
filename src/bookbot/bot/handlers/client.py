"""The client's commands (/start, /my, /help, /language) and the buttons under /my.

Handlers only parse the tap, call one use case (services/), and render; every rule lives
in the engine. The booking flow itself is bot/handlers/booking.py.
"""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardMarkup, Update

from bookbot import i18n
from bookbot.bot import keyboards, menus, outbox, paging
from bookbot.bot.callbacks import Tap
from bookbot.bot.context import BotContext, language
from bookbot.bot.handlers import payments as payments_chat
from bookbot.bot.handlers import waitlist as waitlist_chat
from bookbot.bot.handlers.taps import edit, phrase, reply, user_of
from bookbot.engine.bookings import CLIENT
from bookbot.errors import BookbotError
from bookbot.notify import terms
from bookbot.services import availability, bookings, people, reviews, waitlist
from bookbot.services import chat as client_chat
from bookbot.services.chat import Profile
from bookbot.services.visits import Visit


async def start(update: Update, context: BotContext) -> None:
    """Starts the flow afresh from any step: forgets the draft, shows the services."""
    d, lang = context.deps, await language(update, context)
    user = update.effective_user
    assert user is not None and update.effective_message is not None
    await client_chat.restart(d.db, d.clock(), user.id)
    offered = await availability.services(d.db)
    await update.effective_message.reply_text(
        phrase(lang, "choose_service"), reply_markup=keyboards.services(lang, offered)
    )


async def my(update: Update, context: BotContext) -> None:
    """Lists the client's coming bookings (Cancel, Reschedule, sooner), then their waiting."""
    d, lang = context.deps, await language(update, context)
    assert update.effective_user is not None and update.effective_message is not None
    coming = await client_chat.coming(d.db, d.clock(), update.effective_user.id)
    waiting = await waitlist.entries(d.db, d.clock(), update.effective_user.id)
    if not coming and not waiting:
        await reply(update, phrase(lang, "my_none"))
        return
    if coming:
        await reply(update, *mine(lang, coming, 1, d.clock()))
    if waiting:
        await reply(update, *waitlist_chat.listing(lang, waiting))


def mine(
    lang: str, coming: list[Visit], number: int, now: datetime
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Page `number` of the client's coming bookings: its lines and its buttons.

    A visit past its cut-off says whom to call instead, and has no buttons.
    """
    shown = paging.cut(coming, number)
    lines = []
    for h in shown.items:
        line = phrase(
            lang,
            "my_line",
            service=h.service.name,
            specialist=h.specialist.name,
            when=i18n.moment(h.booking.start, lang),
        )
        lines.append(line if h.client_may_change(now) else f"{line}\n  {terms.call(h, lang)}")
    return phrase(lang, "my_title") + "\n" + "\n".join(lines), keyboards.mine(lang, shown, now)


async def help_text(update: Update, context: BotContext) -> None:
    """Says what the bot can do; staff also get their commands, each in one line."""
    d, lang = context.deps, await language(update, context)
    assert update.effective_message is not None and update.effective_user is not None
    lines = [phrase(lang, "help")]
    actor = await people.who(d.db, update.effective_user.id, d.settings.admins)
    if actor.staff:
        lines.append("\n" + i18n.text("attendance.help_staff", lang))
        lines += [
            f"/{name}: {menus.description(name, lang)}"
            for name in menus.names(actor.admin, actor.specialist is not None)
            if name not in menus.CLIENT
        ]
    await update.effective_message.reply_text("\n".join(lines))


async def choose_language(update: Update, context: BotContext) -> None:
    """Offers the languages."""
    lang = await language(update, context)
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        phrase(lang, "choose_language"), reply_markup=keyboards.languages(lang)
    )


async def ask_cancel(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Cancel under /my: asks whether to cancel that booking."""
    d, user = context.deps, user_of(update)
    now = d.clock()
    coming = await client_chat.coming(d.db, now, user.id)
    mine = next((h for h in coming if h.booking.id == pressed.number()), None)
    if mine is None:
        raise BookbotError("error.unknown_booking", id=pressed.number())
    if not mine.client_may_change(now):  # a button drawn before the cut-off; cancel re-checks
        raise BookbotError("refused.past_cutoff", id=pressed.number())
    await edit(
        update,
        phrase(
            lang,
            "cancel_question",
            service=mine.service.name,
            specialist=mine.specialist.name,
            when=i18n.moment(mine.booking.start, lang),
        ),
        keyboards.cancel_check(lang, pressed.number()),
    )


async def cancel(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Yes, cancel it: cancels the booking."""
    d, user = context.deps, user_of(update)
    gone = await bookings.cancel(d.db, d.clock(), pressed.number(), CLIENT, client=user.id)
    said = phrase(
        lang,
        "cancelled",
        service=gone.service.name,
        specialist=gone.specialist.name,
        when=i18n.moment(gone.booking.start, lang),
    )
    refunds = await payments_chat.refund_lines(d, pressed.number(), lang)
    await edit(update, "\n".join([said, *refunds]))
    outbox.wake(context)


async def keep(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """No, keep it: says so."""
    await edit(update, phrase(lang, "kept"))


async def rate(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Stars under a visit: keeps the rating."""
    d, user = context.deps, user_of(update)
    booking_id, stars = (int(part) for part in pressed.argument.split("-"))
    await reviews.save(d.db, d.clock(), booking_id, stars, telegram_id=user.id)
    await edit(update, phrase(lang, "rated", stars="★" * stars))


async def set_language(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """A language chosen: remembers it."""
    d, user = context.deps, user_of(update)
    if pressed.argument not in i18n.languages():
        raise BookbotError("bot.stale_button")
    await client_chat.remember(d.db, Profile(user.id, locale=pressed.argument))
    await edit(update, phrase(pressed.argument, "language_set"))
