"""Every button action in one table: who may press it and what it runs; and the one router.

A button's data names its action (bot/callbacks.py `Action`: its wire letter and the shape
of its argument). `route` is the bot's only CallbackQueryHandler: it decodes the data and
runs the action's handler from ACTIONS. Client buttons run a flow step through
`taps.tap` (the user's chat read once, refusals answered as alerts); staff buttons run
through `staff.tap` (the asker's roles found, and checked by the use case).
"""

from __future__ import annotations

from telegram import Update

from bookbot.bot import callbacks
from bookbot.bot.callbacks import Action
from bookbot.bot.context import BotContext, Tapped
from bookbot.bot.handlers import (
    admin,
    attendance,
    booking,
    client,
    specialist,
    staff,
    taps,
    waitlist,
)

ACTIONS: dict[Action, Tapped] = {
    # the booking flow: anyone may press these (a client)
    Action.SERVICE: taps.tap(booking.service),
    Action.PLACE: taps.tap(booking.place),
    Action.NEAREST: taps.tap(booking.nearest),
    Action.SPECIALIST: taps.tap(booking.specialist),
    Action.MONTH: taps.tap(booking.month),
    Action.DAY: taps.tap(booking.day),
    Action.TIME: taps.tap(booking.time),
    Action.CHANGE_CONTACT: taps.tap(booking.change_contact),
    Action.CONFIRM: taps.tap(booking.confirm),
    Action.BACK: taps.tap(booking.back),
    Action.PAGE: taps.tap(booking.page),
    Action.NOTHING: taps.nothing,
    Action.LANGUAGE: taps.tap(client.set_language),
    # a client's own bookings (the use cases check that they are the client's)
    Action.ASK_CANCEL: taps.tap(client.ask_cancel),
    Action.CANCEL: taps.tap(client.cancel),
    Action.KEEP: taps.tap(client.keep),
    Action.RESCHEDULE: taps.tap(booking.reschedule),
    Action.RATE: taps.tap(client.rate),
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
    Action.TAKE_OFFER: taps.tap(waitlist.take),
    Action.PASS_OFFER: taps.tap(waitlist.pass_on),
    Action.LEAVE_OFFERED: taps.tap(waitlist.leave_offered),
    Action.SOONER: taps.tap(waitlist.sooner),
    Action.LEAVE_ENTRY: taps.tap(waitlist.leave_entry),
    Action.WAIT: taps.tap(waitlist.form),
    Action.JOIN: taps.tap(waitlist.join),
}


async def route(update: Update, context: BotContext) -> None:
    """Answers a button press: decodes its data and runs its action; stale data is told so."""
    assert update.callback_query is not None
    pressed = callbacks.decode(update.callback_query.data)
    if pressed is None:
        await taps.stale(update, context)
        return
    await ACTIONS[pressed.action](update, context, pressed)
