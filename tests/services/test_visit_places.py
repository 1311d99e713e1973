"""A visit at a place: the phone to call is the place's own, else the business's."""

from __future__ import annotations

from datetime import datetime

from msgspec.structs import replace

from bookbot import clinic_file
from bookbot.engine.model import Booking
from bookbot.services.visits import Visit
from tests.clinics import CHAIN

START = datetime.fromisoformat("2026-12-03T09:00:00+01:00")


def test_the_phone_to_call_is_the_visits_places() -> None:
    clinic = clinic_file.read(
        CHAIN.replace("holidays: DE-BE\n", 'holidays: DE-BE\nphone: "+4930100"\n')
    )
    service, ann = clinic.services[0], clinic.specialists[0]
    booked = Booking("ann", "checkup", START, START.replace(minute=30), location="spandau")
    assert Visit(booked, service, ann, clinic.business).phone == "+49303333333"
    at_mitte = replace(booked, location="mitte")  # Mitte has no phone of its own
    assert Visit(at_mitte, service, ann, clinic.business).phone == "+4930100"
    assert Visit(replace(booked, location=None), service, ann, clinic.business).phone == "+4930100"
