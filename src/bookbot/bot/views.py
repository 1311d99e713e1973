"""Renders what admins and specialists are shown: schedules, agendas, changes, in HTML.

Every value that comes from a person (names, phones, reasons) is escaped; locale texts for
these groups hold no markup of their own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from html import escape

from bookbot import i18n
from bookbot.bot.callbacks import Action, encode
from bookbot.engine import money
from bookbot.services import schedules
from bookbot.services.places import Listed, Placed, Placing
from bookbot.services.reviews import Review
from bookbot.services.schedules import Change, DayView, Outcome, View
from bookbot.services.stats import Figures
from bookbot.services.visits import Visit

LIMIT = 4096  # Telegram's most characters in one message


def t(lang: str, key: str, **params: object) -> str:
    """A locale text with every parameter HTML-escaped."""
    return i18n.text(key, lang, **{k: escape(str(v), quote=False) for k, v in params.items()})


def span(start: datetime, end: datetime, lang: str) -> str:
    """09:00–13:00."""
    return f"{i18n.clock(start, lang)}–{i18n.clock(end, lang)}"


def minutes(value: timedelta, lang: str) -> str:
    """A slot length in the user's words: 30 min."""
    return t(lang, "admin.minutes", n=int(value.total_seconds() // 60))


def weekdays(days: frozenset[int], lang: str) -> str:
    """mon, tue, wed in the user's language."""
    return ", ".join(i18n.weekday(d, lang) for d in sorted(days))


def phone_number(phone: str | None) -> str:
    """A phone as plain text, or a dash.

    Telegram drops `tel:` links (the text stays, untappable); its apps make a phone number
    in plain text tappable by themselves.
    """
    return escape(phone) if phone else "—"


def client(held: Visit) -> str:
    """The client's name and phone."""
    who = held.booking.client
    name = escape(who.name) if who and who.name else "—"
    return f"{name}, {phone_number(who.phone if who else None)}"


def booking_line(
    held: Visit, lang: str, with_day: bool = False, with_specialist: bool = False
) -> str:
    """09:00–09:30 Bob Stone, +49… · Check-up (· Dr. Ann Weber)."""
    when = span(held.booking.start, held.booking.end, lang)
    if with_day:
        when = f"{i18n.day(held.booking.start.date(), lang)} {when}"
    line = f"{when} {client(held)} · {escape(held.service.name)}"
    return line + (f" · {escape(held.specialist.name)}" if with_specialist else "")


# -- a schedule as it stands ------------------------------------------------------------


def view(found: View, lang: str) -> str:
    """A specialist's days: hours, bookings with clients, blocks, free slots."""
    lines = [f"<b>{escape(found.specialist.name)}</b>"]
    for one in found.days:
        lines.extend(_day_lines(one, lang))
    return "\n".join(lines)


def _day_lines(one: DayView, lang: str) -> list[str]:
    if one.closed is not None:
        kind = "day_off" if one.closed.type == "day_off" else "vacation"
        head = t(lang, f"admin.view.{kind}") + _because(one.closed.reason)
    elif one.holiday:
        head = t(lang, "admin.view.holiday")
    elif not one.windows:
        head = t(lang, "admin.view.not_working")
    else:
        places = one.places or (None,) * len(one.windows)
        head = ", ".join(
            t(lang, "admin.view.at", window=span(s, e, lang), place=place)
            if place
            else span(s, e, lang)
            for (s, e), place in zip(one.windows, places, strict=True)
        )
    lines = [f"<b>{i18n.day(one.day, lang)}</b> · {head}"]
    entries: list[tuple[datetime, str]] = [
        (h.booking.start, "  " + booking_line(h, lang)) for h in one.bookings
    ]
    entries += [
        (
            b.start,
            f"  {span(b.start, b.end, lang)} {t(lang, 'admin.view.blocked')}" + _because(b.reason),
        )
        for b in one.blocks
    ]
    lines.extend(text for _, text in sorted(entries, key=lambda e: e[0]))
    if one.closed is None and one.windows:
        free = ", ".join(i18n.clock(s.start, lang) for s in one.free)
        lines.append(
            "  "
            + (t(lang, "admin.view.free", times=free) if free else t(lang, "admin.view.none_free"))
        )
    return lines


def _because(reason: str | None) -> str:
    return f": {escape(reason, quote=False)}" if reason else ""


def agenda(
    entries: Sequence[Visit], lang: str, first: date, last: date, with_specialist: bool = False
) -> str:
    """Bookings of a day or a week, each with the client's name and phone."""
    title = i18n.day(first, lang)
    if first != last:
        title = f"{title} – {i18n.day(last, lang)}"
    lines = [f"<b>{t(lang, 'admin.agenda.title', when=title)}</b>"]
    if not entries:
        lines.append(t(lang, "admin.agenda.none"))
    lines.extend(
        booking_line(h, lang, with_day=first != last, with_specialist=with_specialist)
        + attendance(h, lang)
        for h in entries
    )
    return "\n".join(lines)


def attendance(held: Visit, lang: str) -> str:
    """What a visit's line adds: ✅ when the client said they will come, and staff's mark."""
    said = " ✅" if held.booking.attending_at is not None else ""
    if held.booking.mark is None:
        return said
    return f"{said} · {t(lang, f'attendance.mark.{held.booking.mark}')}"


def marks(entries: Sequence[Visit], lang: str) -> list[list[tuple[str, str]]]:
    """Arrived / No-show buttons, a row for each of these visits, its time first."""
    return [
        [
            (
                t(lang, f"attendance.button.{kind}", time=i18n.clock(h.booking.start, lang)),
                encode(Action.MARK, f"{h.booking.id}-{kind[0]}"),
            )
            for kind in ("arrived", "no_show")
        ]
        for h in entries
    ]


# -- what a change did ------------------------------------------------------------------


def changed(outcome: Outcome, lang: str) -> str:
    """One line saying what the change did."""
    c, name = outcome.change, outcome.specialist.name
    reason = f" ({c.reason})" if c.reason else ""
    the_day = i18n.day(c.first, lang) if c.first else ""
    slot = minutes(c.slot, lang) if c.slot else ""
    start = i18n.clock(c.start, lang) if c.start else ""
    end = i18n.clock(c.end, lang) if c.end else ""
    if c.kind == schedules.UNBLOCK and outcome.removed is not None:
        start, end = (
            i18n.clock(outcome.removed.start, lang),
            i18n.clock(outcome.removed.end, lang),
        )
    params: dict[str, object] = {
        "specialist": name,
        "day": the_day,
        "reason": reason,
        "slot": slot,
        "start": start,
        "end": end,
        "times": ", ".join(i18n.clock(x, lang) for x in c.times),
        "first": the_day,
        "last": i18n.day(c.last, lang) if c.last else "",
        "days": weekdays(c.days, lang),
        "calendars": ", ".join(c.calendars) or t(lang, "admin.no_calendar"),
    }
    return t(lang, f"admin.done.{c.kind}", **params)


def cancelled(outcome: Outcome, lang: str) -> str:
    """The bookings a confirmed change cancelled."""
    if not outcome.displaced:
        return ""
    lines = [t(lang, "admin.cancelled", count=len(outcome.displaced))]
    lines.extend("• " + booking_line(h, lang, with_day=True) for h in outcome.displaced)
    return "\n".join(lines)


def pending(outcome: Outcome, lang: str) -> tuple[str, list[list[tuple[str, str]]]]:
    """The question before a change that cancels bookings, and its Confirm / Keep buttons."""
    lines = [t(lang, "admin.pending.title", count=len(outcome.displaced))]
    lines.extend("• " + booking_line(h, lang, with_day=True) for h in outcome.displaced)
    lines.append(t(lang, "admin.pending.note"))
    assert outcome.pending is not None
    buttons = [
        [
            (t(lang, "admin.pending.confirm"), encode(Action.CONFIRM_CHANGE, outcome.pending)),
            (t(lang, "admin.pending.keep"), encode(Action.KEEP_CHANGE, outcome.pending)),
        ]
    ]
    return "\n".join(lines), buttons


def reviews(found: Sequence[Review], lang: str) -> str:
    """Reviews, newest first: stars, specialist, date and comment."""
    if not found:
        return t(lang, "admin.reviews_none")
    lines = [t(lang, "admin.reviews_title")]
    for one in found:
        lines.append(
            t(
                lang,
                "admin.review_line",
                stars="★" * one.rating,
                specialist=one.specialist,
                day=i18n.day(one.created_at.date(), lang),
                comment=one.comment or "—",
            )
        )
    return "\n".join(lines)


def shown_days(change: Change, today: date) -> tuple[date, date]:
    """The days to show after a change: its day, its vacation (two weeks at most), or a week."""
    if change.first is None:
        return today, today + timedelta(days=6)
    last = change.last or change.first
    return change.first, min(last, change.first + timedelta(days=13))


def chunks(text: str, limit: int = LIMIT, html: bool = True) -> list[str]:
    """Splits a long text into messages Telegram accepts: between lines, else inside one.

    Each part holds at most `limit` UTF-16 units of source: never fewer than the
    characters Telegram counts once the HTML is parsed (an emoji is two). An HTML tag
    open where a part ends is closed there and opened again at the start of the next.
    """
    parts: list[str] = []
    part = _Part([])
    for line in text.split("\n"):
        tokens = _tokens(line, html)
        if part.fits(["\n", *tokens] if part.started else tokens, limit):
            part.add(["\n", *tokens] if part.started else tokens)
            continue
        parts.append(part.close())
        part = _Part(part.opened)
        if part.fits(tokens, limit):
            part.add(tokens)
            continue
        for token in tokens:  # a line longer than a message: cut it, tags closed and reopened
            if part.started and not part.fits([token], limit):
                parts.append(part.close())
                part = _Part(part.opened)
            part.add([token])
    parts.append(part.close())
    return [p for p in parts if _TAG.sub("", p).strip()] or [text]


_TAG = re.compile(r"<[^<>]*>")
_TOKEN = re.compile(r"<[^<>]*>|&#?\w+;|.", re.DOTALL)


def _tokens(line: str, html: bool) -> list[str]:
    """A line as the pieces it may be cut between: tags and entities stay whole in HTML."""
    return _TOKEN.findall(line) if html else list(line)


def _units(text: str) -> int:
    """The length of a text as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class _Part:
    """One message being filled: its text so far, its size, and the HTML tags left open."""

    def __init__(self, opened: list[tuple[str, str]]) -> None:
        self.opened = list(opened)  # (name, opening tag) of each tag open at the end
        self.text = [tag for _, tag in opened]
        self.size = sum(_units(tag) for tag in self.text)
        self.started = False  # holds more than the tags it reopened

    def fits(self, tokens: list[str], limit: int) -> bool:
        """Tells whether the tokens, and the closing of any tag then open, still fit."""
        after = _opened_after(self.opened, tokens)
        closing = sum(len(name) + 3 for name, _ in after)
        return self.size + _units("".join(tokens)) + closing <= limit

    def add(self, tokens: list[str]) -> None:
        """Appends tokens to the part."""
        self.opened = _opened_after(self.opened, tokens)
        self.text.extend(tokens)
        self.size += _units("".join(tokens))
        self.started = True

    def close(self) -> str:
        """The part's text with every tag still open closed."""
        return "".join(self.text) + "".join(f"</{name}>" for name, _ in reversed(self.opened))


def _opened_after(opened: list[tuple[str, str]], tokens: list[str]) -> list[tuple[str, str]]:
    """The tags open after these tokens, given those open before them."""
    if not any(t.startswith("<") for t in tokens):
        return opened
    found = list(opened)
    for token in tokens:
        if not _TAG.fullmatch(token):
            continue
        name = token.strip("</>").split()[0].lower() if token.strip("</>") else ""
        if token.startswith("</"):
            if found and found[-1][0] == name:
                found.pop()
        elif name:
            found.append((name, token))
    return found


def stats(found: Figures, lang: str) -> str:
    """The figures of a range (/stats): counts, then each specialist's booked share."""
    lines = [f"<b>{t(lang, 'stats.title', first=found.first, last=found.last)}</b>"]
    lines += [t(lang, key, **params) for key, params in figure_lines(found)]
    lines.append(t(lang, "stats.shares"))
    for one in found.shares:
        if one.share is None:
            lines.append(t(lang, "stats.never_open", name=one.name))
        else:
            percent = i18n.percent(one.share, lang)
            lines.append(
                t(
                    lang,
                    "stats.share",
                    name=one.name,
                    percent=percent,
                    booked=one.booked,
                    open=one.open,
                )
            )
    return "\n".join(lines)


def figure_lines(found: Figures) -> list[tuple[str, dict[str, object]]]:
    """The counting lines of the figures, as locale keys and their values."""
    return [
        ("stats.booked", {"count": found.booked}),
        (
            "stats.cancelled",
            {
                "before": found.cancelled_before,
                "after": found.cancelled_after,
                "staff": found.cancelled_by_staff,
            },
        ),
        ("stats.no_shows", {"count": found.no_shows}),
        ("stats.refilled", {"count": found.refilled}),
        *(
            (
                "stats.paid",
                {
                    "count": one.count,
                    "paid": f"{money.text(one.paid, one.currency)} {one.currency}",
                    "refunded": f"{money.text(one.refunded, one.currency)} {one.currency}",
                },
            )
            for one in found.takings
        ),
    ]


# -- places (/location) ------------------------------------------------------------------


def locations(found: Sequence[Listed], lang: str) -> str:
    """The places: id, name, address, coordinates, phone, zone, and who is based there."""
    if not found:
        return t(lang, "location.none")
    lines = [f"<b>{t(lang, 'location.title')}</b>"]
    for one in found:
        place = one.location
        point = f"{place.lat}, {place.lon}" if place.lat is not None else "—"
        lines.append(
            t(
                lang,
                "location.line",
                id=place.id,
                name=place.name,
                address=place.address,
                point=point,
                phone=place.phone or "—",
                zone=one.zone,
            )
        )
        names = ", ".join(s.name for s in one.based)
        lines.append("  " + t(lang, "location.based", names=names or "—"))
    return "\n".join(lines)


def placed(done: Placed, asked: Placing, lang: str) -> str:
    """What /location set did, and the visits that moved with it."""
    params: dict[str, object] = {"specialist": done.specialist.name, "place": done.location.name}
    if asked.day is not None:
        line = t(lang, "location.dated_at", day=i18n.day(asked.day, lang), **params)
    elif asked.days:
        line = t(lang, "location.weekly_at", days=weekdays(asked.days, lang), **params)
    else:
        line = t(lang, "location.based_at", **params)
    if not done.moved:
        return line
    lines = [line, t(lang, "location.moved", count=len(done.moved))]
    lines.extend("• " + booking_line(h, lang, with_day=True) for h in done.moved)
    return "\n".join(lines)
