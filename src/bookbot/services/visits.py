"""The shared read model: a booking with the names its readers show beside it."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct
from msgspec.structs import replace

from bookbot.engine import payments, policy
from bookbot.engine.model import Booking, Business, Service, Specialist
from bookbot.engine.workday import zone
from bookbot.services.basics import Names, require_business

NO_BUSINESS = Business("UTC")  # no policy, phone or currency: what a bare Visit assumes


class Visit(Struct, frozen=True):
    """A booking in any state (held, confirmed, cancelled, on an agenda) with its names.

    Its times, and a hold's `hold_until`, are on the specialist's wall clock. `business`
    brings the policy, the currency and the phone its terms are read from;
    `after_no_shows`, where the client is known (their hold in the chat), what their
    no-shows bring: with `prepay`, confirming asks the full price.
    """

    booking: Booking
    service: Service
    specialist: Specialist
    business: Business = NO_BUSINESS
    after_no_shows: str | None = None

    @property
    def cutoff(self) -> datetime | None:
        """Until when the client may cancel or move it (specialist's clock); None: the start."""
        return policy.cutoff(self.booking.start, self.service, self.business.policy)

    def client_may_change(self, now: datetime) -> bool:
        """Tells whether the client may still cancel or move it in the chat at `now`."""
        return policy.client_may_change(self.booking.start, self.service, self.business.policy, now)

    @property
    def price(self) -> tuple[int, str] | None:
        """The service's price and the currency it is in, when it has one."""
        if self.service.price is None or self.business.currency is None:
            return None
        return self.service.price, self.business.currency

    @property
    def prepay(self) -> tuple[int, str] | None:
        """What confirming asks to be paid, and its currency, if anything.

        The service's deposit or price; the full price for a client whose no-shows bring
        `prepay` (`after_no_shows`).
        """
        amount = payments.due(self.service, self.after_no_shows)
        if amount is None or self.business.currency is None:
            return None
        return amount, self.business.currency

    @property
    def phone(self) -> str | None:
        """The number the client is asked to call to change the visit (`phone_to_call`)."""
        return phone_to_call(self.business, self.booking.location)


def phone_to_call(business: Business, location: str | None = None) -> str | None:
    """The phone a client calls when the chat may not change a visit; None: "contact us".

    The visit's location's own phone, else the business's (spec/policy.md).
    """
    place = business.location(location)
    return (place and place.phone) or business.phone


async def named(catalog: Names, found: Booking) -> Visit:
    """A booking with its service and specialist, its times on the specialist's clock."""
    service = await catalog.service(found.service)
    specialist = await catalog.specialist(found.specialist)
    assert service is not None and specialist is not None
    business = await require_business(catalog)
    tz = zone(specialist.zone(business))
    local = replace(
        found,
        start=found.start.astimezone(tz),
        end=found.end.astimezone(tz),
        hold_until=found.hold_until.astimezone(tz) if found.hold_until else None,
    )
    return Visit(local, service, specialist, business)
