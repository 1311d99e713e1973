"""The client's booking flow: service, place, specialist, day, time, contact, confirm.

Each step is one button (bot/actions.py); handlers only parse the tap, call one use case
(services/: availability, bookings, chat, places), and render; every rule lives in the
engine, reached through those use cases.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from msgspec.structs import replace
from telegram import InlineKeyboardMarkup, ReplyKeyboardRemove, Update

from bookbot import i18n
from bookbot.bot import arguments, keyboards, outbox, paging, venues
from bookbot.bot.callbacks import Tap
from bookbot.bot.context import BotContext, language, language_of
from bookbot.bot.handlers import payments as payments_chat
from bookbot.bot.handlers.client import mine
from bookbot.bot.handlers.taps import edit, phrase, reply, user_of
from bookbot.errors import BookbotError
from bookbot.notify import terms
from bookbot.services import availability, bookings, places
from bookbot.services import chat as client_chat
from bookbot.services.chat import Draft, Profile
from bookbot.services.visits import Visit

PHONE = re.compile(r"(\+?[0-9][0-9\s().-]{5,}[0-9])")  # ASCII digits only


async def service(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """A service chosen: remembers it, shows a chain's Where? or else its specialists."""
    draft = Draft(chat.draft.telegram_id, service=pressed.argument)
    await _keep_draft(context, chat, draft)
    shown = await _where(context, lang, draft, chat.seen)
    if shown is None:
        await _show_specialists(update, context, lang, draft, chat.seen)
    else:
        await edit(update, *shown)


async def _where(
    context: BotContext,
    lang: str,
    draft: Draft,
    seen: availability.Seen | None,
    number: int = 1,
) -> tuple[str, InlineKeyboardMarkup] | None:
    """Where? of a chain: the places offering the service, a page at a time; None: no chain."""
    d = context.deps
    assert draft.service is not None
    listed = await places.offering(
        d.db,
        d.clock(),
        draft.service,
        point=draft.point,
        first=(number - 1) * paging.ITEMS,
        count=paging.ITEMS,
        seen=seen,
    )
    if not listed:
        return None
    text = phrase(lang, "where_near") if draft.point else phrase(lang, "where")
    return text, keyboards.places(lang, listed, number)


