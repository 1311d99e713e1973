"""Attendance end to end: "I'll come", the confirm_by list, Arrived / No-show, the no-show block.

The real bot over the emulator, on the BASIC clinic with a policy, its clock moved by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bookbot.engine.model import Booking, Mark
from bookbot.services import chat as client_chat
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork
from bookbot.testing.emulator import BotApiEmulator, CallbackQueryRecord, ChatUser
from tests.bot.conftest import Clock, Harness
from tests.bot.staff import ADMIN, arrives, book_ann, link, on_db, press, say, started
from tests.clinics import BASIC

POLICY = """\
phone: "+49 30 1230000"
policy:
  confirm_by: 3h
  no_show_limit: 1
  no_show_window: 90d
  after_no_shows: block
"""


@pytest.fixture
async def clinic(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> AsyncIterator[Harness]:
    """The bot on BASIC with POLICY, BOOKBOT_ADMINS holding ADMIN."""
    text = BASIC.replace("holidays: DE-BY\n", "holidays: DE-BY\n" + POLICY, 1)
    running = await started(emulator, tmp_path, clock, text)
    yield running
    await running.stop()


async def tap(h: Harness, user: ChatUser, label: str) -> CallbackQueryRecord:
    """Taps the newest button whose label holds `label`; returns the answered tap."""
    chat = h.emulator.chat(user)
    button = next(b for m in reversed(chat.messages) for b in m.buttons if label in b.text)
    record = await h.emulator.tap(user, button)
    async with asyncio.timeout(10):
        while not record.answered:
            await h.emulator.wait_idle()
            await asyncio.sleep(0.02)
    return record


async def at(h: Harness, when: datetime) -> None:
    """Moves the clock and restarts the bot: its outbox job looks at once."""
    h.clock.now = when
    await h.restart()


async def booked(h: Harness, user: ChatUser) -> Booking:
    """The user's one coming booking."""
    [held] = await on_db(h, client_chat.coming, h.clock.now, user.id)
    return held.booking


async def stored(h: Harness, booking_id: int) -> Booking:
    db = Database(h.url)
    try:
        async with UnitOfWork(db, write=False) as uow:
            found = await uow.bookings.booking(booking_id)
    finally:
        await db.close()
    assert found is not None
    return found


def texts(h: Harness, user: ChatUser, needle: str) -> list[str]:
    return [m.text for m in h.emulator.chat(user).messages if needle in (m.text or "")]


async def test_i_ll_come_on_the_first_reminder_is_kept_once_and_shown_on_today(clinic) -> None:
    h = clinic
    rita, ann = h.emulator.user(9401, "Rita"), h.emulator.user(9402, "Ann")
    await link(h, "ann", ann)
    await book_ann(h, rita)  # Tue 1 Dec 10:20
    visit = await booked(h, rita)
    await at(h, visit.start - timedelta(hours=24))
    await arrives(h, rita, "Reminder", timeout=10)
    first = await tap(h, rita, "I'll come")
    assert first.answer_text is not None and "Thank you! We expect you" in first.answer_text
    said = (await stored(h, visit.id)).attending_at
    assert said == visit.start - timedelta(hours=24)
    h.clock.advance(minutes=5)
    again = await tap(h, rita, "I'll come")
    assert again.answer_text is not None and "told us already" in again.answer_text
    assert not again.show_alert
    assert (await stored(h, visit.id)).attending_at == said  # the first time is kept

    h.clock.now = visit.start - timedelta(hours=1)
    today = (await say(h, ann, "/today")).text
    [rita_line] = [line for line in today.splitlines() if "Rita" in line]
    [bob_line] = [line for line in today.splitlines() if "Bob Stone" in line]
    assert "✅" in rita_line and "✅" not in bob_line
    week = (await say(h, ann, "/week")).text
    assert "✅" in next(line for line in week.splitlines() if "Rita" in line)


async def test_the_confirm_by_list_goes_out_once_at_its_instant_with_the_phones(clinic) -> None:
    h = clinic
    rita, sam = h.emulator.user(9411, "Rita"), h.emulator.user(9412, "Sam")
    ann = h.emulator.user(9413, "Ann")
    await link(h, "ann", ann)
    await book_ann(h, rita)  # Tue 1 Dec 10:20: its list is due at 07:20
    await book_ann(h, sam, time="11:00")  # the same day: no second list
    await at(h, (await booked(h, sam)).start - timedelta(hours=24))
    await arrives(h, sam, "Reminder", timeout=10)
    await tap(h, sam, "I'll come")

    due = (await booked(h, rita)).start - timedelta(hours=3)
    await at(h, due - timedelta(minutes=1))
    await asyncio.sleep(2)  # the outbox job has looked, and found nothing due
    assert texts(h, ann, "Not confirmed yet") == []
    await at(h, due)
    alert = (await arrives(h, ann, "Not confirmed yet", timeout=10)).text
    assert "Rita, +15550009411" in alert and "10:20" in alert
    assert "Bob Stone, +4915112345678" in alert  # the imported visit that day, unconfirmed
    assert "Sam" not in alert  # he said he will come
    await at(h, due + timedelta(minutes=50))  # past Sam's own instant too
    await asyncio.sleep(2)
    assert len(texts(h, ann, "Not confirmed yet")) == 1


