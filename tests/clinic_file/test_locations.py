"""Locations and places come back exactly through the database; bad ones are refused."""

from __future__ import annotations

import pytest

from bookbot import clinic_file
from bookbot.errors import Invalid
from bookbot.services.clinic import export_clinic, import_clinic
from bookbot.store.db import Database
from tests.clinics import CHAIN

PLACED = CHAIN + (
    "    overrides:\n"
    "      - {date: 2026-12-15, type: custom_hours, start: '12:00', end: '13:00', slot: 30m,"
    " location: mitte}\n"
    "      - {date: 2026-12-15, type: extra_slots, times: ['16:00'], slot: 30m}\n"
    "      - {date: 2026-12-16, type: day_off}\n"
)


async def test_a_chain_comes_back_exactly_through_the_database(db: Database) -> None:
    read = clinic_file.read(PLACED)
    await import_clinic(db, read)
    exported = await export_clinic(db)
    assert exported.business == read.business
    assert exported.specialists == read.specialists
    text = clinic_file.dump(exported)
    assert clinic_file.read(text) == exported
    assert "lat: 52.5363" in text and "location: spandau" in text
    assert (await import_clinic(db, clinic_file.read(text))).changed == 0


async def test_a_location_the_file_leaves_out_is_kept_and_one_it_names_is_updated(
    db: Database,
) -> None:
    await import_clinic(db, clinic_file.read(CHAIN))
    renamed = CHAIN.replace("name: Spandau,", "name: Spandau Altstadt,")
    await import_clinic(db, clinic_file.read(renamed))
    places = (await export_clinic(db)).business.locations
    assert [(p.id, p.name) for p in places] == [
        ("mitte", "Berlin Mitte"),
        ("spandau", "Spandau Altstadt"),
        ("salzburg", "Salzburg"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "path", "key"),
    [
        ("lat: 52.52,", "lat: 91,", "locations[0].lat", "file.degrees_out_of_range"),
        ("lat: 52.52,", "lat: north,", "locations[0].lat", "file.not_degrees"),
        ("lat: 52.52,", "", "locations[0].lat", "file.goes_with_coordinate"),
        ('address: "Friedrichstr. 1, 10117 Berlin",', "", "locations[0].address", "error.required"),
        ("holidays: AT", "holidays: XX", "locations[2].holidays", "error.unknown_calendar"),
        ("id: spandau,", "id: mitte,", "locations[1].id", "error.duplicate_id"),
        (
            "    location: mitte\n",
            "    location: moon\n",
            "specialists[0].location",
            "error.unknown_location",
        ),
    ],
)
def test_a_bad_location_is_refused_with_its_path(old: str, new: str, path: str, key: str) -> None:
    with pytest.raises(Invalid) as refused:
        clinic_file.read(CHAIN.replace(old, new, 1))
    assert (path, key) in [(p.path, p.key) for p in refused.value.problems]


def test_a_day_off_names_no_place() -> None:
    with pytest.raises(Invalid) as refused:
        clinic_file.read(PLACED.replace("type: day_off}", "type: day_off, location: mitte}"))
    assert [(p.path, p.key) for p in refused.value.problems] == [
        ("specialists[2].overrides[2].location", "error.unknown_field")
    ]


async def test_a_booking_in_the_file_gets_the_place_of_its_window_and_keeps_it(
    db: Database,
) -> None:
    booked = CHAIN + (
        "bookings:\n"
        "  - {id: 7, specialist: ann, service: checkup, start: 2026-12-03T09:00}\n"
        "  - {id: 8, specialist: ann, service: checkup, start: 2026-12-03T11:00}\n"
        "  - {id: 9, specialist: ann, service: checkup, start: 2026-12-02T09:00}\n"
    )
    await import_clinic(db, clinic_file.read(booked))
    places = {b.id: b.location for b in (await export_clinic(db)).bookings}
    assert places == {7: "spandau", 8: "mitte", 9: None}  # no window on Wednesday
    # Thursday morning moves to Mitte: the booking made at Spandau stays there.
    moved = booked.replace("slot: 30m, location: spandau}", "slot: 30m}", 1)
    assert (await import_clinic(db, clinic_file.read(moved))).changed == 1  # Ann's template
    assert {b.id: b.location for b in (await export_clinic(db)).bookings} == places
    text = clinic_file.dump(await export_clinic(db))
    assert (await import_clinic(db, clinic_file.read(text))).changed == 0
    # The export names each booking's place, so a fresh import keeps Spandau for booking 7
    # although Thursday morning is now at Mitte.
    assert {b.id: b.location for b in clinic_file.read(text).bookings} == places


def test_a_booking_naming_an_unknown_place_is_refused_with_its_path() -> None:
    booked = CHAIN + (
        "bookings:\n"
        "  - {id: 7, specialist: ann, service: checkup, start: 2026-12-03T09:00,"
        " location: moon}\n"
    )
    with pytest.raises(Invalid) as refused:
        clinic_file.read(booked)
    assert [(p.path, p.key) for p in refused.value.problems] == [
        ("bookings[0].location", "error.unknown_location")
    ]
