"""Paying up front, end to end: the real bot, the emulator's Telegram Payments, a moved clock.

Ann's check-up asks a EUR 20.00 deposit of its EUR 60.00 (a provider's test token is set),
or, in the Stars clinic, 100 Stars in full (an online service). A client books Tue 1 Dec
10:20 (Berlin); the clock starts Mon 30 Nov 08:00; the payment hold is 15 minutes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import msgspec.structs
import pytest

from bookbot import clinic_file
from bookbot.engine.bookings import SPECIALIST
from bookbot.engine.model import BookingStatus, Client, Mark
from bookbot.services import availability, booked, bookings
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.store.uow import UnitOfWork
from bookbot.testing.emulator import TEST_PROVIDER, BotApiEmulator, ChatUser
from tests.bot.conftest import Clock, Harness
from tests.bot.staff import ADMIN, arrives, on_db, press, say
from tests.bot.test_cutoff import confirmation
from tests.clinics import BASIC

VISIT = datetime.fromisoformat("2026-12-01T10:20:00+01:00")
CHECKUP = "{id: checkup, name: Check-up}"
POLICY = "policy: {payment_hold: 15m, cancel_notice: 24h}\n"
EUR = BASIC.replace(
    "timezone: Europe/Berlin\n", f"timezone: Europe/Berlin\ncurrency: EUR\n{POLICY}"
).replace(
    CHECKUP, '{id: checkup, name: Check-up, price: "60.00", prepay: deposit, deposit: "20.00"}'
)
STARS = BASIC.replace(
    "timezone: Europe/Berlin\n", f"timezone: Europe/Berlin\ncurrency: XTR\n{POLICY}"
).replace(CHECKUP, "{id: checkup, name: Check-up, price: 100, prepay: full, online: true}")


async def paying(emulator: BotApiEmulator, tmp_path: Path, clock: Clock, text: str) -> Harness:
    """The bot on `text` with a provider's test token; ADMIN an admin."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    db = Database(url)
    await import_clinic(db, clinic_file.read(text), clock.now, provider=True)
    await db.close()
    running = Harness(emulator, url, clock)
    running.settings = msgspec.structs.replace(
        running.settings, admins=frozenset({ADMIN}), payment_token=TEST_PROVIDER
    )
    await running.start()
    return running


