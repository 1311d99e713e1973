"""Every list fits Telegram: paged keyboards, split texts, names capped where taken in.

The emulator refuses what Telegram refuses (over 100 inline buttons, over 8 a row, a
text over 4,096 characters), so each of these failed before lists were paged.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from bookbot import clinic_file
from bookbot.bot import views
from bookbot.engine.model import BookingStatus, Client
from bookbot.services import catalog, people, schedules
from bookbot.services.bookings import book
from bookbot.services.chat import profile, remember
from bookbot.services.clinic import import_clinic
from bookbot.store.chats import Profile
from bookbot.store.db import Database
from bookbot.testing.emulator import BotApiEmulator, ChatMessage, ChatUser
from tests.bot.conftest import Clock, Harness
from tests.bot.staff import ADMIN, _until, arrives, on_db, press, say, staffed
from tests.bot.test_client_flow import book_ann, bookings_of

__all__ = ["staffed"]  # the fixture, used by name below

CROWD = 150
PHONE = "+49 151 1234567"


def crowded_clinic() -> str:
    """A clinic whose one service 150 specialists offer, each from a different hour.

    Specialist i starts at 08:00 + (i * 7 mod 60) * 10 minutes on weekdays, 10-minute
    slots until 20:00; the last one works only on Sundays, six days from the tests' Monday.
    """
    lines = [
        "timezone: Europe/Berlin",
        "min_notice: 30m",
        "horizon_days: 30",
        "services:",
        "  - {id: checkup, name: Check-up}",
        "specialists:",
    ]
    for i in range(1, CROWD + 1):
        minutes = 8 * 60 + (i * 7 % 60) * 10
        days = "[sun]" if i == CROWD else "[mon, tue, wed, thu, fri]"
        lines += [
            f"  - id: s{i:03}",
            f"    name: Specialist {i:03}",
            "    services: [checkup]",
            "    weekly:",
            f'      - {{days: {days}, start: "{minutes // 60:02}:{minutes % 60:02}",'
            ' end: "20:00", slot: 10m}',
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture
async def crowded(emulator: BotApiEmulator, db_url: str, clock: Clock) -> AsyncIterator[Harness]:
    """The bot on the crowded clinic, on SQLite and on PostgreSQL."""
    db = Database(db_url)
    await import_clinic(db, clinic_file.read(crowded_clinic()), clock.now)
    await db.close()
    running = Harness(emulator, db_url, clock)
    await running.start()
    yield running
    await running.stop()


def count(message: ChatMessage) -> int:
    """The buttons of a message's inline keyboard."""
    return len(message.buttons)


def soonest(label: str) -> datetime:
    """The soonest free time on a specialist button: "Specialist 012 · Mon 30 Nov 09:30"."""
    when = label.split(" · ", 1)[1]
    return datetime.strptime("2026 " + when.split(" ", 1)[1], "%Y %d %b %H:%M")


# -- keyboards ----------------------------------------------------------------------------