async def test_marks_from_today_and_noshow_within_their_time(clinic) -> None:
    h = clinic
    rita, ann = h.emulator.user(9421, "Rita"), h.emulator.user(9422, "Ann")
    admin = h.emulator.user(ADMIN, "Admin")
    await link(h, "ann", ann)
    await book_ann(h, rita)
    visit = await booked(h, rita)
    early = await say(h, ann, f"/noshow {visit.id}")
    assert "has not begun yet" in early.text
    assert (await stored(h, visit.id)).mark is None

    h.clock.now = visit.start + timedelta(minutes=5)
    today = await say(h, ann, "/today")
    labels = [b.text for b in today.buttons]
    assert "10:20 ✔ Arrived" in labels and "10:20 ✖ No-show" in labels
    assert "09:00 ✖ No-show" in labels  # Bob's, begun too
    await tap(h, ann, "10:20 ✖ No-show")
    assert (await stored(h, visit.id)).mark == Mark.NO_SHOW
    edited = h.emulator.chat(ann).message(today.message_id).text
    assert "no-show" in next(line for line in edited.splitlines() if "Rita" in line)
    await tap(h, ann, "10:20 ✔ Arrived")  # changed: marks stay open until the next day ends
    assert (await stored(h, visit.id)).mark == Mark.ARRIVED

    h.clock.now = visit.start + timedelta(days=1, hours=12)  # Wed, still open
    assert "marked: no-show" in (await say(h, admin, f"/noshow {visit.id}")).text
    assert (await stored(h, visit.id)).mark == Mark.NO_SHOW
    h.clock.now = datetime.fromisoformat("2026-12-03T00:00:00+01:00")  # Wed has ended
    late = await say(h, ann, f"/noshow {visit.id}")
    assert "can no longer be marked" in late.text
    assert "for admins" in (await say(h, rita, f"/noshow {visit.id}")).text
    assert "Usage: /noshow BOOKING_ID" in (await say(h, ann, "/noshow")).text
    assert "is not a booking id" in (await say(h, ann, "/noshow 99999999999")).text


async def test_a_no_show_blocks_online_booking_until_forgiven_and_is_not_reviewed(clinic) -> None:
    h = clinic
    rita, admin = h.emulator.user(9431, "Rita"), h.emulator.user(ADMIN, "Admin")
    await book_ann(h, rita)
    visit = await booked(h, rita)
    h.clock.now = visit.start + timedelta(minutes=10)
    assert "marked: no-show" in (await say(h, admin, f"/noshow {visit.id}")).text

    await say(h, rita, "/start")
    await press(h, rita, "Check-up")
    await press(h, rita, "Dr. Ann Weber")
    await press(h, rita, "3")  # Thu 3 Dec: it is December now
    refused = await tap(h, rita, "14:00")
    assert refused.show_alert and refused.answer_text is not None
    assert "please call us: +49 30 1230000" in refused.answer_text

    # no review is asked for, and a rating is refused
    await at(h, visit.end + timedelta(days=1, minutes=5))
    await asyncio.sleep(2)
    assert texts(h, rita, "How was your visit") == []
    await say(h, rita, "/help")
    rating = await h.emulator.tap_data(
        rita, h.emulator.chat(rita).last.message_id, f"w:{visit.id}-5"
    )
    async with asyncio.timeout(10):
        while not rating.answered:
            await h.emulator.wait_idle()
            await asyncio.sleep(0.02)
    assert rating.show_alert and "marked as missed" in (rating.answer_text or "")

    assert "no client has the Telegram id 777" in (await say(h, admin, "/forgive 777")).text
    assert "Usage: /forgive TELEGRAM_ID" in (await say(h, admin, "/forgive rita")).text
    assert "forgiven" in (await say(h, admin, f"/forgive {rita.id}")).text
    await say(h, rita, "/start")
    await press(h, rita, "Check-up")
    await press(h, rita, "Dr. Ann Weber")
    await press(h, rita, "3")
    await press(h, rita, "14:00")
    assert "Please check and confirm" in h.emulator.chat(rita).last.text  # held for her


async def test_a_hold_made_before_the_no_show_mark_cannot_be_confirmed(clinic) -> None:
    h = clinic
    rita, admin = h.emulator.user(9432, "Rita"), h.emulator.user(ADMIN, "Admin")
    await book_ann(h, rita)
    visit = await booked(h, rita)
    h.clock.now = visit.start + timedelta(minutes=10)
    await say(h, rita, "/start")
    await press(h, rita, "Check-up")
    await press(h, rita, "Dr. Ann Weber")
    await press(h, rita, "3")  # Thu 3 Dec
    await press(h, rita, "14:00")
    assert "Please check and confirm" in h.emulator.chat(rita).last.text  # held, not blocked

    assert "marked: no-show" in (await say(h, admin, f"/noshow {visit.id}")).text
    refused = await tap(h, rita, "Confirm")
    assert refused.show_alert and "please call us: +49 30 1230000" in (refused.answer_text or "")
    assert texts(h, rita, "Booked ✅\nCheck-up with Dr. Ann Weber\nThursday 3 December") == []

    assert "forgiven" in (await say(h, admin, f"/forgive {rita.id}")).text
    confirmed = await tap(h, rita, "Confirm")  # the hold (10 minutes) is still live
    assert not confirmed.show_alert
    await arrives(h, rita, "Booked ✅\nCheck-up with Dr. Ann Weber\nThursday 3 December, 14:00")


async def test_staff_help_lists_the_attendance_commands(clinic) -> None:
    h = clinic
    admin, ann = h.emulator.user(ADMIN, "Admin"), h.emulator.user(9441, "Ann")
    await link(h, "ann", ann)
    shown = (await say(h, admin, "/help")).text
    assert "/noshow: mark a visit as a no-show" in shown
    assert "/forgive: clear a client's no-shows (by Telegram id)" in shown
    own = (await say(h, ann, "/help")).text
    assert "/noshow" in own and "/forgive" not in own
    assert "/noshow" not in (await say(h, h.emulator.user(9442, "Zoe"), "/help")).text
