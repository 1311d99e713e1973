"""/location end to end over the emulator: places added, renamed, who works where, refusals.

The chain is tests/clinics.py CHAIN on Monday 30 November 2026, 08:00 in Berlin: Ann at
Mitte on Monday and Tuesday, at Spandau on Thursday 09-11 and at Mitte 11-12; Eva and Max
at Salzburg on Tuesday.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import pytest
from icalendar import Calendar

from bookbot.engine.model import Client
from bookbot.engine.places import Where
from bookbot.services.availability import free_slots
from bookbot.services.booked import list_bookings
from bookbot.services.bookings import book
from bookbot.services.directory import soonest_slot
from bookbot.testing.emulator import BotApiEmulator, ChatMessage, ChatUser
from tests.bot.conftest import Clock, Harness
from tests.bot.staff import ADMIN, exported, link, on_db, press, say, staffed, started
from tests.clinics import CHAIN

BOB = 42  # a client of Ann's, with the bot open
__all__ = ["staffed"]  # the fixture, used by name below


@pytest.fixture
async def chain(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> AsyncIterator[Harness]:
    """The bot on the CHAIN clinic, ADMIN an admin."""
    running = await started(emulator, tmp_path, clock, CHAIN)
    yield running
    await running.stop()


def at(text: str) -> datetime:
    """A Berlin wall time in December 2026 as an aware instant."""
    return datetime.fromisoformat(text + "+01:00")


async def letter(h: Harness, user: ChatUser) -> ChatMessage:
    """Waits for the outbox's notice of a moved visit, which carries the .ics file."""
    async with asyncio.timeout(5):
        while True:
            for m in h.emulator.chat(user).messages:
                if m.document is not None and "has moved" in (m.caption or ""):
                    return m
            await asyncio.sleep(0.05)


async def starts(h: Harness, place: str, day: date) -> list[str]:
    """The free check-up starts of a date at one place, as the day index answers."""
    found = await on_db(
        h, free_slots, h.clock(), day, day, service="checkup", where=Where(frozenset({place}))
    )
    return [f"{s.specialist} {s.start:%H:%M}" for s in found]


async def test_places_are_listed_added_renamed_and_a_specialist_moves_to_one(chain) -> None:
    h = chain
    boss = h.emulator.user(ADMIN, "Boss")
    listed = await say(h, boss, "/location")
    assert listed.text.splitlines()[1] == (
        "mitte · Berlin Mitte · Friedrichstr. 1, 10117 Berlin · 52.52, 13.388 · ☎ — · Europe/Berlin"
    )
    assert "based here: Eva, Max" in listed.text and "based here: Ann" in listed.text

    adding = "/location add kreuzberg Kreuzberg Studio | Oranienstr. 10, 10999 Berlin | 52.5,13.42"
    added = await say(h, boss, adding)
    assert added.text == "Place added: Kreuzberg Studio (kreuzberg)."
    renamed = await say(h, boss, "/location rename kreuzberg Kreuzberg")
    assert renamed.text == "Place kreuzberg is now called Kreuzberg."
    moved = await say(h, boss, "/location address kreuzberg Oranienstr. 12, 10999 Berlin")
    assert moved.text == "Kreuzberg is at Oranienstr. 12, 10999 Berlin now."
    place = (await exported(h)).business.location("kreuzberg")
    assert place is not None
    assert (place.name, place.address, place.lat, place.lon) == (
        "Kreuzberg",
        "Oranienstr. 12, 10999 Berlin",
        None,
        None,
    )
    assert await starts(h, "kreuzberg", date(2026, 12, 1)) == []

    done = await say(h, boss, "/location set max kreuzberg")
    assert done.text.startswith(
        "Max is based at Kreuzberg now: hours that name no place are worked there."
    )
    assert "Tue 1 Dec · 09:00–10:00 📍 Kreuzberg" in done.text
    assert await starts(h, "kreuzberg", date(2026, 12, 1)) == ["max 09:00", "max 09:30"]
    assert await starts(h, "salzburg", date(2026, 12, 1)) == ["eva 09:00", "eva 09:30"]
    assert "based here: Max" in (await say(h, boss, "/location")).text

    # The client's Where? step offers the new place, with Max's free times there.
    user = h.emulator.user(81, "Ida", phone_number="+4915100000081")
    await say(h, user, "/start")
    where = await press(h, user, "Check-up")
    assert any(b.text.startswith("Kreuzberg, Oranienstr. 12") for b in where.buttons)
    specialists = await press(h, user, "Kreuzberg")
    assert [b.text.split(" · ")[0] for b in specialists.buttons][:1] == ["Max"]
    assert not any(b.text.startswith(("Ann", "Eva")) for b in specialists.buttons)
    await press(h, user, "Max")
    times = await press(h, user, "Soonest")
    assert [b.text for b in times.buttons][:2] == ["09:00", "09:30"]
    soonest = await on_db(
        h, soonest_slot, h.clock(), "checkup", where=Where(frozenset({"kreuzberg"}))
    )
    assert soonest is not None and soonest.start == at("2026-12-01T09:00")


