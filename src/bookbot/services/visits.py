"""The shared read model: a booking with the names its readers show beside it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bookbot.engine.model import Booking, Service, Specialist
from bookbot.engine.workday import zone
from bookbot.services.basics import Names, require_business


@dataclass(frozen=True)
class Visit:
    """A booking in any state (held, confirmed, cancelled, on an agenda) with its names.

    Its times, and a hold's `hold_until`, are on the specialist's wall clock.
    """

    booking: Booking
    service: Service
    specialist: Specialist


async def named(catalog: Names, found: Booking) -> Visit:
    """A booking with its service and specialist, its times on the specialist's clock."""
    service = await catalog.service(found.service)
    specialist = await catalog.specialist(found.specialist)
    assert service is not None and specialist is not None
    tz = zone(specialist.zone(await require_business(catalog)))
    local = replace(
        found,
        start=found.start.astimezone(tz),
        end=found.end.astimezone(tz),
        hold_until=found.hold_until.astimezone(tz) if found.hold_until else None,
    )
    return Visit(local, service, specialist)
