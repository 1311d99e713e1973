"""A booking's life: its states, and who may do what with it now, as refusal keys.

States and the transitions between them (engine/model.py `BookingStatus`):

    held ──confirm──▶ confirmed ──cancel──▶ cancelled (by whom, why)
      │
      ├──confirm, the visit asking a payment──▶ awaiting payment ──paid──▶ confirmed
      ├──cancel──▶ cancelled
      └──its hold_until passes, or the client starts over──▶ expired

Awaiting payment is a hold with the amount `due`, kept for the policy's `payment_hold`
(engine/payments.py): it occupies its time as a hold does, and lapses as one.

A held and a confirmed booking occupy their time; a hold does so only until its
`hold_until` (a waitlist offer is such a hold, made for the client it is offered to).
A confirmed visit carries two records beside its status, which stays confirmed
(engine/model.py `Mark`):

    confirmed ──"I'll come" (its client, before the start)──▶ attending (once; again: no change)
    confirmed ──mark (staff, from the start until the end of the next local day)──▶
        arrived | no-show (changeable until then; a visit never marked counts as arrived)

A no-show is not reviewed, and enough of them within a window (`no_shows`) bring the
policy's `after_no_shows` on the client's next bookings.

Every question "may this actor do that with this booking now?" is one function below that
answers with a locale key (why not) or None (it may): the chat, the CLI and the staff
commands all ask it, through services/bookings.py. Who asks is one of `ACTORS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bookbot.engine import workday
from bookbot.engine.model import LIVE_STATUSES, Booking, BookingStatus, Mark
from bookbot.engine.policy import Policy, client_may_change

if TYPE_CHECKING:
    from bookbot.engine.policy import Noticed

CLIENT = "client"  # the booking's own client, in the chat
SPECIALIST = "specialist"  # the booking's specialist (or an admin for them), in the chat
ADMIN = "admin"
OPERATOR = "operator"  # whoever runs the command line
# The reason stored on the booking a client moved away from (a move, not a cancellation).
MOVED = "rescheduled"
ACTORS = (CLIENT, SPECIALIST, ADMIN, OPERATOR)
STAFF = (SPECIALIST, ADMIN, OPERATOR)  # who may mark a visit arrived or no-show
BLOCK, PREPAY = "block", "prepay"  # what no-shows bring on (policy `after_no_shows`)


def is_live(booking: Booking, now: datetime) -> bool:
    """Tells whether a booking occupies its time at `now`: confirmed, or held and not run out."""
    if booking.status == BookingStatus.HELD:
        return booking.hold_until is None or now < booking.hold_until
    return booking.status == BookingStatus.CONFIRMED


def is_coming(booking: Booking, now: datetime) -> bool:
    """Tells whether a booking is a confirmed visit that has not begun at `now`."""
    return booking.status == BookingStatus.CONFIRMED and booking.start > now


def may_confirm(booking: Booking, now: datetime, seen: Booking | None = None) -> str | None:
    """Why a booking may not be confirmed at `now` (a locale key), or None when it may.

    Only a hold still live is confirmed, and one awaiting payment only by the payment
    (engine/payments.py). `seen` is the booking as the asker found it
    before waiting for its lock: a hold they saw that is gone by now (run out, swept, or
    confirmed by a second tap) "ran out"; anything else was never waiting to be confirmed.
    """
    if booking.status == BookingStatus.HELD and is_live(booking, now):
        return None if booking.due is None else "payment.awaiting"
    return (
        "refused.hold_lost"
        if (seen or booking).status == BookingStatus.HELD
        else "refused.not_held"
    )


def may_cancel(
    booking: Booking, actor: str, now: datetime, service: Noticed, policy: Policy
) -> str | None:
    """Why `actor` may not cancel a booking at `now` (a locale key), or None when it may.

    Staff and the operator may always cancel a held or confirmed booking, even one that
    has begun or ended (policy.md: "specialists and admins may always cancel"); a client
    may cancel only a confirmed visit that has not begun, and only before its cut-off
    (`service`'s cancel_notice, else the `policy`'s: engine/policy.py `cutoff`).
    """
    if booking.status not in LIVE_STATUSES:
        return "refused.not_live"
    if actor == CLIENT:
        return _client_may_change(booking, now, service, policy)
    return None


def _client_may_change(
    booking: Booking, now: datetime, service: Noticed, policy: Policy
) -> str | None:
    """Why a client may not cancel or move their visit at `now`: begun, or past its cut-off."""
    if not is_coming(booking, now):
        return "refused.not_live"
    if not client_may_change(booking.start, service, policy, now):
        return "refused.past_cutoff"
    return None


def may_ask_reason(booking: Booking, now: datetime) -> str | None:
    """Why staff may not start cancelling a booking from the chat (a locale key), or None.

    The agenda offers Cancel only on coming visits; the next text is the reason, and the
    cancel itself then asks `may_cancel`, so a visit that begins while the reason is
    being typed is still cancelled.
    """
    return None if is_coming(booking, now) else "refused.not_live"


def may_reschedule(
    booking: Booking, actor: str, now: datetime, service: Noticed, policy: Policy
) -> str | None:
    """Why `actor` may not start moving a booking to another time (a locale key), or None.

    Only a client's chat moves a booking today: a confirmed visit that has not begun,
    before its cut-off (as for `may_cancel`); staff are bound by neither. The old booking
    stays until the new time is confirmed (see `may_let_go`).
    """
    if actor == CLIENT:
        return _client_may_change(booking, now, service, policy)
    return None if is_coming(booking, now) else "refused.not_live"


def may_let_go(booking: Booking) -> str | None:
    """Why a booking being moved is kept when its new time is confirmed, or None.

    Moving was allowed when it began (`may_reschedule`); by the confirmation staff may
    have cancelled the old booking, and then there is nothing to let go. One that began
    meanwhile is let go all the same: the client chose to move it before it started.
    """
    return None if booking.status == BookingStatus.CONFIRMED else "refused.not_live"


def may_review(booking: Booking | None, now: datetime) -> str | None:
    """Why a booking may not be reviewed at `now` (a locale key), or None when it may.

    Only a visit that took place is reviewed (policy.md): the booking exists, was confirmed
    and not cancelled since, was not marked no-show, and its end has passed. Chat, web page
    and review request all ask this; a visit never marked counts as arrived.
    """
    if booking is None:
        return "review.unknown"
    if booking.status != BookingStatus.CONFIRMED:
        return "review.no_visit"
    if booking.mark == Mark.NO_SHOW:
        return "review.no_show"
    if booking.end > now:
        return "review.too_soon"
    return None


# -- attendance and no-shows ------------------------------------------------------------


def may_attend(booking: Booking, actor: str, now: datetime) -> str | None:
    """Why `actor` may not say a booking's client will come (a locale key), or None.

    Only the client says it ("I'll come"), of a confirmed visit that has not begun. Saying
    it again is no error: the first `attending_at` is kept, and nothing changes.
    """
    if actor != CLIENT:
        return "refused.clients_only"
    if booking.status != BookingStatus.CONFIRMED:
        return "refused.not_live"
    if booking.start <= now:
        return "refused.begun"
    return None


def marks_close(booking: Booking, zone: str) -> datetime:
    """When a visit can no longer be marked: the end of the local day after its start's.

    Local to `zone`, the specialist's: the midnight two local dates after the start, which
    a DST change makes 23 or 25 hours from the one before it.
    """
    tz = workday.zone(zone)
    day = booking.start.astimezone(tz).date()
    return workday.LocalClock(day + timedelta(days=2), tz).instant(timedelta(0))


def may_mark(booking: Booking, actor: str, now: datetime, zone: str) -> str | None:
    """Why `actor` may not mark a visit arrived or no-show at `now` (a locale key), or None.

    Staff (its specialist, an admin) and the operator mark a confirmed visit from its
    start until the end of the next local day in the specialist's `zone` (`marks_close`);
    within that time a mark may be changed as often as needed.
    """
    if actor not in STAFF:
        return "refused.staff_only"
    if booking.status != BookingStatus.CONFIRMED:
        return "refused.not_live"
    if now < booking.start:
        return "refused.not_begun"
    if now >= marks_close(booking, zone):
        return "refused.marks_closed"
    return None


def no_shows(marks: Iterable[datetime], now: datetime, window: timedelta | None) -> int:
    """How many no-shows count against a client at `now`.

    `marks` are the starts of their visits marked no-show (since they were last forgiven);
    those that started within `window` back from `now` count, or all without a window.
    """
    if window is None:
        return sum(1 for _ in marks)
    since = now - window
    return sum(1 for start in marks if since < start)


def after_no_shows(count: int, limit: int | None, action: str | None) -> str | None:
    """What a client's `count` no-shows bring on their next bookings: None, BLOCK or PREPAY.

    The policy's `no_show_limit` and `after_no_shows`: reaching the limit brings the
    action; without either, nothing. (Where payments are not set up, the caller treats
    PREPAY as BLOCK.)
    """
    if limit is None or action is None or count < limit:
        return None
    return action


def may_book_online(
    count: int, limit: int | None, action: str | None, payable: bool = False
) -> str | None:
    """Why a client with `count` no-shows may not hold or book in the chat (a locale key), or None.

    BLOCK refuses; PREPAY asks full payment on confirming (engine/payments.py `due`) and
    refuses where the service cannot be paid for in the chat (`payable`), as policy.md
    says. The client is asked to call instead: staff may still book for them.
    """
    brought = after_no_shows(count, limit, action)
    if brought is None or (brought == PREPAY and payable):
        return None
    return "refused.no_shows"
