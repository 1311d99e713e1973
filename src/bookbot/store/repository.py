"""`Store`: the store as one object, as callers knew it before it was split by noun.

It is the transition to the repositories the unit of work holds, and holds no code of its
own: each method is bound from one of them (`uow.catalog`, `uow.bookings`, `uow.chats`,
`uow.imports`) and `days` is the day index (`uow.days`). Callers should use those
repositories directly; the value classes are re-exported for the same reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bookbot.store.bookings import Bookings
from bookbot.store.catalog import Catalog, Snapshot
from bookbot.store.chats import Chats, Draft, Profile
from bookbot.store.dayindex import DayIndex
from bookbot.store.ledger import Imports
from bookbot.store.outbox import Message, Outbox

__all__ = ["Draft", "Message", "Outbox", "Profile", "Snapshot", "Store"]


class Store:
    """The unit of work's repositories under the one name they had; see the module's note."""

    def __init__(
        self,
        catalog: Catalog,
        bookings: Bookings,
        chats: Chats,
        imports: Imports,
        days: DayIndex,
        settle: Callable[[], Awaitable[None]],
    ) -> None:
        self.days = days
        self.settle = settle
        self.catalog = catalog.catalog
        self.plans = catalog.plans
        self.current_business = catalog.current_business
        self.current = catalog.current
        self.business = catalog.business
        self.save_business = catalog.save_business
        self.services = catalog.services
        self.service = catalog.service
        self.save_service = catalog.save_service
        self.specialists = catalog.specialists
        self.specialist = catalog.specialist
        self.positions = catalog.positions
        self.save_specialist = catalog.save_specialist
        self.save_specialists = catalog.save_specialists
        self.linked = catalog.linked
        self.chat = chats.chat
        self.profile = chats.profile
        self.save_profile = chats.save_profile
        self.draft = chats.draft
        self.save_draft = chats.save_draft
        self.overlapping = bookings.overlapping
        self.bookings = bookings.bookings
        self.booking = bookings.booking
        self.hold_until = bookings.hold_until
        self.expire_holds = bookings.expire_holds
        self.add_booking = bookings.add_booking
        self.set_status = bookings.set_status
        self.import_bookings = imports.import_bookings
