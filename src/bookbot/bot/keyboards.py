"""Inline keyboards of the client flow: services, specialists, the calendar, times."""

from __future__ import annotations

import calendar
import functools
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup as Markup
from telegram import KeyboardButton, ReplyKeyboardMarkup

from bookbot import i18n
from bookbot.bot import callbacks, paging
from bookbot.bot.callbacks import Action
from bookbot.bot.paging import Page
from bookbot.engine import waitlist
from bookbot.engine.model import Slot
from bookbot.notify import terms
from bookbot.services.availability import ANY, FAR, Choice, Month, Offered
from bookbot.services.places import Place
from bookbot.services.visits import Visit

STRIKE = "\u0336"  # combining long stroke: a greyed day reads as crossed out
TIMES_PER_ROW = 4
LABEL = 60  # characters of a name on a button: Telegram's apps show no more in one
KEPT = 512  # keyboards kept for views that taps share

_kept: dict[tuple, tuple[Any, Markup]] = {}


def _reused(build: Callable[..., Markup]) -> Callable[..., Markup]:
    """Builds a view's keyboard once while services/availability.py shares the view between taps.

    Keyed by the view's identity (and the page shown) and kept with the view, so a key
    never outlives its view.
    """

    @functools.wraps(build)
    def keyboard(lang: str, view: Any, *more: Any) -> Markup:
        key = (build, lang, id(view), *more)
        kept = _kept.get(key)
        if kept is not None and kept[0] is view:
            return kept[1]
        if len(_kept) >= KEPT:
            _kept.clear()
        made = build(lang, view, *more)
        _kept[key] = (view, made)
        return made

    return keyboard


def _t(lang: str, key: str, **params: object) -> str:
    return i18n.text(f"bot.{key}", lang, **params)


def back(lang: str, step: str) -> list[Button]:
    """A row with one Back button to a step."""
    return [Button(_t(lang, "back"), callback_data=callbacks.encode(Action.BACK, step))]


def label(name: str) -> str:
    """A name as a button shows it: cut to LABEL characters, so a keyboard stays small."""
    return name if len(name) <= LABEL else name[: LABEL - 1].rstrip() + "…"


def pages(lang: str, shown: Page, data: Callable[[int], str]) -> list[list[Button]]:
    """The row ‹ page 2 of 7 › under a paged list; no row when the list fits one page."""
    if shown.count == 1:
        return []
    return [
        [
            Button("‹", callback_data=data(shown.number - 1))
            if shown.number > 1
            else Button(" ", callback_data=callbacks.NO_OP),
            Button(
                i18n.text("limits.page", lang, page=shown.number, pages=shown.count),
                callback_data=callbacks.NO_OP,
            ),
            Button("›", callback_data=data(shown.number + 1))
            if shown.number < shown.count
            else Button(" ", callback_data=callbacks.NO_OP),
        ]
    ]


@_reused
def services(lang: str, offered: Offered, number: int = 1) -> Markup:
    """A button per service, with its price when it has one, a page at a time."""
    shown = paging.cut(offered.services, number)
    rows = [
        [
            Button(
                terms.service_label(label(s.name), offered.price(s), lang),
                callback_data=callbacks.encode(Action.SERVICE, s.id),
            )
        ]
        for s in shown.items
    ]
    return Markup(rows + pages(lang, shown, lambda n: callbacks.page("s", n)))


@_reused
def places(lang: str, listed: Sequence[Place], number: int = 1) -> Markup:
    """Where?: a button per place, a page at a time; "Nearest to me" where it helps; "Any"."""
    shown = paging.cut(listed, number)
    rows = [
        [Button(_place_label(lang, p), callback_data=callbacks.encode(Action.PLACE, p.location.id))]
        for p in shown.items
    ]
    rows.extend(pages(lang, shown, lambda n: callbacks.page("o", n)))
    if any(p.location.lat is not None for p in listed):
        rows.append([Button(_t(lang, "nearest"), callback_data=callbacks.encode(Action.NEAREST))])
    rows.append([Button(_t(lang, "any_place"), callback_data=callbacks.encode(Action.PLACE, ANY))])
    rows.append(back(lang, "services"))
    return Markup(rows)