async def test_a_service_with_150_specialists_is_booked_from_page_two(crowded) -> None:
    h = crowded
    user = h.emulator.user(1001, "Paula")
    await say(h, user, "/start")
    first = await press(h, user, "Check-up")
    assert count(first) <= 20
    labels = [b.text for b in first.buttons]
    assert "page 1 of 15" in labels and "Any available" in labels and "« Back" in labels
    listed = [label for label in labels if label.startswith("Specialist")]
    assert len(listed) == 10
    second = await press(h, user, "›")
    assert second.message_id == first.message_id  # the page is turned in place
    assert "page 2 of 15" in [b.text for b in second.buttons]
    listed_next = [b.text for b in second.buttons if b.text.startswith("Specialist")]
    assert len(listed_next) == 10 and not set(listed) & set(listed_next)
    times = [soonest(label) for label in listed + listed_next]
    assert times == sorted(times)  # soonest first, across pages
    chosen = listed_next[3].split(" · ")[0]
    await press(h, user, chosen)
    await press(h, user, "›")  # December
    day = await press(h, user, "2")
    assert re.fullmatch(r"page 1 of [3-9]", day.buttons[-3].text) and count(day) <= 30
    first_times = [b.text for b in day.buttons if b.callback_data.startswith("t:")]
    assert len(first_times) == 20
    page = await press(h, user, "›")
    later = [b.text for b in page.buttons if b.callback_data.startswith("t:")]
    assert page.buttons[-3].text.startswith("page 2 of ")
    assert min(later) > max(first_times)
    await press(h, user, later[5])
    await h.emulator.share_contact(user, PHONE)
    summary = await arrives(h, user, "Please check and confirm")
    await press(h, user, "Confirm")
    done = h.emulator.chat(user).message(summary.message_id)
    assert "Booked" in done.text and chosen in done.text
    made = [b for b in await bookings_of(h) if b.client and b.client.telegram_id == 1001]
    assert [(b.specialist, b.start.strftime("%d %H:%M"), b.status) for b in made] == [
        (f"s{int(chosen.split()[-1]):03}", f"02 {later[5]}", BookingStatus.CONFIRMED)
    ]


async def test_a_far_specialist_is_offered_the_soonest_few_not_everyone(crowded) -> None:
    h = crowded
    user = h.emulator.user(1002, "Far")
    await say(h, user, "/start")
    await press(h, user, "Check-up")
    for _ in range(14):
        await press(h, user, "›")
    calendar = await press(h, user, f"Specialist {CROWD}")  # works on Sundays only
    sooner = [b.text for b in calendar.buttons if b.text.startswith("Sooner")]
    assert len(sooner) == 3 and count(calendar) <= 100
    assert "sooner" in calendar.text


async def test_forged_and_stale_pages_are_answered_and_change_nothing(crowded) -> None:
    h = crowded
    user = h.emulator.user(1003, "Forger")
    await say(h, user, "/start")
    specialists = await press(h, user, "Check-up")
    await press(h, user, specialists.buttons[0].text)
    await press(h, user, "›")
    listing = await press(h, user, "2")  # the times of Wed 2 Dec, 4 pages
    before = [b.text for b in listing.buttons]
    for data, answer in [
        ("q:p.16", "not there"),
        ("q:p.0", "out of date"),
        ("q:p.99999", "out of date"),
        ("q:t20261301.1", "out of date"),
        ("q:t20261202.9", "not there"),
        ("q:z.1", "out of date"),
        ("q:x.2", "not there"),
        ("q:s.2", "not there"),
    ]:
        record = await h.emulator.tap_data(user, listing.message_id, data)
        await h.emulator.wait_idle()
        assert record.answered and answer in (record.answer_text or ""), (data, record)
        assert [
            b.text for b in h.emulator.chat(user).message(listing.message_id).buttons
        ] == before, data


async def test_my_with_many_bookings_is_paged(harness) -> None:
    h = harness
    user = h.emulator.user(2001, "Busy")
    starts = []
    day = datetime.fromisoformat("2026-12-01T08:00:00+01:00")
    while len(starts) < 60:  # ben: weekdays 08:00-12:00, hourly
        if day.weekday() < 5:
            starts += [day + timedelta(hours=n) for n in range(4)]
        day += timedelta(days=1)
    for start in starts[:60]:
        await on_db(
            h, book, h.clock(), "ben", "checkup", start, Client("Busy", "+4915100000", 2001)
        )
    await confirmed(h, user, 60)
    mine = await say(h, user, "/my")
    # each visit: Cancel and Reschedule, and Want it sooner?; then the three page buttons
    assert count(mine) == 3 * 10 + 3 and "page 1 of 6" in [b.text for b in mine.buttons]
    assert mine.text.count("•") == 10 and "Tuesday 1 December, 08:00" in mine.text
    for _ in range(5):
        mine = await press(h, user, "›")
    assert "page 6 of 6" in [b.text for b in mine.buttons] and mine.text.count("•") == 10
    assert "Tuesday 1 December" not in mine.text
    await press(h, user, "Cancel")
    await press(h, user, "Yes, cancel it")
    live = [
        b
        for b in await bookings_of(h)
        if b.client and b.client.telegram_id == 2001 and b.status == BookingStatus.CONFIRMED
    ]
    assert len(live) == 59 and starts[50] not in [b.start for b in live]


