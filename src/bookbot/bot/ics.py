"""The .ics file that lets a client put a booking in their calendar."""

from __future__ import annotations

from datetime import UTC

from icalendar import Calendar, Event

from bookbot import i18n
from bookbot.services.visits import Visit


def invitation(held: Visit, lang: str) -> bytes:
    """An iCalendar file with one event for the booking, in UTC."""
    calendar = Calendar()
    calendar.add("prodid", "-//bookbot//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"booking-{held.booking.id}@bookbot")
    event.add("dtstamp", held.booking.start.astimezone(UTC))
    event.add("dtstart", held.booking.start.astimezone(UTC))
    event.add("dtend", held.booking.end.astimezone(UTC))
    event.add("summary", i18n.text("bot.ics_summary", lang, service=held.service.name,
                                   specialist=held.specialist.name))
    calendar.add_component(event)
    return calendar.to_ical()