def _place_label(lang: str, place: Place) -> str:
    """Name, address; the soonest free time; how far, near a shared point."""
    parts = [
        _t(lang, "place", name=label(place.location.name), address=label(place.location.address))
    ]
    if place.soonest is not None:
        parts.append(
            _t(
                lang,
                "place_soonest",
                when=i18n.day(place.soonest.start.date(), lang),
                time=i18n.clock(place.soonest.start, lang),
            )
        )
    if place.km is not None:
        parts.append(_t(lang, "place_km", km=f"{place.km:.1f}"))
    return " · ".join(parts)


def location(lang: str) -> ReplyKeyboardMarkup:
    """Telegram's share-my-location button (Nearest to me)."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(_t(lang, "share_location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


@_reused
def specialists(
    lang: str, options: Sequence[Choice], number: int = 1, back_to: str = "services"
) -> Markup:
    """A button per specialist with their soonest free time, a page at a time; "Any available".

    Back goes to `back_to`: the services, or a chain's Where?.
    """
    shown = paging.cut(options, number)
    rows = [
        [
            Button(
                _choice_label(lang, c),
                callback_data=callbacks.encode(Action.SPECIALIST, c.specialist.id),
            )
        ]
        for c in shown.items
    ]
    rows.extend(pages(lang, shown, lambda n: callbacks.page("p", n)))
    rows.append(
        [Button(_t(lang, "any_available"), callback_data=callbacks.encode(Action.SPECIALIST, ANY))]
    )
    rows.append(back(lang, back_to))
    return Markup(rows)


def _choice_label(lang: str, choice: Choice) -> str:
    if choice.soonest is None:
        return _t(lang, "specialist_none", name=label(choice.specialist.name))
    return _t(
        lang,
        "specialist_soonest",
        name=label(choice.specialist.name),
        when=i18n.day(choice.soonest.start.date(), lang),
        time=i18n.clock(choice.soonest.start, lang),
    )


@_reused
def month(lang: str, found: Month) -> Markup:
    """A month calendar: bookable days can be pressed, the rest are greyed; arrows move."""
    shown, first, last, soonest = found.shown, found.first, found.last, found.soonest
    rows: list[list[Button]] = []
    if soonest is not None:
        rows.append(
            [
                Button(
                    _t(lang, "soonest_day", when=i18n.day(soonest, lang)),
                    callback_data=callbacks.day(soonest),
                )
            ]
        )
    previous = (shown.replace(day=1) - timedelta(days=1)).replace(day=1)
    following = (shown.replace(day=28) + timedelta(days=4)).replace(day=1)
    rows.append(
        [
            _arrow("‹", previous, previous >= first.replace(day=1)),
            Button(i18n.day(shown, lang, "LLLL yyyy").capitalize(), callback_data=callbacks.NO_OP),
            _arrow("›", following, following <= last),
        ]
    )
    rows.append([Button(name, callback_data=callbacks.NO_OP) for name in _weekday_names(lang)])
    for week in calendar.Calendar().monthdatescalendar(shown.year, shown.month):
        rows.append([_day_button(d, shown, d in found.days) for d in week])
    rows.extend([_sooner(lang, choice)] for choice in found.sooner)
    wanted = waitlist.wanted(shown, first, found.last, found.days, soonest, FAR)
    if wanted is not None:
        rows.append(_wait(lang, *wanted))
    rows.append(back(lang, "specialists"))
    return Markup(rows)


def _wait(lang: str, first: date, last: date) -> list[Button]:
    """A row with Join the waitlist, opening its form on dates first..last."""
    form = callbacks.waiting(first, last, 0, 0)
    return [Button(i18n.text("waiting.join_button", lang), callback_data=form)]


def day_full(lang: str, day: date) -> Markup:
    """Under a day that has filled up: wait for time to free up that day, or go back."""
    return Markup([_wait(lang, day, day), back(lang, "calendar")])


def _sooner(lang: str, choice: Choice) -> Button:
    """A button to switch to a specialist who is free sooner."""
    assert choice.soonest is not None
    return Button(
        _t(
            lang,
            "sooner_with",
            name=label(choice.specialist.name),
            when=i18n.day(choice.soonest.start.date(), lang),
            time=i18n.clock(choice.soonest.start, lang),
        ),
        callback_data=callbacks.encode(Action.SPECIALIST, choice.specialist.id),
    )


def _arrow(sign: str, target: date, allowed: bool) -> Button:
    if not allowed:
        return Button(" ", callback_data=callbacks.NO_OP)
    return Button(sign, callback_data=callbacks.month(target))


def _day_button(value: date, shown: date, bookable: bool) -> Button:
    if value.month != shown.month:
        return Button(" ", callback_data=callbacks.NO_OP)
    if bookable:
        return Button(str(value.day), callback_data=callbacks.day(value))
    return Button("".join(ch + STRIKE for ch in str(value.day)), callback_data=callbacks.NO_OP)


def _weekday_names(lang: str) -> list[str]:
    return [i18n.weekday(i, lang, "EEEEEE") for i in range(7)]


@_reused
def times(lang: str, slots: Sequence[Slot], day: date, number: int = 1) -> Markup:
    """A button per free start time of one day, a page at a time."""
    shown = paging.cut(slots, number, paging.TIMES)
    buttons = [
        Button(i18n.clock(s.start, lang), callback_data=callbacks.instant(s.start))
        for s in shown.items
    ]
    rows = [buttons[i : i + TIMES_PER_ROW] for i in range(0, len(buttons), TIMES_PER_ROW)]
    rows.extend(pages(lang, shown, lambda n: callbacks.page("t", n, day)))
    rows.append(back(lang, "calendar"))
    return Markup(rows)


def alternatives(lang: str, slots: Sequence[Slot]) -> Markup:
    """Free times near one that was taken, each with its day."""
    rows = [
        [Button(i18n.brief(s.start, lang), callback_data=callbacks.instant(s.start))] for s in slots
    ]
    rows.append(back(lang, "calendar"))
    return Markup(rows)


def contact(lang: str) -> ReplyKeyboardMarkup:
    """Telegram's share-my-phone button."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(_t(lang, "share_phone"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def summary(lang: str, hold: Visit) -> Markup:
    """Confirm, change the contact, or go back to the times."""
    return Markup(
        [
            [
                Button(
                    _t(lang, "confirm"),
                    callback_data=callbacks.encode(Action.CONFIRM, hold.booking.id or 0),
                )
            ],
            [
                Button(
                    _t(lang, "change_contact"),
                    callback_data=callbacks.encode(Action.CHANGE_CONTACT),
                )
            ],
            back(lang, "times"),
        ]
    )