async def confirmed(h: Harness, user: ChatUser, many: int) -> None:
    """Waits until the outbox has sent the user `many` booking confirmations."""
    async with asyncio.timeout(60):
        while sum("confirmed" in (m.caption or "") for m in h.emulator.chat(user).messages) < many:
            await asyncio.sleep(0.05)


# -- names taken in -----------------------------------------------------------------------


async def test_a_typed_name_too_long_is_refused_and_a_long_one_works(harness) -> None:
    h = harness
    user = h.emulator.user(3001, "Named")
    await book_ann(h, user)
    refused = await say(h, user, "A" * 4050 + " " + PHONE)
    assert "too long" in refused.text and "100" in refused.text
    assert (await on_db(h, profile, 3001)).name is None
    name = "Anna\x07 " + "B" * 95
    await h.emulator.send_text(user, f"{name}\t{PHONE}")
    summary = await arrives(h, user, "Please check and confirm")
    assert "Name: Anna " + "B" * 95 + "\n" in summary.text  # the bell is gone, 100 left
    assert (await on_db(h, profile, 3001)).name == "Anna " + "B" * 95


async def test_a_name_stored_before_the_cap_still_gets_its_summary_and_booking(harness) -> None:
    h = harness
    user = h.emulator.user(3003, "Old")
    await on_db(h, remember, Profile(3003, name="O" * 4050, phone="+491517777777"))
    await say(h, user, "/start")
    await press(h, user, "Check-up")
    await press(h, user, "Dr. Ann Weber")
    await press(h, user, "›")
    times = await press(h, user, "1")
    await press(h, user, "10:20")  # the phone is known: the summary replaces the times
    edited = h.emulator.chat(user).message(times.message_id)
    rest = [m for m in h.emulator.chat(user).messages if m.message_id > times.message_id]
    assert not edited.buttons and len(rest) == 1 and rest[0].buttons
    assert (edited.text + rest[0].text).count("O") >= 4050
    assert all(len(m.text) <= 4096 for m in [edited, *rest])
    await press(h, user, "Confirm")
    made = [b for b in await bookings_of(h) if b.client and b.client.telegram_id == 3003]
    assert [b.status for b in made] == [BookingStatus.CONFIRMED]


async def test_a_shared_contact_with_too_long_a_name_is_refused(harness) -> None:
    h = harness
    user = h.emulator.user(3002, "Shared")
    await book_ann(h, user)
    await h.emulator.share_contact(user, PHONE, first_name="C" * 64, last_name="D" * 64)
    await h.emulator.wait_idle()
    assert "too long" in h.emulator.chat(user).last.text
    assert (await on_db(h, profile, 3002)).phone is None


async def test_admin_names_and_reasons_are_capped(staffed) -> None:
    h = staffed
    admin = h.emulator.user(ADMIN, "Admin")
    refused = await say(h, admin, "/addspecialist eva " + "E" * 101)
    assert "101 characters" in refused.text and "Usage: /addspecialist" in refused.text
    assert "eva" not in (await on_db(h, catalog.roster)).names
    added = await say(h, admin, "/addspecialist eva " + "E" * 100)
    assert "Specialist added" in added.text
    assert (await on_db(h, catalog.roster)).names["eva"] == "E" * 100
    refused = await say(h, admin, "/renameservice checkup " + "x" * 101)
    assert "Usage: /renameservice" in refused.text
    refused = await say(h, admin, "/dayoff ann 2026-12-03 " + "r" * 201)
    assert "201 characters" in refused.text and "Usage: /dayoff" in refused.text
    off = await on_db(
        h,
        schedules.view,
        h.clock(),
        people.Actor(ADMIN, admin=True),
        "ann",
        datetime(2026, 12, 3).date(),
        datetime(2026, 12, 3).date(),
    )
    assert off.days[0].closed is None


