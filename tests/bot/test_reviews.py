"""Reviews in the chat: the rating buttons of a review request, and /reviews for staff."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bookbot import clinic_file
from bookbot.engine.model import Booking
from bookbot.services import bookings, reviews
from bookbot.services import chat as client_chat
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.store.tables import ReviewRow
from bookbot.store.uow import UnitOfWork
from bookbot.testing.emulator import BotApiEmulator, CallbackQueryRecord, ChatUser
from tests.bot.conftest import Clock, Harness
from tests.bot.staff import ADMIN, arrives, book_ann, link, on_db, press, say, staffed
from tests.clinics import BASIC

__all__ = ["staffed"]  # the fixture, used by name below


async def test_stars_in_the_review_request_store_one_review_and_staff_see_it(staffed) -> None:
    h = staffed
    client = h.emulator.user(9301, "Rita")
    ann = h.emulator.user(9302, "Ann")
    await link(h, "ann", ann)
    await book_ann(h, client)
    h.clock.advance(days=2, hours=3)  # a day after the visit on Tue 1 Dec
    await h.restart()  # the repeating job picks up the due request at start
    request = await arrives(h, client, "How was your visit", timeout=10)
    await press(h, client, "★★★★")
    assert (
        "Thank you for your rating: ★★★★"
        in h.emulator.chat(client).message(request.message_id).text
    )
    stored = await on_db(h, reviews.listed)
    assert [(r.specialist, r.rating) for r in stored] == [("ann", 4)]
    assert h.emulator.chat(client).message(request.message_id).buttons == []  # rated once

    admin = h.emulator.user(ADMIN, "Admin")
    assert "★★★★ ann" in (await say(h, admin, "/reviews")).text
    assert "★★★★ ann" in (await say(h, ann, "/reviews")).text
    assert "only your own" in (await say(h, ann, "/reviews ben")).text
    assert "for admins" in (await say(h, client, "/reviews")).text


# -- forged rating taps: only a visit that ended and was not cancelled is rated ------------


@pytest.fixture
async def clinic(emulator: BotApiEmulator, db_url: str, clock: Clock) -> AsyncIterator[Harness]:
    """The bot on the BASIC clinic, on a database of each kind."""
    db = Database(db_url)
    await import_clinic(db, clinic_file.read(BASIC), clock.now)
    await db.close()
    running = Harness(emulator, db_url, clock)
    await running.start()
    yield running
    await running.stop()


async def forge_rating(h: Harness, user: ChatUser, data: str) -> CallbackQueryRecord:
    """Sends rating data no button showed, on a fresh text message; waits for the answer."""
    await say(h, user, "/help")  # a message with text, so that a rating can replace it
    record = await h.emulator.tap_data(user, h.emulator.chat(user).last.message_id, data)
    async with asyncio.timeout(10):
        while not record.answered:
            await h.emulator.wait_idle()
            await asyncio.sleep(0.02)
    return record


async def stored(db: Database) -> int:
    """Review rows in the database, listed or not."""
    async with UnitOfWork(db, write=False) as uow:
        return await uow.session.scalar(select(func.count()).select_from(ReviewRow))


async def booked(h: Harness, user: ChatUser) -> Booking:
    """The user's one coming booking."""
    [held] = await on_db(h, client_chat.coming, h.clock.now, user.id)
    return held.booking


async def test_a_forged_rating_counts_only_after_the_visit_and_once(clinic) -> None:
    h = clinic
    client = h.emulator.user(9311, "Rita")
    await book_ann(h, client)
    visit = await booked(h, client)
    early = await forge_rating(h, client, f"w:{visit.id}-1")
    assert early.show_alert and "once it has ended" in early.answer_text
    assert await on_db(h, stored) == 0

    h.clock.now = visit.end  # the visit has just ended
    rated = await forge_rating(h, client, f"w:{visit.id}-2")
    assert rated.answer_text is None and "Thank you for your rating: ★★" in (
        h.emulator.chat(client).last.text
    )
    again = await forge_rating(h, client, f"w:{visit.id}-5")
    assert "reviewed already" in again.answer_text
    assert [(r.booking_id, r.rating) for r in await on_db(h, reviews.listed)] == [(visit.id, 2)]
    assert await on_db(h, stored) == 1


async def test_a_forged_rating_of_a_cancelled_visit_is_refused(clinic) -> None:
    h = clinic
    client = h.emulator.user(9312, "Rita")
    await book_ann(h, client, day="2")
    visit = await booked(h, client)
    await on_db(h, bookings.cancel, h.clock.now, visit.id, by="specialist", reason="ill")
    h.clock.now = visit.end + timedelta(days=1)
    refused = await forge_rating(h, client, f"w:{visit.id}-1")
    assert refused.show_alert and "was cancelled" in refused.answer_text
    assert await on_db(h, stored) == 0


async def test_a_forged_rating_of_someone_elses_or_no_booking_is_refused(clinic) -> None:
    h = clinic
    client = h.emulator.user(9313, "Mallory")
    h.clock.now += timedelta(days=30)  # Bob's booking of the clinic file (id 1) has ended
    refused = await forge_rating(h, client, "w:1-1")
    assert refused.show_alert and "no booking has the id" in refused.answer_text
    # An id past what the database holds is no button of ours: answered, never looked up.
    refused = await forge_rating(h, client, "w:999999999999-1")
    assert refused.answer_text
    assert await on_db(h, stored) == 0