def mine(lang: str, shown: Page[Visit], now: datetime) -> Markup | None:
    """Cancel, Reschedule and Want it sooner? for each coming booking on a page of /my; pages.

    A booking past its cut-off at `now` has none of them: the client is asked to call
    instead (and moving it through the waitlist would be a move past the cut-off too).
    None when no button is left (Telegram refuses an empty keyboard).
    """
    rows = []
    for held in shown.items:
        if not held.client_may_change(now):
            continue
        when = i18n.brief(held.booking.start, lang)
        rows.append(
            [
                Button(
                    _t(lang, "cancel_one", when=when),
                    callback_data=callbacks.encode(Action.ASK_CANCEL, held.booking.id or 0),
                ),
                Button(
                    _t(lang, "reschedule_one", when=when),
                    callback_data=callbacks.encode(Action.RESCHEDULE, held.booking.id or 0),
                ),
            ]
        )
        sooner = callbacks.encode(Action.SOONER, held.booking.id or 0)
        rows.append([Button(i18n.text("waiting.sooner", lang, when=when), callback_data=sooner)])
    rows.extend(pages(lang, shown, lambda n: callbacks.page("x", n)))
    return Markup(rows) if rows else None


def cancel_check(lang: str, booking_id: int) -> Markup:
    """Yes, cancel it / No, keep it."""
    return Markup(
        [
            [
                Button(
                    _t(lang, "cancel_yes"),
                    callback_data=callbacks.encode(Action.CANCEL, booking_id),
                ),
                Button(
                    _t(lang, "cancel_no"), callback_data=callbacks.encode(Action.KEEP, booking_id)
                ),
            ]
        ]
    )


def languages(current: str) -> Markup:
    """A button per language, each named in itself."""
    return Markup(
        [
            [
                Button(
                    ("✓ " if lang == current else "") + i18n.text("bot.language_name", lang),
                    callback_data=callbacks.encode(Action.LANGUAGE, lang),
                )
            ]
            for lang in i18n.languages()
        ]
    )
