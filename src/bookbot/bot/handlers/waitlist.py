"""The waitlist in the chat: joining, an offer's buttons, "Want it sooner?", Leave under /my.

A client joins from the calendar (nothing free in the month shown, or the soonest free
day far off) or from a day that filled up: a form lets them narrow the dates and pick
parts of the day, then Join.

Handlers parse the tap, call one use case (services/waitlist.py) and render; they run
through `taps.tap`, so a refusal is answered as an alert in the user's language.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup as Markup
from telegram import Update

from bookbot import i18n
from bookbot.bot import callbacks, keyboards, outbox
from bookbot.bot.callbacks import Action, Tap
from bookbot.bot.context import BotContext
from bookbot.bot.handlers import payments as payments_chat
from bookbot.bot.handlers.taps import edit, user_of
from bookbot.engine.waitlist import PARTS, Entry
from bookbot.errors import BookbotError
from bookbot.services import chat as client_chat
from bookbot.services import waitlist
from bookbot.services.waitlist import Waiting

CHOSEN = "✓ "
NARROWER = (7, 14)  # the form also offers the first week, and the first two, of its dates


async def form(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """The waitlist form: which of the offered dates, which parts of the day; then Join."""
    _draft(chat)
    first, last = pressed.span()
    await edit(update, *form_view(lang, first, last, pressed.option(), pressed.parts()))


def form_view(lang: str, first: date, last: date, option: int, parts: int) -> tuple[str, Markup]:
    """The form's text and buttons: the dates offered (`option` chosen), the parts (bits)."""
    ranges = _ranges(first, last)
    if option >= len(ranges):
        raise BookbotError("bot.stale_button")
    chosen = ranges[option]
    rows = [
        [
            Button(
                (CHOSEN if i == option else "") + _span(lang, *span),
                callback_data=callbacks.waiting(first, last, i, parts),
            )
        ]
        for i, span in enumerate(ranges)
    ]
    rows.append(
        [
            Button(
                (CHOSEN if parts & (1 << bit) else "") + i18n.text(f"waiting.part.{part}", lang),
                callback_data=callbacks.waiting(first, last, option, parts ^ (1 << bit)),
            )
            for bit, part in enumerate(PARTS)
        ]
    )
    rows.append(
        [
            Button(
                (CHOSEN if not parts else "") + i18n.text("waiting.any_time", lang),
                callback_data=callbacks.waiting(first, last, option, 0),
            )
        ]
    )
    rows.append(
        [Button(i18n.text("waiting.join", lang), callback_data=callbacks.join(*chosen, parts))]
    )
    rows.append(keyboards.back(lang, "calendar"))
    said = {"dates": _span(lang, *chosen), "parts": parts_text(lang, _named_parts(parts))}
    text = i18n.text("waiting.form", lang, **said)
    return text, Markup(rows)


def _ranges(first: date, last: date) -> list[tuple[date, date]]:
    """The dates a form offers: all it was opened with, then its first week and two."""
    return [(first, last)] + [
        (first, first + timedelta(days=days - 1))
        for days in NARROWER
        if first + timedelta(days=days - 1) < last
    ]


def _span(lang: str, first: date, last: date) -> str:
    if first == last:
        return i18n.day(first, lang)
    return i18n.text("waiting.span", lang, first=i18n.day(first, lang), last=i18n.day(last, lang))


def _named_parts(parts: int) -> list[str]:
    """The parts of the day that bits name (1 morning, 2 afternoon, 4 evening), in order."""
    return [part for bit, part in enumerate(PARTS) if parts & (1 << bit)]


def parts_text(lang: str, parts: Collection[str]) -> str:
    """Parts of the day as the client and staff read them; none is any time of day."""
    if not parts:
        return i18n.text("waiting.any_time", lang)
    return ", ".join(i18n.text(f"waiting.part.{part}", lang) for part in PARTS if part in parts)


async def join(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Join under the form: waits for the chosen service and specialist on those dates."""
    d, (service, specialist) = context.deps, _draft(chat)
    first, last = pressed.span()
    parts = _named_parts(pressed.parts())
    entry = await waitlist.join(
        d.db,
        d.clock(),
        user_of(update).id,
        service,
        specialist,
        first=first,
        last=last,
        parts=parts,
        location=chat.draft.location,  # a chain's place chosen under Where?, or any
    )
    await _say_joined(update, context, lang, entry)


def _draft(chat: client_chat.Chat) -> tuple[str, str]:
    """The service and specialist the client's flow stands at; a form without them is stale."""
    if chat.draft.service is None or chat.draft.specialist is None:
        raise BookbotError("bot.stale_button")
    return chat.draft.service, chat.draft.specialist


async def take(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Take it: books the offered time (moving the booking the entry was made from)."""
    d, user = context.deps, user_of(update).id
    booked = await waitlist.take(
        d.db, d.clock(), user, pressed.number(), d.policy, payments_chat.provider(d.settings)
    )
    if booked.booking.due is not None:
        await payments_chat.ask(update, context, lang, booked)
        return
    await edit(
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
    await waitlist.pass_on(d.db, d.clock(), user_of(update).id, pressed.number())
    await _answered(update, context, lang, "waiting.passed")


async def leave_offered(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Leave the waitlist, on an offer: the entry ends and the offer goes to the next."""
    d = context.deps
    await waitlist.leave_offered(d.db, d.clock(), user_of(update).id, pressed.number())
    await _answered(update, context, lang, "waiting.left")


async def leave_entry(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Leave, under /my: the entry ends (an offer it holds goes to the next)."""
    d = context.deps
    await waitlist.leave(d.db, d.clock(), user_of(update).id, pressed.number())
    await _answered(update, context, lang, "waiting.left")


async def _answered(update: Update, context: BotContext, lang: str, key: str) -> None:
    """Says what became of the offer or entry, and wakes the outbox for what it owes."""
    await edit(update, i18n.text(key, lang))
    outbox.wake(context)


async def sooner(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Want it sooner?, under /my: waits for an earlier time for that booking."""
    d = context.deps
    entry = await waitlist.join(d.db, d.clock(), user_of(update).id, from_booking=pressed.number())
    await _say_joined(update, context, lang, entry)


async def _say_joined(update: Update, context: BotContext, lang: str, entry: Entry) -> None:
    d = context.deps
    shown = await waitlist.entries(d.db, d.clock(), user_of(update).id)
    mine = next((w for w in shown if w.entry.id == entry.id), None)
    assert mine is not None
    await edit(update, joined(lang, mine))


def joined(lang: str, waiting: Waiting) -> str:
    """What the client is told on joining."""
    return i18n.text("waiting.joined", lang, **_names(lang, waiting))


def listing(lang: str, shown: list[Waiting]) -> tuple[str, Markup]:
    """The client's entries under /my, with Leave for each."""
    lines = [
        i18n.text("waiting.line", lang, parts=parts_text(lang, w.entry.parts), **_names(lang, w))
        for w in shown
    ]
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
