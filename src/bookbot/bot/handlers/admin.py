"""Handlers for admins (and for specialists changing their own schedule).

Each command parses its arguments (arguments.py), calls one use case (services/), and
answers with what changed and the schedule as it now stands. A change that would cancel
live bookings first lists them with Confirm / Keep; the question is kept in the database,
so the buttons still work after a restart.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import Application

from bookbot import i18n
from bookbot.bot import arguments, outbox, views
from bookbot.bot.callbacks import Action, Tap
from bookbot.bot.context import BotContext
from bookbot.bot.handlers import locations, staff
from bookbot.bot.handlers import waitlist as waitlist_chat
from bookbot.bot.handlers.staff import Call
from bookbot.errors import BadInput, Refused
from bookbot.services import catalog, people, reviews, schedules, stats, waitlist
from bookbot.services.people import Actor

WEEK = timedelta(days=6)


# -- schedule changes --------------------------------------------------------------------


def _changing(kind: str) -> staff.Body:
    async def body(call: Call) -> None:
        who, rest, today = await call.target()
        asked = arguments.CHANGES[kind](who, rest, today)
        outcome = await schedules.change(call.deps.db, call.now, call.actor, asked)
        if outcome.pending is not None:
            text, buttons = views.pending(outcome, call.lang)
            await call.reply(text, buttons)
            return
        first, last = views.shown_days(outcome.change, today)
        found = await schedules.view(call.deps.db, call.now, call.actor, who, first, last)
        await call.reply(views.changed(outcome, call.lang) + "\n\n" + views.view(found, call.lang))

    return body


async def answer_change(
    update: Update, context: BotContext, lang: str, actor: Actor, pressed: Tap
) -> None:
    """Confirm or Keep under a change that cancels bookings: applies it, or drops it."""
    d = context.deps
    if pressed.action is Action.KEEP_CHANGE:
        await schedules.keep(d.db, d.clock(), actor, pressed.number())
        await staff.edit(update, views.t(lang, "admin.pending.kept"))
        return
    outcome = await schedules.confirm(d.db, d.clock(), actor, pressed.number())
    outbox.wake(context)
    await staff.edit(update, views.changed(outcome, lang) + "\n" + views.cancelled(outcome, lang))
    today = schedules.today(
        d.clock(), (await catalog.roster(d.db)).zones.get(outcome.specialist.id, "UTC")
    )
    first, last = views.shown_days(outcome.change, today)
    found = await schedules.view(d.db, d.clock(), actor, outcome.specialist.id, first, last)
    await staff.reply(update, views.view(found, lang))


# -- what stands -------------------------------------------------------------------------


async def _schedule(call: Call) -> None:
    who, rest, today = await call.target()
    first = arguments.day(rest[0], today) if rest else today
    found = await schedules.view(call.deps.db, call.now, call.actor, who, first, first + WEEK)
    await call.reply(views.view(found, call.lang))


async def _bookings(call: Call) -> None:
    found = await catalog.roster(call.deps.db)
    args, who = call.args, None
    if args and args[0] in found.zones:
        who, args = args[0], args[1:]
    elif call.actor.specialist and not call.actor.admin:
        who = call.actor.specialist
    elif args and not arguments.looks_like_day(args[0]):
        who, args = arguments.identifier(args[0]), args[1:]
    today = schedules.today(call.now, found.zones.get(who or "", found.timezone))
    day = arguments.day(args[0], today) if args else today
    entries = await schedules.agenda(call.deps.db, call.now, call.actor, who, day, day)
    await call.reply(views.agenda(entries, call.lang, day, day, with_specialist=who is None))


# -- people ------------------------------------------------------------------------------


async def _invite(call: Call) -> None:
    arguments.need(call.args, 1)
    made = await people.invite(
        call.deps.db, call.now, call.actor, arguments.identifier(call.args[0])
    )
    name = (await catalog.roster(call.deps.db)).names[made.specialist]
    link = f"https://t.me/{call.context.bot.username}?start={made.code}"
    await call.reply(
        views.t(call.lang, "admin.invited", specialist=name, link=link, days=people.INVITE_TTL.days)
    )


async def _promote(call: Call) -> None:
    arguments.need(call.args, 1)
    telegram_id = arguments.telegram_id(call.args[0])
    added = await people.promote(call.deps.db, call.now, call.actor, telegram_id)
    await staff.refresh_menu(call.context, telegram_id)
    key = "admin.promoted" if added else "admin.already_admin"
    await call.reply(views.t(call.lang, key, id=telegram_id))


async def _demote(call: Call) -> None:
    arguments.need(call.args, 1)
    telegram_id = arguments.telegram_id(call.args[0])
    removed = await people.demote(call.deps.db, call.actor, telegram_id, call.deps.settings.admins)
    await staff.refresh_menu(call.context, telegram_id)
    key = "admin.demoted" if removed else "admin.not_promoted"
    await call.reply(views.t(call.lang, key, id=telegram_id))


# -- the catalog -------------------------------------------------------------------------


async def _add_service(call: Call) -> None:
    made = await catalog.add_service(call.deps.db, call.actor, arguments.new_service(call.args))
    length = (
        views.minutes(made.duration, call.lang)
        if made.duration
        else views.t(call.lang, "admin.slot_length")
    )
    await call.reply(
        views.t(call.lang, "admin.service_added", id=made.id, name=made.name, length=length)
    )


async def _rename_service(call: Call) -> None:
    service_id, name = arguments.named(call.args)
    done = await catalog.rename_service(call.deps.db, call.actor, service_id, name)
    await call.reply(views.t(call.lang, "admin.service_renamed", id=done.id, name=done.name))


async def _add_specialist(call: Call) -> None:
    specialist_id, name = arguments.named(call.args)
    made = await catalog.add_specialist(call.deps.db, call.actor, specialist_id, name)
    await call.reply(views.t(call.lang, "admin.specialist_added", id=made.id, name=made.name))


async def _rename_specialist(call: Call) -> None:
    specialist_id, name = arguments.named(call.args)
    done = await catalog.rename_specialist(call.deps.db, call.actor, specialist_id, name)
    await call.reply(views.t(call.lang, "admin.specialist_renamed", id=done.id, name=done.name))


async def _offer(call: Call) -> None:
    specialist_id, services = arguments.offered(call.args)
    done = await catalog.offer(call.deps.db, call.actor, specialist_id, services)
    await call.reply(
        views.t(call.lang, "admin.offered", name=done.name, services=", ".join(done.services))
    )


async def _reviews(call: Call) -> None:
    if call.args and not call.actor.admin and call.args[0] != call.actor.specialist:
        raise Refused("admin.not_yours")
    whose = call.args[0] if call.args else (None if call.actor.admin else call.actor.specialist)
    found = await reviews.listed(call.deps.db, whose)
    await call.reply(views.reviews(found[:REVIEWS_SHOWN], call.lang))


async def _stats(call: Call) -> None:
    first = last = None
    if call.args:
        arguments.need(call.args, 2)
        if len(call.args) > 2:
            raise BadInput("admin.bad.extra", value=call.args[2])
        today = schedules.today(call.now, (await catalog.roster(call.deps.db)).timezone)
        first, last = arguments.day(call.args[0], today), arguments.day(call.args[1], today)
    found = await stats.figures(call.deps.db, first, last, call.now)
    await call.reply(views.stats(found, call.lang))


async def _waitlist(call: Call) -> None:
    service = arguments.identifier(call.args[0]) if call.args else None
    found = await waitlist.waiting(call.deps.db, call.now, service)
    if not found:
        await call.reply(views.t(call.lang, "waiting.none"))
        return
    lines = [
        views.t(
            call.lang,
            "waiting.staff_line",
            id=w.entry.id,
            joined=i18n.brief(w.entry.joined_at, call.lang),
            service=w.service,
            specialist=w.specialist or i18n.text("waiting.any_specialist", call.lang),
            first=i18n.day(w.entry.first, call.lang),
            last=i18n.day(w.entry.last, call.lang),
            parts=waitlist_chat.parts_text(call.lang, w.entry.parts),
            client=w.entry.client,
        )
        for w in found
    ]
    await call.reply("\n".join(lines))


# -- wiring ------------------------------------------------------------------------------

# name → (what it does, may a linked specialist use it for themselves)
COMMANDS: dict[str, tuple[staff.Body, bool]] = {
    **{kind: (_changing(kind), kind in schedules.SPECIALIST_CHANGES) for kind in schedules.KINDS},
    "schedule": (_schedule, True),
    "bookings": (_bookings, True),
    "invite": (_invite, False),
    "promote": (_promote, False),
    "demote": (_demote, False),
    "addservice": (_add_service, False),
    "renameservice": (_rename_service, False),
    "addspecialist": (_add_specialist, False),
    "renamespecialist": (_rename_specialist, False),
    "offer": (_offer, False),
    "location": (locations.command, False),
    "reviews": (_reviews, True),
    "stats": (_stats, False),
    "waitlist": (_waitlist, False),
}
REVIEWS_SHOWN = 20


async def publish_menus(application: Application) -> None:
    """Gives every admin and linked specialist their own command menu, where it is not yet.

    Telegram refuses the chat of someone who never opened the bot: that is logged, and
    their first message sets it (staff.first_contact).
    """
    d = application.bot_data["deps"]
    for found in await people.menus(d.db, d.settings.admins):
        await staff.sync_menu(application.bot, d, found)