async def test_a_weekday_moves_with_its_visit_and_the_client_is_told(chain) -> None:
    h = chain
    boss = h.emulator.user(ADMIN, "Boss")
    await say(h, boss, "/help")
    bob = h.emulator.user(BOB, "Bob")
    await say(h, bob, "/help")
    visit = await on_db(
        h,
        book,
        h.clock(),
        "ann",
        "checkup",
        at("2026-12-03T11:00"),
        Client("Bob Stone", "+4915112345678", BOB),
    )
    assert visit.location == "mitte"
    before = await say(h, boss, "/schedule ann thu")
    assert "Thu 3 Dec · 09:00–11:00 📍 Spandau, 11:00–12:00 📍 Berlin Mitte" in before.text

    done = await say(h, boss, "/location set ann spandau thu")
    assert done.text.startswith("Ann works at Spandau on Thu now.")
    assert "Coming visits moved with it (1); each client is told:" in done.text
    assert "Thu 3 Dec 11:00–11:30 Bob Stone" in done.text
    assert "Thu 3 Dec · 09:00–12:00 📍 Spandau" in done.text
    told = await letter(h, bob)
    assert told.caption is not None
    assert told.caption.startswith("Your visit has moved to another place: Check-up with Ann")
    assert "📍 Spandau, Carl-Schurz-Str. 2, 13597 Berlin" in told.caption
    assert told.document is not None
    event = Calendar.from_ical(told.document.data).walk("VEVENT")[0]
    assert str(event["location"]) == "Spandau, Carl-Schurz-Str. 2, 13597 Berlin"
    found = await on_db(h, list_bookings)
    assert [(b.id, b.location) for b in found] == [(visit.id, "spandau")]
    assert await starts(h, "spandau", date(2026, 12, 3)) == [
        "ann 09:00",
        "ann 09:30",
        "ann 10:00",
        "ann 10:30",
        "ann 11:30",
    ]
    assert await starts(h, "mitte", date(2026, 12, 3)) == []
    assert await starts(h, "mitte", date(2026, 12, 1)) == [
        "ann 09:00",
        "ann 09:30",
        "ann 10:00",
        "ann 10:30",
        "eva 14:00",
        "eva 14:30",
    ]
    ann = next(s for s in (await exported(h)).specialists if s.id == "ann")
    assert [(sorted(e.days), e.hours.location) for e in ann.weekly] == [
        ([0, 1], None),
        ([3], "spandau"),
        ([3], "spandau"),
    ]


async def test_a_dates_hours_move_and_russian_weekdays_are_read(chain) -> None:
    h = chain
    boss = h.emulator.user(ADMIN, "Boss")
    await say(h, boss, "/hours eva 2026-12-10 09:00-12:00 30m")
    done = await say(h, boss, "/location set eva mitte 2026-12-10")
    assert done.text.startswith("Eva works at Berlin Mitte on Thu 10 Dec now.")
    assert "Thu 10 Dec · 09:00–12:00 📍 Berlin Mitte" in done.text
    assert (await starts(h, "mitte", date(2026, 12, 10)))[:1] == ["eva 09:00"]
    assert await starts(h, "salzburg", date(2026, 12, 10)) == []
    done = await say(h, boss, "/location set max mitte вт")
    assert done.text.startswith("Max works at Berlin Mitte on Tue now.")
    assert (
        "/location: places: list, add, rename, who works where"
        in (await say(h, boss, "/help")).text
    )
    russian = h.emulator.user(ADMIN, "Boss", language_code="ru")
    listed = await say(h, russian, "/location")
    assert listed.text.startswith("Филиалы\n")
    assert "здесь работают: Eva, Max" in listed.text  # Max's Tuesday moved, not his base
    done = await say(h, russian, "/location set eva salzburg 2026-12-10")
    assert done.text.startswith("Eva: чт 10 дек. — работа в «Salzburg».\n")