async def place(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """A place chosen (or any): remembers it, shows the specialists working there."""
    d = context.deps
    if pressed.argument != availability.ANY:
        await places.where(d.db, location=pressed.argument)  # refuses an unknown place
    draft = replace(_with_service(chat.draft), location=pressed.argument, specialist=None)
    await _keep_draft(context, chat, draft)
    await _show_specialists(update, context, lang, draft, chat.seen)


async def nearest(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Nearest to me: asks for the client's location with Telegram's share button."""
    _with_service(chat.draft)
    assert update.effective_chat is not None
    await update.effective_chat.send_message(
        phrase(lang, "ask_location"), reply_markup=keyboards.location(lang)
    )


async def _show_specialists(
    update: Update,
    context: BotContext,
    lang: str,
    draft: Draft,
    seen: availability.Seen | None,
    number: int = 1,
) -> None:
    d = context.deps
    assert draft.service is not None
    options = await availability.choices(
        d.db, d.clock(), draft.service, seen=seen, where=places.chosen(draft.location)
    )
    back_to = "services" if draft.location is None else "places"
    await edit(
        update,
        phrase(lang, "choose_specialist"),
        keyboards.specialists(lang, options, number, back_to),
    )


async def specialist(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """A specialist (or "any available") chosen: remembers it, shows their month."""
    draft = replace(_with_service(chat.draft), specialist=pressed.argument)
    await _keep_draft(context, chat, draft)
    await _show_month(update, context, lang, draft, None, chat.seen)


async def _keep_draft(context: BotContext, chat: client_chat.Chat, draft: Draft) -> None:
    """Records where the flow stands, unless it stands there already."""
    if draft != chat.draft:
        d = context.deps
        await client_chat.save_draft(d.db, d.clock(), draft)


def _with_service(draft: Draft) -> Draft:
    if draft.service is None:
        raise BookbotError("bot.stale_button")
    return draft


def _complete(draft: Draft) -> Draft:
    if _with_service(draft).specialist is None:
        raise BookbotError("bot.stale_button")
    return draft


async def _show_month(
    update: Update,
    context: BotContext,
    lang: str,
    draft: Draft,
    shown: date | None,
    seen: availability.Seen | None,
) -> None:
    d = context.deps
    assert draft.service is not None and draft.specialist is not None
    found = await availability.month(
        d.db,
        d.clock(),
        draft.service,
        draft.specialist,
        shown,
        seen=seen,
        where=places.chosen(draft.location),
    )
    text = phrase(lang, "choose_day") if found.soonest else phrase(lang, "no_days")
    if found.sooner:
        text += "\n" + phrase(lang, "sooner_offer")
    await edit(update, text, keyboards.month(lang, found))


async def month(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Another month of the calendar."""
    await _show_month(update, context, lang, _complete(chat.draft), pressed.month(), chat.seen)


async def day(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """A day chosen: shows that day's free times."""
    await _show_times(update, context, lang, _complete(chat.draft), pressed.day(), chat.seen)


async def _show_times(
    update: Update,
    context: BotContext,
    lang: str,
    draft: Draft,
    day: date,
    seen: availability.Seen | None,
    number: int = 1,
) -> None:
    d = context.deps
    assert draft.service is not None and draft.specialist is not None
    free = await availability.free_slots(
        d.db,
        d.clock(),
        day,
        day,
        service=draft.service,
        specialist=draft.specialist,
        seen=seen,
        where=places.chosen(draft.location),
    )
    if not free:
        await edit(update, phrase(lang, "day_full"), keyboards.day_full(lang, day))
        return
    await edit(
        update,
        phrase(lang, "choose_time", day=i18n.day(day, lang, i18n.LONG_DAY)),
        keyboards.times(lang, free, day, number),
    )


async def time(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """A time chosen: holds it, then asks for the contact or shows the summary."""
    d, user = context.deps, user_of(update)
    draft = _complete(chat.draft)
    assert draft.service is not None and draft.specialist is not None
    now, start = d.clock(), pressed.instant()
    try:
        held = await bookings.hold(
            d.db,
            now,
            user.id,
            draft.service,
            draft.specialist,
            start,
            d.settings.hold,
            provider=payments_chat.provider(d.settings),
            where=places.chosen(draft.location),
        )
    except BookbotError as error:
        if error.key not in ("refused.taken", "refused.not_offered", "refused.too_soon"):
            raise
        nearby = await availability.neighbours(
            d.db, now, draft.service, draft.specialist, start, places.chosen(draft.location)
        )
        await edit(
            update,
            phrase(lang, "taken_try") if nearby else phrase(lang, "taken_none"),
            keyboards.alternatives(lang, nearby),
        )
        return
    if chat.profile.phone:
        await edit(update, _summary(lang, held, chat.profile, now), keyboards.summary(lang, held))
        return
    await _ask_contact(update, lang, held)


async def _ask_contact(update: Update, lang: str, held: Visit) -> None:
    assert held.booking.hold_until is not None  # a held booking carries its hold's end
    await edit(
        update,
        phrase(
            lang,
            "held",
            until=i18n.clock(held.booking.hold_until.astimezone(held.booking.start.tzinfo), lang),
            when=i18n.moment(held.booking.start, lang),
        ),
    )
    assert update.effective_chat is not None
    await update.effective_chat.send_message(
        phrase(lang, "ask_contact"), reply_markup=keyboards.contact(lang)
    )


def _summary(lang: str, held: Visit, profile: Profile, now: datetime) -> str:
    """What is about to be booked, with its price and free cancellation (notify/terms.py)."""
    said = phrase(
        lang,
        "summary",
        service=held.service.name,
        specialist=held.specialist.name,
        when=i18n.moment(held.booking.start, lang),
        name=profile.name or "—",
        phone=profile.phone or "—",
    )
    return "\n".join([said, *terms.place(held, lang), *terms.lines(held, lang, now)])


async def change_contact(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Change the remembered contact: asks for it again, the hold kept."""
    d, user = context.deps, user_of(update)
    held = await client_chat.held(d.db, d.clock(), user.id)
    if held is None:
        raise BookbotError("refused.hold_lost")
    await _ask_contact(update, lang, held)


async def confirm(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Confirm under the summary: books the held time."""
    d, user = context.deps, user_of(update)
    now = d.clock()
    try:
        done = await bookings.confirm(
            d.db,
            now,
            pressed.number(),
            client=user.id,
            policy=d.policy,
            provider=payments_chat.provider(d.settings),
        )
    except BookbotError as error:
        if error.key != "refused.hold_lost":
            raise
        draft = _complete(chat.draft)
        assert draft.service is not None and draft.specialist is not None
        nearby = await availability.neighbours(
            d.db,
            now,
            draft.service,
            draft.specialist,
            error.params["start"],
            places.chosen(draft.location),
        )
        await edit(update, phrase(lang, "hold_lost"), keyboards.alternatives(lang, nearby))
        return
    if done.booking.due is not None:
        await payments_chat.ask(update, context, lang, done)
        return
    said = phrase(
        lang,
        "booked",
        service=done.service.name,
        specialist=done.specialist.name,
        when=i18n.moment(done.booking.start, lang),
    )
    await edit(update, "\n".join([said, *terms.place(done, lang), *terms.lines(done, lang, now)]))
    await venues.pin(update, done)
    outbox.wake(context)


async def reschedule(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Reschedule under /my: starts over at that booking's month."""
    d, user = context.deps, user_of(update)
    draft = await bookings.reschedule(d.db, d.clock(), user.id, pressed.number())
    await _show_month(update, context, lang, draft, None, chat.seen)


async def page(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Another page of a list: services, specialists, a day's times, or /my."""
    d, user = context.deps, user_of(update)
    listed, number = pressed.paged()
    if listed == "s":
        offered = await availability.services(d.db, seen=chat.seen)
        await edit(
            update, phrase(lang, "choose_service"), keyboards.services(lang, offered, number)
        )
    elif listed == "o":
        where = await _where(context, lang, _with_service(chat.draft), chat.seen, number)
        if where is None:  # no longer a chain
            raise BookbotError("bot.stale_button")
        await edit(update, *where)
    elif listed == "p":
        await _show_specialists(update, context, lang, _with_service(chat.draft), chat.seen, number)
    elif listed == "t":
        await _show_times(
            update, context, lang, _complete(chat.draft), pressed.paged_day(), chat.seen, number
        )
    else:
        now = d.clock()
        coming = await client_chat.coming(d.db, now, user.id)
        shown = mine(lang, coming, number, now)  # refuses a page that is not there
        if coming:
            await edit(update, *shown)
        else:
            await edit(update, phrase(lang, "my_none"))


async def back(
    update: Update, context: BotContext, lang: str, pressed: Tap, chat: client_chat.Chat
) -> None:
    """Back: shows the step asked for (or the last one the draft reaches)."""
    d, user, draft = context.deps, user_of(update), chat.draft
    if pressed.argument == "services" or draft.service is None:
        await edit(
            update,
            phrase(lang, "choose_service"),
            keyboards.services(lang, await availability.services(d.db, seen=chat.seen)),
        )
    elif pressed.argument == "places" or (draft.specialist is None and draft.location is None):
        shown = await _where(context, lang, draft, chat.seen)
        if shown is None:
            await _show_specialists(update, context, lang, draft, chat.seen)
        else:
            await edit(update, *shown)
    elif pressed.argument == "specialists" or draft.specialist is None:
        await _show_specialists(update, context, lang, draft, chat.seen)
    elif pressed.argument == "times" and (held := await client_chat.held(d.db, d.clock(), user.id)):
        await _show_times(update, context, lang, draft, held.booking.start.date(), chat.seen)
    else:
        await _show_month(update, context, lang, draft, None, chat.seen)


async def contact(update: Update, context: BotContext) -> None:
    """Remembers a shared phone and shows the summary of the held slot."""
    message = update.effective_message
    assert message is not None and message.contact is not None and update.effective_user
    if message.contact.user_id not in (None, update.effective_user.id):
        lang = await language(update, context)
        await message.reply_text(phrase(lang, "own_contact_only"))
        return
    name = arguments.plain(
        " ".join(p for p in (message.contact.first_name, message.contact.last_name) if p)
    )
    if len(name) > arguments.LONGEST_NAME:
        await _name_too_long(update, await language(update, context))
        return
    d = context.deps
    given = Profile(update.effective_user.id, name=name, phone=message.contact.phone_number)
    await _remembered(update, context, await client_chat.give_contact(d.db, d.clock(), given))


async def shared_location(update: Update, context: BotContext) -> None:
    """A shared location (Nearest to me): lists a chain's places nearest first."""
    message = update.effective_message
    assert message is not None and message.location is not None and update.effective_user
    d, lat, lon = context.deps, message.location.latitude, message.location.longitude
    chat = await client_chat.chat(d.db, update.effective_user.id)
    lang = language_of(update, context, chat.profile)
    if chat.draft.service is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        await message.reply_text(phrase(lang, "unknown_text"), reply_markup=ReplyKeyboardRemove())
        return
    draft = replace(chat.draft, specialist=None, location=None, lat=lat, lon=lon)
    await _keep_draft(context, chat, draft)
    shown = await _where(context, lang, draft, chat.seen)  # before the thanks: sent together
    await message.reply_text(phrase(lang, "location_saved"), reply_markup=ReplyKeyboardRemove())
    if shown is None:
        await message.reply_text(phrase(lang, "unknown_text"))
        return
    await reply(update, *shown)


async def typed_contact(update: Update, context: BotContext) -> None:
    """Reads a typed "name and phone" while a slot is held; otherwise points to /start."""
    message = update.effective_message
    assert message is not None and message.text is not None and update.effective_user
    d, user = context.deps, update.effective_user
    found = PHONE.search(message.text)
    name = arguments.plain(PHONE.sub("", message.text)).strip(" ,;") if found else ""
    if found and name and len(name) <= arguments.LONGEST_NAME:
        phone = re.sub(r"[\s().-]", "", found.group(1))
        given = Profile(user.id, name=name, phone=phone)
        holding = await client_chat.give_contact(d.db, d.clock(), given, only_holding=True)
    else:
        holding = await client_chat.holding(d.db, d.clock(), user.id)
    lang = language_of(update, context, holding.profile)
    if holding.held is None:
        await message.reply_text(phrase(lang, "unknown_text"))
    elif not found or not name:
        await message.reply_text(phrase(lang, "contact_format"))
    elif len(name) > arguments.LONGEST_NAME:
        await _name_too_long(update, lang)
    else:
        await _remembered(update, context, holding)


async def _name_too_long(update: Update, lang: str) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        i18n.text("limits.name_too_long", lang, most=arguments.LONGEST_NAME)
    )


async def _remembered(update: Update, context: BotContext, holding: client_chat.Holding) -> None:
    """Says the contact is kept, then shows the summary of the held slot, if one is held."""
    assert update.effective_message is not None
    lang = language_of(update, context, holding.profile)
    await update.effective_message.reply_text(
        phrase(lang, "contact_saved"), reply_markup=ReplyKeyboardRemove()
    )
    held = holding.held
    if held is not None:
        summary = _summary(lang, held, holding.profile, context.deps.clock())
        await reply(update, summary, keyboards.summary(lang, held))