# -- texts that grow ----------------------------------------------------------------------


async def test_schedule_of_a_specialist_with_a_5000_character_name_is_split(staffed) -> None:
    h = staffed
    admin = h.emulator.user(ADMIN, "Admin")
    # A name from before names were capped, as a database may still hold.
    await on_db(h, catalog.rename_specialist, people.Actor(ADMIN, admin=True), "ann", "N" * 5000)
    chat = h.emulator.chat(admin)
    before = len(chat.messages)
    await h.emulator.send_text(admin, "/schedule ann")
    # Idle alone is not answered: the first message of an admin also sets their menu.
    await _until(
        h, lambda: any("Tue 1 Dec" in (m.text or "") for m in chat.messages[before:]), timeout=30
    )
    parts = chat.messages[before:]
    assert len(parts) >= 2 and all(len(m.text) <= 4096 for m in parts)
    assert "".join(m.text for m in parts).count("N") >= 5000
    assert "Tue 1 Dec" in parts[-1].text


async def test_a_day_off_over_a_full_day_lists_every_booking_asked_and_answered(staffed) -> None:
    h = staffed
    admin = h.emulator.user(ADMIN, "Admin")
    await say(h, admin, "/hours ann 2026-12-02 08:00-20:00 10m")
    start = datetime.fromisoformat("2026-12-02T08:00:00+01:00")
    for n in range(72):
        await on_db(
            h,
            book,
            h.clock(),
            "ann",
            "checkup",
            start + timedelta(minutes=10 * n),
            Client("C" * 100, "+49151000", None),
        )
    chat = h.emulator.chat(admin)
    before = len(chat.messages)
    await h.emulator.send_text(admin, "/dayoff ann 2026-12-02")
    await arrives(h, admin, "Go ahead?")
    asked = chat.messages[before:]
    assert len(asked) >= 2 and all(len(m.text) <= 4096 for m in asked)
    assert sum(m.text.count("C" * 100) for m in asked) == 72
    assert not asked[0].buttons and asked[-1].buttons  # Confirm / Keep under the last part
    question = len(chat.messages) - 1
    await press(h, admin, "Confirm and cancel them")
    await arrives(h, admin, "Wed 2 Dec · day off")  # then the day as it now stands
    answered = chat.messages[question:]
    assert all(len(m.text) <= 4096 for m in answered)
    assert "Cancelled bookings: 72" in answered[0].text
    assert sum(m.text.count("C" * 100) for m in answered) == 72
    left = [
        b
        for b in await bookings_of(h)
        if b.client and b.client.name == "C" * 100 and b.status == BookingStatus.CONFIRMED
    ]
    assert left == []


def test_a_line_longer_than_a_message_is_cut_with_its_tags_closed() -> None:
    text = "<b>" + "x" * 5000 + "</b>\n" + "\n".join(f"{n} &amp; <i>ok</i>" for n in range(900))
    parts = views.chunks(text)
    assert len(parts) >= 3
    for part in parts:
        assert len(part.encode("utf-16-le")) // 2 <= 4096
        assert part.count("<b>") == part.count("</b>") and part.count("<i>") == part.count("</i>")
    assert parts[0].startswith("<b>x") and parts[1].startswith("<b>x")
    assert "".join(parts).count("x") == 5000 and "899 &amp; <i>ok</i>" in parts[-1]
    emoji = views.chunks("😀" * 3000, html=False)  # two UTF-16 units each
    assert [len(p) for p in emoji] == [2048, 952]
