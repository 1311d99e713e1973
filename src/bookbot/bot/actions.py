"""Every button action in one table: who may press it and what it runs; and the one router.

A button's data names its action (bot/callbacks.py `Action`: its wire letter and the shape
of its argument). `route` is the bot's only CallbackQueryHandler: it decodes the data and
runs the action's handler from ACTIONS. Client buttons run a flow step through
`client.tap` (the user's chat read once, refusals answered as alerts); staff buttons run
through `staff.tap` (the asker's roles found, and checked by the use case).
"""

from __future__ import annotations

from telegram import Update

from bookbot.bot import callbacks
from bookbot.bot.callbacks import Action
from bookbot.bot.context import BotContext, Tapped
from bookbot.bot.handlers import admin, attendance, client, specialist, staff, waitlist

ACTIONS: dict[Action, Tapped] = {
    # the booking flow: anyone may press these (a client)
    Action.SERVICE: client.tap(client.service),
    Action.PLACE: client.tap(client.place),
    Action.NEAREST: client.tap(client.nearest),
    Action.SPECIALIST: client.tap(client.specialist),
    Action.MONTH: client.tap(client.month),
    Action.DAY: client.tap(client.day),
    Action.TIME: client.tap(client.time),
    Action.CHANGE_CONTACT: client.tap(client.change_contact),
    Action.CONFIRM: client.tap(client.confirm),
    Action.BACK: client.tap(client.back),
    Action.PAGE: client.tap(client.page),
    Action.NOTHING: client.nothing,
    Action.LANGUAGE: client.tap(client.set_language),
    # a client's own bookings (the use cases check that they are the client's)
    Action.ASK_CANCEL: client.tap(client.ask_cancel),
    Action.CANCEL: client.tap(client.cancel),
    Action.KEEP: client.tap(client.keep),
    Action.RESCHEDULE: client.tap(client.reschedule),
    Action.RATE: client.tap(client.rate),
    # an admin, or the specialist whose schedule the pending change is
    Action.CONFIRM_CHANGE: staff.tap(admin.answer_change),
    Action.KEEP_CHANGE: staff.tap(admin.answer_change),
    # the specialist the booking is with
    Action.SPECIALIST_CANCEL: staff.tap(specialist.cancel_with_reason),
    Action.SPECIALIST_KEEP: staff.tap(specialist.cancel_with_reason),
    # attendance: the client's "I'll come"; the specialist's (or an admin's) marks
    Action.ATTEND: attendance.attend,
    Action.MARK: staff.tap(attendance.mark),
    # the waitlist: an offer's buttons and /my (the use cases check whose they are)
    Action.TAKE_OFFER: client.tap(waitlist.take),
    Action.PASS_OFFER: client.tap(waitlist.pass_on),
    Action.LEAVE_OFFERED: client.tap(waitlist.leave_offered),
    Action.SOONER: client.tap(waitlist.sooner),
    Action.LEAVE_ENTRY: client.tap(waitlist.leave_entry),
    Action.WAIT: client.tap(waitlist.form),
    Action.JOIN: client.tap(waitlist.join),
}


async def route(update: Update, context: BotContext) -> None:
    """Answers a button press: decodes its data and runs its action; stale data is told so."""
    assert update.callback_query is not None
    pressed = callbacks.decode(update.callback_query.data)
    if pressed is None:
        await client.stale(update, context)
        return
    await ACTIONS[pressed.action](update, context, pressed)
