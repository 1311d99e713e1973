"""A chain's Where? as the chat asks it: places by distance, the draft's place, the hold there."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bookbot import clinic_file
from bookbot.errors import BookbotError
from bookbot.services import bookings, chat, places
from bookbot.services.availability import ANY
from bookbot.services.clinic import import_clinic
from bookbot.store.chats import Draft
from bookbot.store.db import Database
from tests.clinics import BASIC, CHAIN, NOW

T0 = datetime.fromisoformat(NOW)
HOLD = timedelta(minutes=10)
SPANDAU = (52.535, 13.21)


async def test_places_are_listed_in_the_files_order_or_nearest_first(db: Database) -> None:
    await import_clinic(db, clinic_file.read(CHAIN), T0)
    listed = await places.offering(db, T0, "checkup")
    assert [(p.location.id, p.km, p.soonest) for p in listed] == [
        ("mitte", None, None),
        ("spandau", None, None),
        ("salzburg", None, None),
    ]
    near = await places.offering(db, T0, "checkup", point=SPANDAU, first=0, count=2)
    assert [p.location.id for p in near] == ["spandau", "mitte", "salzburg"]
    assert [round(p.km or 0, 1) for p in near] == [0.5, 12.2, 526.6]
    soonest = [p.soonest.start.isoformat() if p.soonest else None for p in near]
    assert soonest == ["2026-12-03T09:00:00+01:00", "2026-11-30T09:00:00+01:00", None]
    hygiene = await places.offering(db, T0, "hygiene")  # only Ann gives it: not at Salzburg
    assert [p.location.id for p in hygiene] == ["mitte", "spandau"]


async def test_a_single_location_business_lists_no_places(db: Database) -> None:
    await import_clinic(db, clinic_file.read(BASIC), T0)
    assert await places.offering(db, T0, "checkup", count=10) == []


async def test_the_draft_keeps_the_place_and_the_point(db: Database) -> None:
    await import_clinic(db, clinic_file.read(CHAIN), T0)
    kept = Draft(7, "checkup", ANY, None, "spandau", *SPANDAU)
    await chat.save_draft(db, T0, kept)
    found = await chat.chat(db, 7)
    assert found.draft == kept and found.draft.point == SPANDAU
    await chat.restart(db, T0, 7)
    assert (await chat.chat(db, 7)).draft == Draft(7)


async def test_a_hold_asked_at_a_place_takes_only_a_slot_there(db: Database) -> None:
    await import_clinic(db, clinic_file.read(CHAIN), T0)
    thursday_mitte = datetime.fromisoformat("2026-12-03T11:00:00+01:00")
    with pytest.raises(BookbotError) as refused:
        await bookings.hold(
            db, T0, 7, "checkup", "ann", thursday_mitte, HOLD, where=places.chosen("spandau")
        )
    assert refused.value.key == "refused.taken"
    held = await bookings.hold(
        db, T0, 7, "checkup", "ann", thursday_mitte, HOLD, where=places.chosen("mitte")
    )
    assert held.booking.location == "mitte"
    tuesday = datetime.fromisoformat("2026-12-01T09:00:00+01:00")
    anyone = await bookings.hold(
        db, T0, 8, "checkup", ANY, tuesday, HOLD, where=places.chosen("salzburg")
    )
    assert (anyone.booking.specialist, anyone.booking.location) == ("eva", "salzburg")
    assert places.chosen(ANY) is None and places.chosen(None) is None
