"""A chain's Where? in the chat, end to end over the emulator: places, nearest, any, venues."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from icalendar import Calendar
from telegram import Bot
from telegram.error import BadRequest

from bookbot.services.booked import list_bookings
from bookbot.testing.emulator import BotApiEmulator, ChatMessage, ChatUser
from tests.bot.conftest import Clock, Harness
from tests.bot.staff import arrives, on_db, press, say, started
from tests.clinics import CHAIN

SPANDAU = (52.535, 13.21)  # a client a few hundred metres from the Spandau branch


@pytest.fixture
async def chain(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> AsyncIterator[Harness]:
    """The bot on the CHAIN clinic (Mitte, Spandau, Salzburg), imported at the clock's now."""
    running = await started(emulator, tmp_path, clock, CHAIN)
    yield running
    await running.stop()


def labels(h: Harness, user: ChatUser) -> list[str]:
    """The inline buttons of the newest message that has some."""
    shown = [m for m in h.emulator.chat(user).messages if m.buttons]
    return [b.text for b in shown[-1].buttons]


async def document(h: Harness, user: ChatUser) -> ChatMessage:
    """Waits for the outbox's confirmation, which carries the .ics file."""
    async with asyncio.timeout(5):
        while True:
            found = [m for m in h.emulator.chat(user).messages if m.document is not None]
            if found:
                return found[-1]
            await asyncio.sleep(0.05)


async def confirm_with_phone(h: Harness, user: ChatUser) -> str:
    """Shares the phone at the contact step, confirms; the summary's text."""
    await h.emulator.share_contact(user)
    summary = await arrives(h, user, "Please check and confirm")
    await press(h, user, "Confirm")
    await arrives(h, user, "Booked")
    return summary.text or ""


async def test_nearest_to_me_lists_the_nearest_branch_first_and_books_there(
    chain: Harness,
) -> None:
    h = chain
    user = h.emulator.user(71, "Lena", phone_number="+4915100000071")
    await say(h, user, "/start")
    where = await press(h, user, "Check-up")
    assert where.text is not None and where.text.startswith("Where would you like to come?")
    assert [label.split(",")[0] for label in labels(h, user)[:3]] == [
        "Berlin Mitte",
        "Spandau",
        "Salzburg",
    ]
    asked = await press(h, user, "Nearest to me")
    assert asked.reply_keyboard is not None
    await h.emulator.press_reply_button(user, "Share my location", location=SPANDAU)
    listed = await arrives(h, user, "Nearest to you first")
    names = [b.text for b in listed.buttons]
    assert names[0].startswith("Spandau, Carl-Schurz-Str. 2") and names[0].endswith(" km")
    assert names[1].startswith("Berlin Mitte") and names[2].startswith("Salzburg")
    assert h.emulator.chat(user).reply_keyboard is None  # the share button is gone
    specialists = await press(h, user, "Spandau")
    assert [b.text.split(" · ")[0] for b in specialists.buttons][:1] == ["Ann"]
    assert not any(b.text.startswith(("Eva", "Max")) for b in specialists.buttons)
    await press(h, user, "Ann")
    times = await press(h, user, "Soonest")
    shown = [b.text for b in times.buttons]
    assert shown[:4] == ["09:00", "09:30", "10:00", "10:30"]
    assert "11:00" not in shown  # Thursday 11:00 is Ann's at Mitte
    await press(h, user, "09:00")
    summary = await confirm_with_phone(h, user)
    assert "📍 Spandau, Carl-Schurz-Str. 2, 13597 Berlin" in summary
    booked = h.emulator.chat(user).messages
    assert any(
        "📍 Spandau" in (m.text or "") for m in booked if (m.text or "").startswith("Booked")
    )
    pins = [m.venue for m in booked if m.venue is not None]
    assert len(pins) == 1
    pin = pins[0]
    assert pin["title"] == "Spandau" and pin["address"] == "Carl-Schurz-Str. 2, 13597 Berlin"
    assert pin["location"] == {"latitude": 52.5363, "longitude": 13.2035}
    found = await on_db(h, list_bookings)
    assert [(b.specialist, b.location, b.start.isoformat()) for b in found] == [
        ("ann", "spandau", "2026-12-03T09:00:00+01:00")
    ]
    letter = await document(h, user)
    assert letter.caption is not None and "📍 Spandau, Carl-Schurz-Str. 2" in letter.caption
    assert letter.document is not None
    event = Calendar.from_ical(letter.document.data).walk("VEVENT")[0]
    assert str(event["location"]) == "Spandau, Carl-Schurz-Str. 2, 13597 Berlin"


