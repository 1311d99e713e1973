"""A Clinic back to clinic-file text that reads to exactly the same values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bookbot import parsing
from bookbot.clinic_file.loading import Dumper
from bookbot.clinic_file.reading import Clinic
from bookbot.clinic_file.values import NO_CALENDAR
from bookbot.engine import money
from bookbot.engine.model import (
    WEEKDAYS,
    Booking,
    Business,
    Hours,
    Location,
    Override,
    OverrideType,
    Service,
    Specialist,
)
from bookbot.engine.payments import Payment
from bookbot.engine.policy import DEFAULT_HOLD, Policy, Prepay
from bookbot.engine.workday import zone


def dump(clinic: Clinic) -> str:
    """Writes a Clinic back as a clinic file that reads to the same state."""
    return yaml.dump(
        document(clinic),
        Dumper=Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=None,
    )


def document(clinic: Clinic) -> dict[str, Any]:
    """A Clinic as the plain data of its file (JSON writes it as it stands)."""
    business = clinic.business
    doc: dict[str, Any] = {
        "timezone": business.timezone,
        "min_notice": parsing.format_duration(business.rules.min_notice),
        "horizon_days": business.rules.horizon_days,
    }
    if business.holidays:
        doc["holidays"] = _calendar_field(business.holidays)
    doc.update(
        _drop_none(
            {
                "currency": business.currency,
                "phone": business.phone,
                "policy": _dump_policy(business.policy),
            }
        )
    )
    if business.locations:
        doc["locations"] = [_dump_location(place) for place in business.locations]
    doc["services"] = [_dump_service(s, business.currency) for s in clinic.services]
    doc["specialists"] = [_dump_specialist(s, business) for s in clinic.specialists]
    by_id = {s.id: s for s in clinic.specialists}
    doc["bookings"] = [_dump_booking(b, by_id[b.specialist], business) for b in clinic.bookings]
    if clinic.payments:
        doc["payments"] = [_dump_payment(p) for p in clinic.payments]
    return doc


def _dump_policy(policy: Policy) -> dict:
    """The settings that are on, and holds other than the default (a file leaves those out)."""
    holds = {"waitlist_hold": policy.waitlist_hold, "payment_hold": policy.payment_hold}
    return _drop_none(
        {
            "cancel_notice": _span(policy.cancel_notice),
            "confirm_by": _span(policy.confirm_by),
            "no_show_limit": policy.no_show_limit,
            "no_show_window": _span(policy.no_show_window),
            "after_no_shows": policy.after_no_shows and str(policy.after_no_shows),
            **{key: _span(value) for key, value in holds.items() if value != DEFAULT_HOLD},
        }
    )


def _dump_location(place: Location) -> dict:
    return _drop_none(
        {
            "id": place.id,
            "name": place.name,
            "address": place.address,
            "lat": place.lat,
            "lon": place.lon,
            "timezone": place.timezone,
            "holidays": None if place.holidays is None else _calendar_field(place.holidays),
            "phone": place.phone,
        }
    )


def _dump_service(service: Service, currency: str | None) -> dict:
    price = service.price
    return _drop_none(
        {
            "id": service.id,
            "name": service.name,
            "duration": parsing.format_duration(service.duration) if service.duration else None,
            "price": money.text(price, currency) if price is not None and currency else None,
            "cancel_notice": _span(service.cancel_notice),
            "prepay": None if service.prepay == Prepay.NONE else str(service.prepay),
            "deposit": (
                money.text(service.deposit, currency)
                if service.deposit is not None and currency
                else None
            ),
            "online": service.online or None,
        }
    )


def _span(value: timedelta | None) -> str | None:
    """A setting's duration: in days when it is two or more whole days (90d), else 24h, 90m."""
    if value is None:
        return None
    if value >= timedelta(days=2) and not value % timedelta(days=1):
        return f"{value.days}d"
    return parsing.format_duration(value)


