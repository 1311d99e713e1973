"""Attendance in the chat: "I'll come", the agenda with Arrived / No-show, /noshow, /forgive.

Handlers parse, call one use case of services/attendance.py, and render; the rules are
engine/bookings.py's (`may_attend`, `may_mark`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from telegram import Update

from bookbot import i18n
from bookbot.bot import arguments, views
from bookbot.bot.callbacks import Tap
from bookbot.bot.context import BotContext, language_of
from bookbot.bot.handlers import staff
from bookbot.bot.handlers.staff import Call
from bookbot.deps import Deps
from bookbot.engine.bookings import SPECIALIST, may_mark
from bookbot.engine.model import Mark
from bookbot.errors import BookbotError, Refused
from bookbot.services import attendance, catalog, schedules
from bookbot.services import chat as client_chat
from bookbot.services.people import Actor
from bookbot.services.visits import Visit

MARKS = {"a": Mark.ARRIVED, "n": Mark.NO_SHOW}  # the letter after a MARK button's id


# -- the client: "I'll come" --------------------------------------------------------------


async def attend(update: Update, context: BotContext, pressed: Tap) -> None:
    """ "I'll come" under the first reminder: noted once; a second press is thanked again."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    d = context.deps
    chat = await client_chat.chat(d.db, user.id)
    lang = language_of(update, context, chat.profile)
    try:
        said = await attendance.attend(d.db, d.clock(), user.id, pressed.number())
    except BookbotError as error:
        await query.answer(i18n.text(error.key, lang, **error.params), show_alert=True)
        return
    key = "attendance.thanks" if said.first else "attendance.said_already"
    await query.answer(i18n.text(key, lang, when=i18n.moment(said.visit.booking.start, lang)))


# -- staff: the agenda and its marks ------------------------------------------------------


async def agenda(
    d: Deps, now: datetime, actor: Actor, lang: str, days: int
) -> tuple[str, staff.Buttons]:
    """A specialist's own agenda of `days` days from today; today's has the mark buttons.

    Buttons only for the visits that may be marked now (begun, marks still open).
    """
    if actor.specialist is None:
        raise Refused("specialist.not_linked")
    found = await catalog.roster(d.db)
    zone = found.zones[actor.specialist]
    today = schedules.today(now, zone)
    last = today + timedelta(days=days - 1)
    entries = await schedules.agenda(d.db, now, actor, actor.specialist, today, last)
    markable = [h for h in entries if may_mark(h.booking, SPECIALIST, now, zone) is None]
    buttons = views.marks(markable, lang) if days == 1 else []
    return views.agenda(entries, lang, today, last), buttons


async def mark(update: Update, context: BotContext, lang: str, actor: Actor, pressed: Tap) -> None:
    """Arrived / No-show under /today: marks the visit and shows the agenda again."""
    d = context.deps
    booking_id, letter = pressed.argument.split("-")
    marked = await attendance.mark(d.db, d.clock(), actor, int(booking_id), MARKS[letter])
    if actor.specialist is None:  # an admin's tap on a specialist's agenda
        await staff.edit(update, _marked(marked, lang))
        return
    await staff.edit(update, *await agenda(d, d.clock(), actor, lang, 1))


async def _noshow(call: Call) -> None:
    marked = await attendance.mark(
        call.deps.db, call.now, call.actor, arguments.noshow(call.args), Mark.NO_SHOW
    )
    await call.reply(_marked(marked, call.lang))


async def _forgive(call: Call) -> None:
    client = arguments.forgive(call.args)
    await attendance.forgive(call.deps.db, call.now, call.actor, client)
    await call.reply(views.t(call.lang, "attendance.forgiven", id=client))


def _marked(marked: Visit, lang: str) -> str:
    kind = marked.booking.mark or Mark.ARRIVED
    return (
        views.t(lang, f"attendance.marked.{kind}", id=marked.booking.id)
        + "\n"
        + views.booking_line(marked, lang, with_day=True)
    )


# name → (what it does, may a linked specialist use it): as admin.COMMANDS
COMMANDS: dict[str, tuple[staff.Body, bool]] = {
    "noshow": (_noshow, True),
    "forgive": (_forgive, False),
}