async def test_any_place_books_across_branches(chain: Harness) -> None:
    h = chain
    first = h.emulator.user(72, "Ola", phone_number="+4915100000072")
    second = h.emulator.user(73, "Per", phone_number="+4915100000073")
    for user, who in ((first, "Max"), (second, "Ann")):
        await say(h, user, "/start")
        await press(h, user, "Check-up")
        specialists = await press(h, user, "Any place")
        assert {b.text.split(" · ")[0] for b in specialists.buttons} >= {"Ann", "Eva", "Max"}
        await press(h, user, who)
        await press(h, user, "Soonest")
        await press(h, user, "09:00")
        await confirm_with_phone(h, user)
    found = await on_db(h, list_bookings)
    assert sorted((b.specialist, b.location) for b in found) == [
        ("ann", "mitte"),
        ("max", "salzburg"),
    ]
    pins = [m.venue["title"] for m in h.emulator.chat(first).messages if m.venue is not None]
    assert pins == ["Salzburg"]


async def test_a_place_narrows_any_available_to_its_windows(chain: Harness) -> None:
    h = chain
    user = h.emulator.user(74, "Rui", phone_number="+4915100000074")
    await say(h, user, "/start")
    await press(h, user, "Check-up")
    await press(h, user, "Berlin Mitte")
    await press(h, user, "Any available")
    await press(h, user, "›")
    times = await press(h, user, "1")  # Tuesday 1 December
    shown = [b.text for b in times.buttons]
    assert "14:00" in shown and "09:00" in shown  # Eva at Mitte after lunch, Ann's morning
    await press(h, user, "14:00")
    await confirm_with_phone(h, user)
    found = await on_db(h, list_bookings)
    assert [(b.specialist, b.location) for b in found] == [("eva", "mitte")]


async def test_back_from_the_specialists_goes_to_where(chain: Harness) -> None:
    h = chain
    user = h.emulator.user(75, "Sam")
    await say(h, user, "/start")
    await press(h, user, "Check-up")
    await press(h, user, "Salzburg")
    back = await press(h, user, "« Back")
    assert back.text is not None and back.text.startswith("Where would you like to come?")


async def test_a_single_location_clinic_asks_no_where(harness: Harness) -> None:
    h = harness
    user = h.emulator.user(76, "Tom")
    await say(h, user, "/start")
    shown = await press(h, user, "Check-up")
    assert shown.text is not None and shown.text.startswith("Who would you like to see?")
    assert not any(
        b.callback_data.startswith(("a:", "f:")) for b in shown.buttons if b.callback_data
    )


async def test_the_emulator_checks_venues_as_telegram_does(emulator: BotApiEmulator) -> None:
    emulator.user(77, "Uma")
    async with Bot(emulator.token, base_url=f"{emulator.url}/bot") as bot:
        sent = await bot.send_venue(77, 52.5, 13.4, "Mitte", "Friedrichstr. 1")
        assert sent.venue is not None and sent.venue.title == "Mitte"
        assert sent.venue.location.latitude == 52.5
        for lat, lon, title, address, error in (
            (91, 13.4, "Mitte", "Friedrichstr. 1", "latitude"),
            (52.5, -180.5, "Mitte", "Friedrichstr. 1", "longitude"),
            (52.5, 13.4, " ", "Friedrichstr. 1", "title"),
            (52.5, 13.4, "Mitte", " ", "address"),
        ):
            with pytest.raises(BadRequest, match=error):
                await bot.send_venue(77, lat, lon, title, address)
        for missing in ("latitude", "title"):
            asked = {"chat_id": 77, "latitude": 1, "longitude": 2, "title": "A", "address": "B"}
            del asked[missing]
            with pytest.raises(BadRequest, match=missing), pytest.warns(UserWarning, match="Venue"):
                await bot.do_api_request("sendVenue", api_kwargs=asked)
    assert len([m for m in emulator.chat(77).messages if m.venue]) == 1


async def test_a_forged_place_is_refused_and_a_stray_location_points_to_start(
    chain: Harness,
) -> None:
    h = chain
    user = h.emulator.user(78, "Vic")
    stray = await h.emulator.share_location(user, *SPANDAU)
    answer = await arrives(h, user, "Send /start to book")
    assert answer.message_id > stray.message_id
    await say(h, user, "/start")
    where = await press(h, user, "Check-up")
    record = await h.emulator.tap_data(user, where.message_id, "a:nowhere")
    await h.emulator.wait_idle()
    assert record.show_alert and "nowhere" in (record.answer_text or "")
    assert h.emulator.chat(user).message(where.message_id).text == where.text
    for value in ((91.0, 13.0), (52.0, 181.0)):  # out of range: nothing kept
        await h.emulator.share_location(user, *value)
        await h.emulator.wait_idle()
    assert not [m for m in h.emulator.chat(user).messages if "Nearest to you" in (m.text or "")]