def _dump_specialist(specialist: Specialist, business: Business) -> dict:
    tz = zone(specialist.zone(business))
    return _drop_none(
        {
            "id": specialist.id,
            "name": specialist.name,
            "timezone": specialist.timezone,
            "holidays": None
            if specialist.holidays is None
            else _calendar_field(specialist.holidays),
            "telegram_id": specialist.telegram_id,
            "location": specialist.location,
            "services": list(specialist.services),
            "weekly": [
                _drop_none(
                    {
                        "days": [WEEKDAYS[d] for d in sorted(entry.days)],
                        **_dump_hours(entry.hours),
                        "valid_from": _iso(entry.valid_from),
                        "valid_until": _iso(entry.valid_until),
                    }
                )
                for entry in specialist.weekly
            ],
            "overrides": [_dump_override(o) for o in specialist.overrides],
            "blocks": [
                _drop_none(
                    {
                        "start": _wall(block.start, tz),
                        "end": _wall(block.end, tz),
                        "reason": block.reason,
                    }
                )
                for block in specialist.blocks
            ],
        }
    )


def _dump_override(override: Override) -> dict:
    if override.type == OverrideType.VACATION:
        dates = {"from": _iso(override.first), "to": _iso(override.last)}
    else:
        dates = {"date": _iso(override.first)}
    hours = _dump_hours(override.hours) if override.hours else {}
    if override.type == OverrideType.EXTRA_SLOTS:
        hours.pop("break_after", None)
    return _drop_none({"type": str(override.type), **dates, **hours, "reason": override.reason})


def _dump_hours(hours: Hours) -> dict:
    window: dict[str, Any]
    if hours.start is not None and hours.end is not None:
        window = {"start": hours.start.strftime("%H:%M"), "end": hours.end.strftime("%H:%M")}
    else:
        window = {"times": [t.strftime("%H:%M") for t in hours.times]}
    window["slot"] = parsing.format_duration(hours.slot)
    if hours.break_after:
        window["break_after"] = parsing.format_duration(hours.break_after)
    if hours.location is not None:
        window["location"] = hours.location
    return window


def _dump_booking(booking: Booking, specialist: Specialist, business: Business) -> dict:
    tz = zone(specialist.zone(business))
    client = booking.client
    return _drop_none(
        {
            "id": booking.id,
            "specialist": booking.specialist,
            "service": booking.service,
            "start": _wall(booking.start, tz),
            "end": _wall(booking.end, tz),
            "status": str(booking.status),
            "location": booking.location,
            "client": _drop_none(
                {"name": client.name, "phone": client.phone, "telegram_id": client.telegram_id}
            )
            if client
            else None,
        }
    )


def _dump_payment(payment: Payment) -> dict:
    """A payment as history: amounts as decimals of its currency, instants in UTC."""

    def utc(instant: datetime | None) -> str | None:
        return None if instant is None else instant.astimezone(UTC).isoformat()

    return _drop_none(
        {
            "id": payment.id,
            "booking": payment.booking,
            "amount": money.text(payment.amount, payment.currency),
            "currency": payment.currency,
            "telegram_charge_id": payment.telegram_charge_id,
            "provider_charge_id": payment.provider_charge_id,
            "paid_at": utc(payment.paid_at),
            "refund_owed_at": utc(payment.refund_owed_at),
            "refunded_at": utc(payment.refunded_at),
        }
    )


def _calendar_field(codes: tuple[str, ...]) -> str | list[str]:
    if not codes:
        return NO_CALENDAR
    return codes[0] if len(codes) == 1 else list(codes)


def _wall(instant: datetime, tz: ZoneInfo) -> str:
    """An instant as the file writes it: local, with the UTC offset where that is ambiguous.

    In the hour the clocks go back a wall time happens twice; without the offset it would
    read back as its first occurrence (a booking across the fold would come back shorter).
    """
    local = instant.astimezone(tz)
    if local.second or local.microsecond:
        return local.isoformat()
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return local.isoformat(timespec="minutes")
    return local.strftime("%Y-%m-%dT%H:%M")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _drop_none(data: dict) -> dict:
    return {k: v for k, v in data.items() if v is not None and v != [] and v != {}}
