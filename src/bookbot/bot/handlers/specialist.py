"""Handlers for specialists: the invite link, /today and /week, cancelling with a reason.

A specialist's schedule commands (/dayoff and the rest, for themselves) are the admin's
handlers, which the use cases keep to the specialist's own schedule.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bookbot.bot import callbacks, outbox, views
from bookbot.bot.callbacks import Action, Tap
from bookbot.bot.context import BotContext, language
from bookbot.bot.handlers import attendance, staff
from bookbot.bot.handlers.staff import Call
from bookbot.errors import BookbotError
from bookbot.services import people, reasons
from bookbot.services.people import Actor

INVITE = r"^/start(?:@\w+)?\s+[A-Za-z0-9_-]{12}$"  # secrets.token_urlsafe(9) is 12 long


# -- the invite link ---------------------------------------------------------------------


async def join(update: Update, context: BotContext) -> None:
    """`/start <code>` from an invite link: links this account to the invited specialist."""
    d, lang = context.deps, await language(update, context)
    assert update.effective_user is not None
    code = (context.args or [""])[0]
    try:
        linked = await people.link(d.db, d.clock(), update.effective_user.id, code)
    except BookbotError as error:
        await staff.reply(update, staff.problem(error, lang))
        raise ApplicationHandlerStop from None
    await staff.refresh_menu(context, update.effective_user.id)
    if linked.previous is not None:  # told through the outbox, and back to a client's menu
        outbox.wake(context)
        await staff.refresh_menu(context, linked.previous)
    await staff.reply(update, views.t(lang, "specialist.linked", name=linked.specialist.name))
    raise ApplicationHandlerStop


# -- the agenda --------------------------------------------------------------------------


def _agenda(days: int) -> staff.Body:
    async def body(call: Call) -> None:
        await call.reply(*await attendance.agenda(call.deps, call.now, call.actor, call.lang, days))

    return body


# -- cancelling with a reason ------------------------------------------------------------


async def cancel_with_reason(
    update: Update, context: BotContext, lang: str, actor: Actor, pressed: Tap
) -> None:
    """Cancel under a new-booking message asks for the reason; "Don't cancel" forgets it."""
    d = context.deps
    if pressed.action is Action.SPECIALIST_KEEP:
        await reasons.drop_reason(d.db, actor.telegram_id)
        await staff.edit(update, views.t(lang, "specialist.kept"))
        return
    held = await reasons.ask_reason(d.db, d.clock(), actor, pressed.number())
    await staff.reply(
        update,
        views.t(lang, "specialist.ask_reason")
        + "\n"
        + views.booking_line(held, lang, with_day=True),
        [
            [
                (
                    views.t(lang, "specialist.dont_cancel"),
                    callbacks.encode(Action.SPECIALIST_KEEP, pressed.number()),
                )
            ]
        ],
    )


async def reason(update: Update, context: BotContext) -> None:
    """A text while a reason is awaited cancels that booking; otherwise it is not ours."""
    assert update.effective_user is not None and update.effective_message is not None
    d = context.deps
    now = d.clock()
    if await reasons.awaited_reason(d.db, now, update.effective_user.id) is None:
        return  # the client's handlers take it
    lang = await language(update, context)
    actor = await people.who(d.db, update.effective_user.id, d.settings.admins)
    text = (update.effective_message.text or "").strip()[:500]
    try:
        held = await reasons.give_reason(d.db, now, actor, text)
    except BookbotError as error:
        await staff.reply(update, staff.problem(error, lang))
        raise ApplicationHandlerStop from None
    outbox.wake(context)
    await staff.reply(
        update,
        views.t(lang, "specialist.cancelled")
        + "\n"
        + views.booking_line(held, lang, with_day=True),
    )
    raise ApplicationHandlerStop


# name → (what it does, may a linked specialist use it): as admin.COMMANDS
COMMANDS: dict[str, tuple[staff.Body, bool]] = {
    "today": (_agenda(1), True),
    "week": (_agenda(7), True),
}