def many_places(count: int) -> str:
    """A chain of `count` branches along a line of latitude, one specialist at each."""
    lines = ["timezone: Europe/Berlin", "min_notice: 30m", "horizon_days: 30", "locations:"]
    lines += [
        f"  - {{id: b{i}, name: Branch {i}, address: Street {i}, lat: 52.0, lon: {13 + i / 10}}}"
        for i in range(count)
    ]
    lines += ["services:", "  - {id: checkup, name: Check-up}", "specialists:"]
    for i in range(count):
        lines += [
            f"  - id: s{i}",
            f"    name: Person {i}",
            f"    location: b{i}",
            "    services: [checkup]",
            "    weekly:",
            '      - {days: [mon, tue, wed, thu, fri], start: "09:00", end: "10:00", slot: 30m}',
        ]
    return "\n".join(lines) + "\n"


async def test_a_long_where_is_paged_and_paged_again_nearest_first(
    emulator: BotApiEmulator, tmp_path: Path, clock: Clock
) -> None:
    h = await started(emulator, tmp_path, clock, many_places(12))
    try:
        user = h.emulator.user(79, "Wim")
        await say(h, user, "/start")
        first = await press(h, user, "Check-up")
        names = [b.text.split(",")[0] for b in first.buttons if b.text.startswith("Branch")]
        assert names == [f"Branch {i}" for i in range(10)]
        assert any(b.text == "page 1 of 2" for b in first.buttons)
        second = await press(h, user, "›")
        names = [b.text.split(",")[0] for b in second.buttons if b.text.startswith("Branch")]
        assert names == ["Branch 10", "Branch 11"]
        await press(h, user, "Nearest to me")
        await h.emulator.press_reply_button(user, "Share my location", location=(52.0, 14.2))
        listed = await arrives(h, user, "Nearest to you first")
        names = [b.text.split(",")[0] for b in listed.buttons if b.text.startswith("Branch")]
        assert names[:3] == ["Branch 11", "Branch 10", "Branch 9"] and len(names) == 10
        more = await press(h, user, "›")
        names = [b.text.split(",")[0] for b in more.buttons if b.text.startswith("Branch")]
        assert names == ["Branch 1", "Branch 0"]
    finally:
        await h.stop()


async def test_moving_a_visit_stays_at_its_place(chain: Harness) -> None:
    h = chain
    user = h.emulator.user(80, "Xia", phone_number="+4915100000080")
    await say(h, user, "/start")
    await press(h, user, "Check-up")
    await press(h, user, "Spandau")
    await press(h, user, "Ann")
    await press(h, user, "Soonest")
    await press(h, user, "09:00")
    await confirm_with_phone(h, user)
    await say(h, user, "/my")
    month = await press(h, user, "Move")
    days = {b.text for b in month.buttons}
    # Thursdays at Spandau only, not Ann's Tuesday 1 December at Mitte
    assert {"3", "10"} <= days and "1" not in days
    times = await press(h, user, "3")
    assert [b.text for b in times.buttons][:4] == ["09:30", "10:00", "10:30", "« Back"]
    back = await press(h, user, "« Back")
    assert back.text is not None and back.text.startswith("Pick a day")
    specialists = await press(h, user, "« Back")
    assert [b.text.split(" · ")[0] for b in specialists.buttons][0] == "Ann"
    where = await press(h, user, "« Back")
    assert where.text is not None and where.text.startswith("Where would you like to come?")


async def test_moving_a_visit_to_the_nearest_place_still_lets_the_old_one_go(
    chain: Harness,
) -> None:
    h = chain
    user = h.emulator.user(81, "Yan", phone_number="+4915100000081")
    await say(h, user, "/start")
    await press(h, user, "Check-up")
    await press(h, user, "Berlin Mitte")
    await press(h, user, "Ann")
    await press(h, user, "Soonest")
    await press(h, user, "09:00")
    await confirm_with_phone(h, user)
    await say(h, user, "/my")
    await press(h, user, "Move")
    await press(h, user, "« Back")
    await press(h, user, "« Back")
    await press(h, user, "Nearest to me")
    await h.emulator.press_reply_button(user, "Share my location", location=SPANDAU)
    await arrives(h, user, "Nearest to you first")
    await press(h, user, "Spandau")
    await press(h, user, "Ann")
    await press(h, user, "Soonest")
    await press(h, user, "09:00")
    await press(h, user, "Confirm")
    found = await on_db(h, list_bookings)
    live = [(b.location, b.start.isoformat()) for b in found if b.status == "confirmed"]
    assert live == [("spandau", "2026-12-03T09:00:00+01:00")]
