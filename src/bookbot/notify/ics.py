"""The .ics file that lets a client put a booking in their calendar."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event

from bookbot import i18n
from bookbot.notify import terms
from bookbot.services.visits import Visit


def invitation(held: Visit, lang: str, now: datetime) -> bytes:
    """An iCalendar file with one event for the booking, naming its service and specialist.

    Its description holds the visit's terms (notify/terms.py): the price and until when
    it is free to cancel, when there are any; a chain's place is its LOCATION.
    """
    booking = held.booking
    calendar = Calendar()
    calendar.add("prodid", "-//bookbot//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"booking-{booking.id}@bookbot")
    event.add("dtstamp", booking.start.astimezone(UTC))
    event.add("dtstart", booking.start.astimezone(UTC))
    event.add("dtend", booking.end.astimezone(UTC))
    event.add(
        "summary",
        i18n.text(
            "bot.ics_summary", lang, service=held.service.name, specialist=held.specialist.name
        ),
    )
    where = held.business.location(booking.location)
    if where is not None:
        event.add("location", f"{where.name}, {where.address}")
    described = terms.lines(held, lang, now)
    if described:
        event.add("description", "\n".join(described))
    calendar.add_component(event)
    return calendar.to_ical()