@pytest.fixture
async def eur(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> AsyncIterator[Harness]:
    running = await paying(emulator, tmp_path, clock, EUR)
    yield running
    await running.stop()


@pytest.fixture
async def stars(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> AsyncIterator[Harness]:
    running = await paying(emulator, tmp_path, clock, STARS)
    yield running
    await running.stop()


async def invoiced(h: Harness, user: ChatUser) -> None:
    """The client picks ann's 10:20 on 1 December and confirms: an invoice comes."""
    await say(h, user, "/start")
    await press(h, user, "Check-up")
    await press(h, user, "Dr. Ann Weber")
    await press(h, user, "›")
    await press(h, user, "1")
    await press(h, user, "10:20")
    await h.emulator.share_contact(user)
    summary = await arrives(h, user, "Please check and confirm")
    assert "To pay on confirming: " in (summary.text or "")
    await press(h, user, "Confirm")
    async with asyncio.timeout(5):
        while not h.emulator.invoices(user):
            await asyncio.sleep(0.02)


async def statuses(h: Harness, client: int) -> list[BookingStatus]:
    found = await on_db(h, booked.list_bookings)
    return [b.status for b in found if b.client and b.client.telegram_id == client]


async def payments_of(h: Harness) -> list[tuple[int, str, bool]]:
    db = Database(h.url)
    try:
        async with UnitOfWork(db, write=False) as uow:
            return [(p.amount, p.currency, p.refund_owed) for p in await uow.payments.every()]
    finally:
        await db.close()


async def refunded(h: Harness, count: int) -> None:
    async with asyncio.timeout(10):
        while len(h.emulator.star_refunds) < count:
            await asyncio.sleep(0.05)


async def test_a_deposit_paid_confirms_the_visit_with_its_calendar_file(eur: Harness) -> None:
    h, user = eur, eur.emulator.user(7001, "Mia", phone_number="+491512222222")
    await invoiced(h, user)
    invoice = h.emulator.invoices(user)[-1].invoice
    assert invoice is not None
    assert (invoice["currency"], invoice["total_amount"]) == ("EUR", 2000)
    assert invoice["prices"] == [("Deposit", 2000)]
    assert "€20.00" in h.emulator.chat(user).history[-1]
    assert await statuses(h, 7001) == [BookingStatus.HELD]
    checkout = await h.emulator.pay(user)
    assert checkout.ok
    await arrives(h, user, "Paid €20.00. Booked: Check-up with Dr. Ann Weber")
    assert (await confirmation(h, user)).document is not None
    assert await statuses(h, 7001) == [BookingStatus.CONFIRMED]
    assert await payments_of(h) == [(2000, "EUR", False)]


async def test_the_same_payment_twice_changes_nothing(eur: Harness) -> None:
    h, user = eur, eur.emulator.user(7001, "Mia", phone_number="+491512222222")
    await invoiced(h, user)
    await h.emulator.pay(user)
    await arrives(h, user, "Paid €20.00")
    await confirmation(h, user)
    sent = len(h.emulator.chat(user).messages)
    h.emulator.deliver_payment(h.emulator.paid[-1])
    await h.emulator.wait_idle()
    await asyncio.sleep(0.3)
    await h.emulator.wait_idle()
    assert await payments_of(h) == [(2000, "EUR", False)]
    assert len(h.emulator.chat(user).messages) == sent


async def test_the_checkout_is_refused_once_the_hold_lapsed(eur: Harness) -> None:
    h, user = eur, eur.emulator.user(7001, "Mia", phone_number="+491512222222")
    await invoiced(h, user)
    h.clock.advance(minutes=15)
    checkout = await h.emulator.check_out(user)
    assert checkout.ok is False
    assert checkout.error_message is not None and "run out" in checkout.error_message
    assert await payments_of(h) == []


async def test_a_tampered_amount_is_refused_at_checkout(eur: Harness) -> None:
    h, user = eur, eur.emulator.user(7001, "Mia", phone_number="+491512222222")
    await invoiced(h, user)
    checkout = await h.emulator.check_out(user, amount=1)
    assert checkout.ok is False


async def test_stars_paid_after_the_slot_was_taken_are_refunded_and_the_client_told(
    stars: Harness,
) -> None:
    h, user = stars, stars.emulator.user(7001, "Mia", phone_number="+491512222222")
    await invoiced(h, user)
    checkout = await h.emulator.check_out(user)
    assert checkout.ok
    h.clock.advance(minutes=20)
    other = Client("Lea", "+491513333333", 7002)
    await on_db(h, bookings.book, h.clock(), "ann", "checkup", VISIT, other)
    await h.emulator.complete(checkout)
    told = await arrives(h, user, "the time was taken. It is refunded")
    assert "Free times nearby" in (told.text or "")
    await refunded(h, 1)
    assert h.emulator.star_refunds[0].total_amount == 100
    assert await payments_of(h) == [(100, "XTR", False)]  # owed, then made
    await arrives(h, user, "100 ⭐ refunded")


async def test_a_provider_payment_too_late_is_a_refund_owed_that_an_admin_closes(
    eur: Harness,
) -> None:
    h, user = eur, eur.emulator.user(7001, "Mia", phone_number="+491512222222")
    await invoiced(h, user)
    checkout = await h.emulator.check_out(user)
    h.clock.advance(minutes=20)
    await on_db(h, bookings.book, h.clock(), "ann", "checkup", VISIT, Client("Lea", None, 7002))
    await h.emulator.complete(checkout)
    await arrives(h, user, "We will refund it")
    admin = h.emulator.user(ADMIN, "Admin")
    listed = await say(h, admin, "/payments")
    assert "€20.00" in (listed.text or "") and "refund owed" in (listed.text or "")
    done = await say(h, admin, "/refund 1")
    assert "marked refunded" in (done.text or "")
    assert await payments_of(h) == [(2000, "EUR", False)]


async def test_a_client_cancelling_before_the_cut_off_gets_the_stars_back(stars: Harness) -> None:
    h, user = stars, stars.emulator.user(7001, "Mia", phone_number="+491512222222")
    await invoiced(h, user)
    await h.emulator.pay(user)
    await arrives(h, user, "Paid 100 ⭐")
    await say(h, user, "/my")
    await press(h, user, "Cancel")
    await press(h, user, "Yes, cancel it")
    await arrives(h, user, "100 ⭐ will be refunded.")
    await refunded(h, 1)
    assert await statuses(h, 7001) == [BookingStatus.CANCELLED]


async def test_a_specialist_cancelling_refunds_in_full(stars: Harness) -> None:
    h, user = stars, stars.emulator.user(7001, "Mia", phone_number="+491512222222")
    await invoiced(h, user)
    await h.emulator.pay(user)
    await arrives(h, user, "Paid 100 ⭐")
    found = [b for b in await on_db(h, booked.list_bookings) if b.status == "confirmed"]
    mine = next(b for b in found if b.client and b.client.telegram_id == 7001)
    await on_db(h, bookings.cancel, h.clock(), mine.id, SPECIALIST, "ill")
    await refunded(h, 1)
    assert h.emulator.star_refunds[0].user_id == 7001


async def test_an_awaiting_hold_keeps_the_slot_from_another_client(eur: Harness) -> None:
    h, user = eur, eur.emulator.user(7001, "Mia", phone_number="+491512222222")
    await invoiced(h, user)
    h.clock.advance(minutes=11)  # past the 10-minute hold, within the payment's
    day = VISIT.date()
    free = await on_db(
        h, availability.free_slots, h.clock(), day, day, service="checkup", specialist="ann"
    )
    assert free and VISIT not in [s.start for s in free]
    with pytest.raises(Exception, match="refused.taken"):
        await on_db(h, bookings.book, h.clock(), "ann", "checkup", VISIT, Client("Lea"))
    h.clock.advance(minutes=4)
    free = await on_db(
        h, availability.free_slots, h.clock(), day, day, service="checkup", specialist="ann"
    )
    assert VISIT in [s.start for s in free]
    await on_db(h, bookings.book, h.clock(), "ann", "checkup", VISIT, Client("Lea"))


async def test_a_repeat_no_show_pays_the_full_price_in_the_chat(
    emulator: BotApiEmulator, tmp_path: Path, clock: Clock
) -> None:
    text = EUR.replace(
        "payment_hold: 15m", "payment_hold: 15m, no_show_limit: 1, after_no_shows: prepay"
    ).replace(
        "bookings:\n",
        "bookings:\n  - {specialist: ben, service: checkup, start: 2026-11-24T09:00,\n"
        '     client: {name: Mia, phone: "+491512222222", telegram_id: 7001}}\n',
    )
    h = await paying(emulator, tmp_path, clock, text)
    try:
        missed = next(b for b in await on_db(h, booked.list_bookings) if b.specialist == "ben")
        assert missed.id is not None
        db = Database(h.url)
        async with UnitOfWork(db) as uow:
            await uow.bookings.mark(missed.id, Mark.NO_SHOW, h.clock(), "admin")
            await uow.commit()
        await db.close()
        user = h.emulator.user(7001, "Mia", phone_number="+491512222222")
        await invoiced(h, user)
        invoice = h.emulator.invoices(user)[-1].invoice
        assert invoice is not None and invoice["prices"] == [("Payment", 6000)]
        await h.emulator.pay(user)
        await arrives(h, user, "Paid €60.00. Booked")
    finally:
        await h.stop()
