"""The waitlist in the chat: an offer's buttons, "Want it sooner?" and Leave under /my.

Handlers parse the tap, call one use case (services/waitlist.py) and render; they run
through `client.tap`, so a refusal is answered as an alert in the user's language.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup as Markup
from telegram import Update

from bookbot import i18n
from bookbot.bot import callbacks, outbox
from bookbot.bot.callbacks import Action, Tap
from bookbot.bot.context import BotContext
from bookbot.services import chat as client_chat
from bookbot.services import waitlist
from bookbot.services.waitlist import Waiting


async def take(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Take it: books the offered time (moving the booking the entry was made from)."""
    d, user = context.deps, _user(update)
    booked = await waitlist.take(d.db, d.clock(), user, pressed.number())
    await _edit(
        update,
        i18n.text(
            "waiting.taken",
            lang,
            service=booked.service.name,
            specialist=booked.specialist.name,
            when=i18n.moment(booked.booking.start, lang),
        ),
    )
    outbox.wake(context)


async def pass_on(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Not this one: the offer goes to the next who waits; the client keeps waiting."""
    d = context.deps
    await waitlist.pass_on(d.db, d.clock(), _user(update), pressed.number())
    await _answered(update, context, lang, "waiting.passed")


async def leave_offered(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Leave the waitlist, on an offer: the entry ends and the offer goes to the next."""
    d = context.deps
    await waitlist.leave_offered(d.db, d.clock(), _user(update), pressed.number())
    await _answered(update, context, lang, "waiting.left")


async def leave_entry(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Leave, under /my: the entry ends (an offer it holds goes to the next)."""
    d = context.deps
    await waitlist.leave(d.db, d.clock(), _user(update), pressed.number())
    await _answered(update, context, lang, "waiting.left")


async def _answered(update: Update, context: BotContext, lang: str, key: str) -> None:
    """Says what became of the offer or entry, and wakes the outbox for what it owes."""
    await _edit(update, i18n.text(key, lang))
    outbox.wake(context)


async def sooner(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Want it sooner?, under /my: waits for an earlier time for that booking."""
    d = context.deps
    entry = await waitlist.join(d.db, d.clock(), _user(update), from_booking=pressed.number())
    shown = await waitlist.entries(d.db, d.clock(), _user(update))
    mine = next((w for w in shown if w.entry.id == entry.id), None)
    assert mine is not None
    await _edit(update, joined(lang, mine))


def joined(lang: str, waiting: Waiting) -> str:
    """What the client is told on joining."""
    return i18n.text("waiting.joined", lang, **_names(lang, waiting))


def listing(lang: str, shown: list[Waiting]) -> tuple[str, Markup]:
    """The client's entries under /my, with Leave for each."""
    lines = [i18n.text("waiting.line", lang, **_names(lang, w)) for w in shown]
    buttons = [
        [
            Button(
                i18n.text("waiting.leave_one", lang, **_names(lang, w)),
                callback_data=callbacks.encode(Action.LEAVE_ENTRY, w.entry.id),
            )
        ]
        for w in shown
    ]
    return i18n.text("waiting.title", lang) + "\n" + "\n".join(lines), Markup(buttons)


def _names(lang: str, waiting: Waiting) -> dict[str, str]:
    return {
        "service": waiting.service,
        "specialist": waiting.specialist or i18n.text("waiting.any_specialist", lang),
        "first": i18n.day(waiting.entry.first, lang),
        "last": i18n.day(waiting.entry.last, lang),
    }


def _user(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


async def _edit(update: Update, text: str) -> None:
    """Replaces the tapped message's text, and its buttons with none."""
    query = update.callback_query
    assert query is not None
    await query.edit_message_text(text)