async def test_refusals_change_nothing(chain) -> None:
    h = chain
    boss = h.emulator.user(ADMIN, "Boss")
    await say(h, boss, "/extra ann 2026-12-07 10:00 30m")
    before = await exported(h)

    clash = await say(h, boss, "/location set ann spandau 2026-12-07")
    assert clash.text == (
        "that would put Ann at Spandau and at Berlin Mitte at once (2026-12-07): "
        "a specialist is in one place at a time; nothing changed"
    )
    unknown = await say(h, boss, "/location set ann nowhere thu")
    assert unknown.text.startswith('no location has the id "nowhere". Usage: /location;')
    far = await say(h, boss, "/location add far Far Away | Somewhere 1 | 95,13")
    assert far.text.startswith('"95.0" is out of bounds: write degrees from -90.0 to 90.0. Usage:')
    typo = await say(h, boss, "/location add far Far Away | Somewhere 1 | 52.5;13")
    assert typo.text.startswith('"52.5;13" is not a point (write LAT,LON in degrees')
    taken = await say(h, boss, "/location add mitte Mitte Two | Somewhere 2")
    assert taken.text.startswith('a place with the id "mitte" exists already')
    nothing = await say(h, boss, "/location set ann spandau sat")
    assert nothing.text.startswith("Ann has no weekly hours on sat; nothing changed")
    no_date = await say(h, boss, "/location set ann spandau 2026-12-08")
    assert no_date.text.startswith("Ann has no custom hours or extra slots on 2026-12-08")
    bad = await say(h, boss, "/location move ann")
    assert bad.text.startswith('"move" is not a /location command (add, rename, address or set)')
    short = await say(h, boss, "/location add lonely")
    assert short.text.startswith("Usage: /location;")
    long_address = await say(h, boss, "/location add far Far | " + "a" * 201)
    assert long_address.text.startswith("that text is 201 characters long; at most 200, please")
    long_name = await say(h, boss, "/location rename mitte " + "n" * 101)
    assert long_name.text.startswith("that text is 101 characters long; at most 100, please")
    long_id = await say(h, boss, f"/location add {'x' * 61} X | Y")
    assert "is longer than 60 characters; choose a shorter id" in long_id.text
    precise = await say(h, boss, "/location address mitte Road 1 | 52.12345678901,13")
    assert precise.text.startswith('"52.12345678901,13" is not a point')

    client = h.emulator.user(77, "Cleo")
    assert (await say(h, client, "/location")).text == "Sorry, this command is for admins."
    ann = h.emulator.user(91, "Ann")
    await link(h, "ann", ann)
    refused = await say(h, ann, "/location set ann spandau")
    assert refused.text == "Sorry, this command is for admins."
    assert (await say(h, client, "/location add x X | Y")).text.startswith("Sorry")

    after = await exported(h)
    assert after.business == before.business
    assert [s for s in after.specialists if s.id != "ann"] == [
        s for s in before.specialists if s.id != "ann"
    ]
    was = next(s for s in before.specialists if s.id == "ann")
    now = next(s for s in after.specialists if s.id == "ann")
    assert (now.weekly, now.overrides, now.location) == (was.weekly, was.overrides, was.location)


async def test_a_change_that_would_split_a_visit_across_two_places_is_refused(chain) -> None:
    h = chain
    boss = h.emulator.user(ADMIN, "Boss")
    done = await say(h, boss, "/location set ann spandau")
    assert "Thu 3 Dec · 09:00–12:00 📍 Spandau" in done.text
    long = await on_db(
        h, book, h.clock(), "ann", "hygiene", at("2026-12-03T10:30"), Client("Zoe", "+491", 43)
    )
    assert long.location == "spandau"
    refused = await say(h, boss, "/location set ann mitte")
    assert refused.text == (
        "coming visits of Ann (1) would run across two places' hours; cancel or move them "
        "first; nothing changed"
    )
    ann = next(s for s in (await exported(h)).specialists if s.id == "ann")
    assert ann.location == "spandau"


async def test_the_first_place_of_a_business_is_everyones(staffed) -> None:
    h = staffed
    boss = h.emulator.user(ADMIN, "Boss")
    assert (await say(h, boss, "/location")).text.startswith("No places yet. Add one:")
    added = await say(h, boss, "/location add main Main Street | Hauptstr. 1, 80331 München")
    assert added.text == (
        "Place added: Main Street (main).\n"
        "It is the first place: 2 specialist(s) are based at Main Street now."
    )
    assert [s.location for s in (await exported(h)).specialists] == ["main", "main"]
    shown = await say(h, boss, "/schedule ann 2026-12-01")
    assert "Tue 1 Dec · 09:00–13:00\n" in shown.text  # one place: none named
    assert "📍" not in shown.text
