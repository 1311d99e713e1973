"""A booking's life: its states, and who may do what with it now, as refusal keys.

States and the transitions between them (engine/model.py `BookingStatus`):

    held ──confirm──▶ confirmed ──cancel──▶ cancelled (by whom, why)
      │                   ▲
      ├──cancel──▶ cancelled
      └──its hold_until passes, or the client starts over──▶ expired

A held and a confirmed booking occupy their time; a hold does so only until its
`hold_until`. Awaiting payment (a hold kept while a payment is made) and attended or
no-show (marks on a confirmed visit that ended) are the states policy.md plans next; they
will be answered here, beside the questions they change.

Every question "may this actor do that with this booking now?" is one function below that
answers with a locale key (why not) or None (it may): the chat, the CLI and the staff
commands all ask it, through services/bookings.py. Who asks is one of `ACTORS`.
"""

from __future__ import annotations

from datetime import datetime

from bookbot.engine.model import LIVE_STATUSES, Booking, BookingStatus

CLIENT = "client"  # the booking's own client, in the chat
SPECIALIST = "specialist"  # the booking's specialist (or an admin for them), in the chat
ADMIN = "admin"
OPERATOR = "operator"  # whoever runs the command line
ACTORS = (CLIENT, SPECIALIST, ADMIN, OPERATOR)


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

    Only a hold still live is confirmed. `seen` is the booking as the asker found it
    before waiting for its lock: a hold they saw that is gone by now (run out, swept, or
    confirmed by a second tap) "ran out"; anything else was never waiting to be confirmed.
    """
    if booking.status == BookingStatus.HELD and is_live(booking, now):
        return None
    return (
        "refused.hold_lost"
        if (seen or booking).status == BookingStatus.HELD
        else "refused.not_held"
    )


def may_cancel(booking: Booking, actor: str, now: datetime) -> str | None:
    """Why `actor` may not cancel a booking at `now` (a locale key), or None when it may.

    Staff and the operator may always cancel a held or confirmed booking, even one that
    has begun or ended (policy.md: "specialists and admins may always cancel"); a client
    may cancel only a confirmed visit that has not begun.
    """
    if booking.status not in LIVE_STATUSES:
        return "refused.not_live"
    if actor == CLIENT and not is_coming(booking, now):
        return "refused.not_live"
    return None


def may_ask_reason(booking: Booking, now: datetime) -> str | None:
    """Why staff may not start cancelling a booking from the chat (a locale key), or None.

    The agenda offers Cancel only on coming visits; the next text is the reason, and the
    cancel itself then asks `may_cancel`, so a visit that begins while the reason is
    being typed is still cancelled.
    """
    return None if is_coming(booking, now) else "refused.not_live"


def may_reschedule(booking: Booking, actor: str, now: datetime) -> str | None:
    """Why `actor` may not start moving a booking to another time (a locale key), or None.

    Only a client's chat moves a booking today, and only a confirmed visit that has not
    begun; `actor` is asked for because policy.md's cut-off will bind clients alone. The
    old booking stays until the new time is confirmed (see `may_let_go`).
    """
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
    and not cancelled since, and its end has passed. Chat, web page and review request all
    ask this. Attendance is not recorded yet (a visit never marked counts as arrived); once
    a no-show mark is, a marked booking is refused here as well.
    """
    if booking is None:
        return "review.unknown"
    if booking.status != BookingStatus.CONFIRMED:
        return "review.no_visit"
    if booking.end > now:
        return "review.too_soon"
    return None
