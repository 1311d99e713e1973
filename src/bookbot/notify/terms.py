"""A visit's terms as its client reads them: the price, the free cancellation, whom to call.

One place for the summary before Confirm and the confirmation in the chat (bot/), and
for the confirmation message, its .ics file and the reminders (notify/).
"""

from __future__ import annotations

from datetime import datetime

from bookbot import i18n
from bookbot.engine.model import BookingStatus
from bookbot.services.visits import Visit


def lines(held: Visit, lang: str, now: datetime) -> list[str]:
    """The price, if the service has one, what confirming a hold asks to be paid, and
    until when it is free to cancel, if ever.

    A cut-off already past at `now` is said as such, with whom to call (`call`).
    """
    found = []
    if held.price is not None:
        found.append(i18n.text("terms.price", lang, price=i18n.price(*held.price, lang)))
    if held.booking.status == BookingStatus.HELD and held.prepay is not None:
        found.append(i18n.text("terms.pay_now", lang, amount=i18n.price(*held.prepay, lang)))
    cut = held.cutoff
    if cut is not None and held.client_may_change(now):
        found.append(
            i18n.text(
                "terms.free_until",
                lang,
                day=i18n.day(cut.date(), lang),
                time=i18n.clock(cut, lang),
            )
        )
    elif cut is not None:
        found.append(call(held, lang))
    return found


def place(held: Visit, lang: str) -> list[str]:
    """The line naming a chain's place of the visit (name, address); none without one."""
    where = held.business.location(held.booking.location)
    if where is None:
        return []
    return [i18n.text("terms.place", lang, name=where.name, address=where.address)]


def call(held: Visit, lang: str) -> str:
    """To change it, call the phone (services/visits.py `phone_to_call`), else contact us."""
    if held.phone:
        return i18n.text("terms.call", lang, phone=held.phone)
    return i18n.text("terms.contact_us", lang)


def service_label(name: str, price: tuple[int, str] | None, lang: str) -> str:
    """A service as its button names it: with its price when it has one."""
    if price is None:
        return name
    return i18n.text("terms.service_button", lang, name=name, price=i18n.price(*price, lang))
