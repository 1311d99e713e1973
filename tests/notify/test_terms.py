"""A visit's terms as the client reads them: price, free cancellation, whom to call; .ics."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar

from bookbot.engine.model import Booking, Business, Service, Specialist
from bookbot.engine.policy import Policy
from bookbot.notify import terms
from bookbot.notify.ics import invitation
from bookbot.services.visits import Visit, phone_to_call

START = datetime.fromisoformat("2026-12-08T09:00:00+01:00")  # Tuesday, Berlin
BEFORE = datetime.fromisoformat("2026-12-07T07:59:00+00:00")  # a minute before Mon 09:00
AFTER = datetime.fromisoformat("2026-12-07T08:01:00+00:00")
PRICED = Service("checkup", "Check-up", price=6000)
CLINIC = Business("Europe/Berlin", currency="EUR", phone="+49 89 1234567")
DAY_NOTICE = Policy(cancel_notice=timedelta(hours=24))


def visit(service: Service = PRICED, business: Business = CLINIC) -> Visit:
    booking = Booking("ann", service.id, START, START + timedelta(minutes=30), id=3)
    return Visit(booking, service, Specialist("ann", "Dr. Ann Weber"), business)


def test_the_price_and_the_free_cancellation_are_said_in_english_and_russian() -> None:
    held = visit(business=Business("Europe/Berlin", currency="EUR", policy=DAY_NOTICE))
    assert terms.lines(held, "en", BEFORE) == [
        "Price: €60.00",
        "Free cancellation until Mon 7 Dec, 09:00",
    ]
    assert terms.lines(held, "ru", BEFORE) == [
        "Цена: 60,00\xa0€",
        "Бесплатная отмена до пн 7 дек., 09:00",
    ]


def test_without_a_price_or_a_cut_off_nothing_is_said() -> None:
    assert terms.lines(visit(Service("checkup", "Check-up")), "en", BEFORE) == []
    no_currency = Business("Europe/Berlin", policy=DAY_NOTICE)
    assert terms.lines(visit(business=no_currency), "en", BEFORE) == [
        "Free cancellation until Mon 7 Dec, 09:00"
    ]


def test_the_services_own_notice_sets_the_cut_off() -> None:
    own = Service("checkup", "Check-up", cancel_notice=timedelta(hours=48))
    assert terms.lines(visit(own), "en", BEFORE - timedelta(days=2)) == [
        "Free cancellation until Sun 6 Dec, 09:00"
    ]


def test_past_the_cut_off_the_client_is_told_whom_to_call() -> None:
    policed = Business("Europe/Berlin", phone="+49 89 1234567", policy=DAY_NOTICE)
    held = visit(Service("checkup", "Check-up"), policed)
    assert held.client_may_change(BEFORE) and not held.client_may_change(AFTER)
    assert terms.lines(held, "en", AFTER) == ["To change it, call +49 89 1234567."]
    assert terms.call(held, "ru") == "Чтобы изменить запись, позвоните: +49 89 1234567."
    unlisted = visit(Service("checkup", "Check-up"), Business("Europe/Berlin", policy=DAY_NOTICE))
    assert terms.call(unlisted, "en") == "To change it, please contact us."
    assert phone_to_call(policed) == "+49 89 1234567" and phone_to_call(unlisted.business) is None


def test_a_service_button_carries_its_price() -> None:
    assert terms.service_label("Check-up", (6000, "EUR"), "en") == "Check-up · €60.00"
    assert terms.service_label("Check-up", None, "en") == "Check-up"


def test_the_ics_description_states_the_cut_off_only_when_there_is_one() -> None:
    held = visit(business=Business("Europe/Berlin", currency="EUR", policy=DAY_NOTICE))
    event = Calendar.from_ical(invitation(held, "en", BEFORE)).walk("VEVENT")[0]
    assert str(event["description"]) == "Price: €60.00\nFree cancellation until Mon 7 Dec, 09:00"
    bare = visit(Service("checkup", "Check-up"), Business("Europe/Berlin"))
    assert "description" not in Calendar.from_ical(invitation(bare, "en", BEFORE)).walk("VEVENT")[0]
