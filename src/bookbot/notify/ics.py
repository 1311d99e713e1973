"""The .ics file that lets a client put a booking in their calendar."""

from __future__ import annotations

from datetime import UTC

from icalendar import Calendar, Event

from bookbot import i18n
from bookbot.engine.model import Booking


def invitation(booking: Booking, service: str, specialist: str, lang: str) -> bytes:
    """An iCalendar file with one event for the booking, naming its service and specialist."""
    calendar = Calendar()
    calendar.add("prodid", "-//bookbot//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"booking-{booking.id}@bookbot")
    event.add("dtstamp", booking.start.astimezone(UTC))
    event.add("dtstart", booking.start.astimezone(UTC))
    event.add("dtend", booking.end.astimezone(UTC))
    event.add("summary", i18n.text("bot.ics_summary", lang, service=service, specialist=specialist))
    calendar.add_component(event)
    return calendar.to_ical()
