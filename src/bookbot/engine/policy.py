"""The clinic's rules that protect its time: the cut-off for changes, no-shows and holds.

The settings come from the clinic file's `policy` (spec/policy.md); each question about
them is one function here, asked by chat, command line and web alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from msgspec import Struct

if TYPE_CHECKING:  # for the annotations alone: making a Protocol costs every start
    from typing import Protocol

    class Noticed(Protocol):
        """Anything with its own cut-off, like a service."""

        @property
        def cancel_notice(self) -> timedelta | None:
            """How long before a visit's start clients may no longer change it (None: policy's)."""


DEFAULT_HOLD = timedelta(minutes=15)
LONGEST_PAYMENT_HOLD = timedelta(hours=24)  # a slot kept longer for a payment is lost time


class AfterNoShows(StrEnum):
    """What a client's next bookings need once they reach the no-show limit."""

    BLOCK = "block"  # online booking is refused; they are asked to call
    PREPAY = "prepay"  # full payment up front (acts as block where payments are not set up)


class Prepay(StrEnum):
    """What a service asks to be paid when the visit is confirmed."""

    NONE = "none"
    DEPOSIT = "deposit"  # the service's `deposit`
    FULL = "full"  # its price


class Policy(Struct, frozen=True):
    """The clinic file's `policy`; a setting left out is off (None), the holds 15 minutes.

    - cancel_notice: clients may cancel or move a visit until its start minus this.
    - confirm_by: at a visit's start minus this, its specialist hears of unconfirmed ones.
    - no_show_limit no-shows within no_show_window (None: any time) bring after_no_shows.
    - waitlist_hold, payment_hold: how long a slot is held for an offer or a payment.
    """

    cancel_notice: timedelta | None = None
    confirm_by: timedelta | None = None
    no_show_limit: int | None = None
    no_show_window: timedelta | None = None
    after_no_shows: AfterNoShows | None = None
    waitlist_hold: timedelta = DEFAULT_HOLD
    payment_hold: timedelta = DEFAULT_HOLD


def cutoff(start: datetime, service: Noticed, policy: Policy) -> datetime | None:
    """The last instant a client may cancel or move a visit starting at `start`.

    The service's own cancel_notice, else the policy's; None when neither is set (the
    client may change the visit until it starts).
    """
    notice = service.cancel_notice if service.cancel_notice is not None else policy.cancel_notice
    return None if notice is None else start - notice


def client_may_change(start: datetime, service: Noticed, policy: Policy, now: datetime) -> bool:
    """Tells whether a client may still cancel or move the visit: strictly before the cut-off.

    Without a cut-off, strictly before the start. Staff may always cancel; this is not asked.
    """
    return now < (cutoff(start, service, policy) or start)
