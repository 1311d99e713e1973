"""`--location` and `--near LAT,LON [--within KM]` on slots, next, next --each, holes, search."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import run  # noqa: F401 - the fixture
from tests.clinics import CHAIN, NOW

ALEXANDERPLATZ = "52.5219,13.4132"  # Mitte 1.72 km away, Spandau 14.28 km, Salzburg 520 km


@pytest.fixture
def chain(tmp_path: Path, run) -> None:  # noqa: F811
    """The chain imported into the fresh database."""
    path = tmp_path / "chain.yaml"
    path.write_text(CHAIN)
    code, _, err = run("import", str(path))
    assert code == 0, err


def answer(run, *args: str):  # noqa: F811
    code, out, err = run(*args, "--json", "--now", NOW)
    assert code == 0, err
    return json.loads(out)


def test_slots_at_one_location_carry_it(run, chain) -> None:  # noqa: F811
    found = answer(
        run, "slots", "--service", "checkup", "--date", "2026-12-08", "--location", "mitte"
    )
    assert [(s["specialist"], s["start"][11:16], s["location"]) for s in found] == [
        ("ann", "09:00", "mitte"),
        ("ann", "09:30", "mitte"),
        ("ann", "10:00", "mitte"),
        ("ann", "10:30", "mitte"),
        ("eva", "14:00", "mitte"),
        ("eva", "14:30", "mitte"),
    ]
    assert all("km" not in s for s in found)


def test_slots_of_a_specialist_near_a_point_carry_the_distance(run, chain) -> None:  # noqa: F811
    found = answer(
        run, "slots", "--specialist", "ann", "--date", "2026-12-03", "--near", ALEXANDERPLATZ
    )
    assert [(s["start"][11:16], s["location"], s["km"]) for s in found] == [
        ("09:00", "spandau", 14.28),
        ("09:30", "spandau", 14.28),
        ("10:00", "spandau", 14.28),
        ("10:30", "spandau", 14.28),
        ("11:00", "mitte", 1.72),
        ("11:30", "mitte", 1.72),
    ]


def test_next_at_a_location_and_each_near_a_point(run, chain) -> None:  # noqa: F811
    assert answer(run, "next", "--service", "checkup", "--location", "spandau") == {
        "specialist": "ann",
        "start": "2026-12-03T09:00:00+01:00",
        "end": "2026-12-03T09:30:00+01:00",
        "location": "spandau",
    }
    each = answer(run, "next", "--service", "checkup", "--each", "--location", "salzburg")
    assert [
        (d["specialist"], d["date"], [s["start"][11:16] for s in d["slots"]]) for d in each
    ] == [
        ("eva", "2026-12-01", ["09:00", "09:30"]),
        ("max", "2026-12-01", ["09:00", "09:30"]),
    ]  # Ann never works in Salzburg: she is not listed
    near = answer(
        run, "next", "--service", "checkup", "--each", "--near", ALEXANDERPLATZ, "--within", "10"
    )
    assert [(d["specialist"], d["date"], d["slots"][0]["km"]) for d in near] == [
        ("ann", "2026-11-30", 1.72),
        ("eva", "2026-12-01", 1.72),
    ]


def test_holes_near_a_point_never_run_across_two_places(run, chain) -> None:  # noqa: F811
    found = answer(
        run,
        "holes",
        "--service",
        "checkup",
        "--from",
        "2026-12-03",
        "--to",
        "2026-12-03",
        "--near",
        ALEXANDERPLATZ,
    )
    assert [(h["start"][11:16], h["end"][11:16], h["location"], h["km"]) for h in found] == [
        ("09:00", "11:00", "spandau", 14.28),
        ("11:00", "12:00", "mitte", 1.72),
    ]


def test_search_within_a_distance_lists_only_who_works_there(run, chain) -> None:  # noqa: F811
    page = answer(run, "search", "--service", "checkup", "--near", ALEXANDERPLATZ, "--within", "10")
    assert [(p["specialist"], p["date"], p["slots"][0]["location"]) for p in page] == [
        ("ann", "2026-11-30", "mitte"),
        ("eva", "2026-12-01", "mitte"),
    ]
    code, out, err = run("search", "--service", "checkup", "--location", "spandau", "--now", NOW)
    assert code == 0, err
    assert "spandau" in out and "eva" not in out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--near", "91,13"], "is not a point"),
        (["--near", "north"], "is not a point"),
        (["--near", "52.5,13.4", "--within", "0"], "is not a distance"),
        (["--near", "52.5,13.4", "--within", "1e3"], "is not a distance"),
        (["--within", "5"], "--within is a distance from the point of --near"),
        (["--location", "moon"], 'no location has the id "moon"'),
        (["--location", "mitte", "--near", "52.5,13.4"], "not allowed with argument"),
    ],
)
def test_a_bad_place_gets_a_usage_line(run, chain, args: list[str], says: str) -> None:  # noqa: F811
    code, out, err = run("slots", "--service", "checkup", "--date", "2026-12-08", *args)
    assert code == 2
    assert out == ""
    assert says in err and len(err.strip().splitlines()) == 1


def test_a_booking_keeps_the_place_of_its_window(run, chain) -> None:  # noqa: F811
    booked = answer(
        run, "book", "--specialist", "ann", "--service", "checkup", "--start", "2026-12-03T11:00"
    )
    assert (booked["start"], booked["location"]) == ("2026-12-03T11:00:00+01:00", "mitte")
    listed = answer(run, "bookings", "--specialist", "ann")
    assert [(b["start"][11:16], b["location"]) for b in listed] == [("11:00", "mitte")]
    later = answer(
        run, "slots", "--specialist", "ann", "--date", "2026-12-03", "--location", "mitte"
    )
    assert [s["start"][11:16] for s in later] == ["11:30"]


def test_the_demo_is_a_small_chain(run) -> None:  # noqa: F811
    assert run("demo", "--now", NOW)[0] == 0
    thursday = answer(run, "slots", "--specialist", "ann", "--date", "2026-12-03")
    assert {s["location"] for s in thursday} == {"schwabing"}  # Monday to Wednesday: Altstadt
    monday = answer(run, "slots", "--specialist", "ann", "--date", "2026-11-30")
    assert {s["location"] for s in monday} == {"altstadt"}
    # Salzburg keeps Austria's holidays: 8 December closes Carla's day there.
    carla = ("slots", "--specialist", "carla", "--date", "2026-12-08", "--to", "2026-12-09")
    assert {s["start"][:10] for s in answer(run, *carla)} == {"2026-12-09"}
    near = answer(
        run, "next", "--service", "checkup", "--each", "--near", "48.14,11.58", "--within", "10"
    )
    assert sorted(d["specialist"] for d in near) == ["ann", "ben", "dmitri"]
