"""The waitlist's use cases on real SQLite and PostgreSQL: freed time offered, taken, passed.

Ann works Tuesdays 09:00-11:00 in 1-hour slots; on Tuesday 1 December both are booked
(clients 11 and 12), so any time there is time someone freed. Waiting clients are 21,
22 and 23, in the order they joined. After each step the day index must still equal
the engine's answer.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bookbot import clinic_file
from bookbot.config import Settings
from bookbot.engine.bookings import ADMIN as ADMIN_ROLE
from bookbot.engine.bookings import CLIENT
from bookbot.engine.model import Booking, BookingStatus, Client, Mark
from bookbot.errors import BookbotError
from bookbot.notify import delivery
from bookbot.notify.messages import WAITLIST_OFFER
from bookbot.notify.sender import Action
from bookbot.services import bookings, people, schedules, waitlist
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.store.tables import BookingRow, ClientRow, OutboxRow, WaitlistRow
from bookbot.store.uow import UnitOfWork
from tests.conftest import KINDS, drop_database, new_database
from tests.store.test_day_index import assert_index_exact

NOW = datetime.fromisoformat("2026-11-30T08:00:00+01:00")  # Monday, in Berlin
TUESDAY = date(2026, 12, 1)
HOLD = timedelta(minutes=20)
ADMIN = people.Actor(1, admin=True)
CLINIC = """
timezone: Europe/Berlin
min_notice: 30m
horizon_days: 30
policy: {waitlist_hold: 20m}
services:
  - {id: checkup, name: Check-up}
specialists:
  - id: ann
    name: Dr. Ann Weber
    holidays: none
    services: [checkup]
    weekly:
      - {days: [tue], start: "09:00", end: "11:00", slot: 1h}
bookings:
  - {specialist: ann, service: checkup, start: 2026-12-01T09:00, client: {name: A, telegram_id: 11}}
  - {specialist: ann, service: checkup, start: 2026-12-01T10:00, client: {name: B, telegram_id: 12}}
  - {specialist: ann, service: checkup, start: 2026-12-08T09:00, client: {name: C, telegram_id: 13}}
"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+01:00")


@pytest.fixture
async def clinic(db: Database) -> Database:
    await import_clinic(db, clinic_file.read(CLINIC))
    return db


async def wait(db: Database, *clients: int, first: date = TUESDAY, last: date = TUESDAY) -> None:
    """These clients join, a minute apart, for Tuesday 1 December by default."""
    for i, client in enumerate(clients):
        joined = NOW + timedelta(minutes=i)
        await waitlist.join(db, joined, client, "checkup", "ann", first=first, last=last)


async def offers(db: Database) -> dict[int, Booking]:
    """The live offers by client."""
    async with UnitOfWork(db, write=False) as uow:
        rows = await uow.session.scalars(
            select(BookingRow.id).where(
                BookingRow.offer_of.is_not(None), BookingRow.status == BookingStatus.HELD
            )
        )
        found = [await uow.bookings.booking(i) for i in list(rows)]
    return {b.client.telegram_id: b for b in found if b and b.client and b.client.telegram_id}


async def sent(db: Database, kind: str) -> list[tuple[int, int | None]]:
    async with UnitOfWork(db, write=False) as uow:
        rows = await uow.session.execute(
            select(OutboxRow.chat_id, OutboxRow.booking_id)
            .where(OutboxRow.kind == kind)
            .order_by(OutboxRow.id)
        )
        return [(chat, booking) for chat, booking in rows]


async def test_a_freed_slot_goes_to_the_first_then_the_second_then_the_third(
    clinic: Database,
) -> None:
    await wait(clinic, 21, 22, 23)
    await bookings.cancel(clinic, NOW, 1, CLIENT, client=11)
    first = await offers(clinic)
    assert list(first) == [21]
    offer = first[21]
    assert (offer.start, offer.hold_until) == (at("2026-12-01T09:00"), NOW + HOLD)
    assert await sent(clinic, WAITLIST_OFFER) == [(21, offer.id)]
    await assert_index_exact(clinic)

    # "Not this one": the second gets it; the first keeps watching.
    assert offer.id is not None
    await waitlist.pass_on(clinic, NOW + timedelta(minutes=1), 21, offer.id)
    second = await offers(clinic)
    assert list(second) == [22] and second[22].start == offer.start
    assert len(await waitlist.entries(clinic, NOW, 21)) == 1
    await assert_index_exact(clinic)

    # No answer within the hold: the third gets it, never the two who let it go.
    later = NOW + timedelta(minutes=1) + HOLD
    await bookings.expire_lapsed(clinic, later)
    third = await offers(clinic)
    assert list(third) == [23] and third[23].hold_until == later + HOLD
    await assert_index_exact(clinic)

    taken = await waitlist.take(clinic, later + timedelta(minutes=5), 23, third[23].id or 0)
    assert taken.booking.status == BookingStatus.CONFIRMED
    assert await waitlist.entries(clinic, NOW, 23) == []  # the entry ended
    assert await offers(clinic) == {}
    await assert_index_exact(clinic)


async def test_one_client_waits_for_at_most_twenty_things(clinic: Database) -> None:
    for days in range(waitlist.MOST_ENTRIES):
        last = TUESDAY + timedelta(days=days)
        await waitlist.join(clinic, NOW, 31, "checkup", "ann", first=TUESDAY, last=last)
    later = TUESDAY + timedelta(days=waitlist.MOST_ENTRIES)
    with pytest.raises(BookbotError) as refused:
        await waitlist.join(clinic, NOW, 31, "checkup", "ann", first=TUESDAY, last=later)
    assert refused.value.key == "waiting.too_many"
    assert len(await waitlist.entries(clinic, NOW, 31)) == waitlist.MOST_ENTRIES


async def test_joining_twice_with_one_wish_makes_one_entry(clinic: Database) -> None:
    def tap():  # type: ignore[no-untyped-def]
        return waitlist.join(
            clinic, NOW, 32, "checkup", "ann", first=TUESDAY, last=TUESDAY, parts=["morning"]
        )

    first, second, third = await asyncio.gather(tap(), tap(), tap())  # a double tap on Join
    assert first.id == second.id == third.id
    assert [w.entry.id for w in await waitlist.entries(clinic, NOW, 32)] == [first.id]
    other = await waitlist.join(clinic, NOW, 32, "checkup", "ann", first=TUESDAY, last=TUESDAY)
    assert other.id != first.id  # any time of day is another wish


async def test_a_schedule_opening_offers_the_new_time(clinic: Database) -> None:
    await wait(clinic, 21)
    opened = schedules.Change(
        schedules.EXTRA, "ann", first=TUESDAY, times=(time(12),), slot=timedelta(hours=1)
    )
    await schedules.change(clinic, NOW, ADMIN, opened)
    made = await offers(clinic)
    assert [(c, b.start) for c, b in made.items()] == [(21, at("2026-12-01T12:00"))]
    await assert_index_exact(clinic)


async def test_an_offer_never_starts_within_the_minimum_notice(clinic: Database) -> None:
    await wait(clinic, 21)
    now = at("2026-12-01T08:40")  # 09:00 is within the 30 minutes' notice, 10:00 is not
    await bookings.cancel(clinic, now, 1, CLIENT, client=11)
    assert await offers(clinic) == {}
    await bookings.cancel(clinic, now, 2, CLIENT, client=12)
    assert [b.start for b in (await offers(clinic)).values()] == [at("2026-12-01T10:00")]


async def test_two_frees_at_once_give_one_entry_one_offer(clinic: Database) -> None:
    await wait(clinic, 21, 22)
    one, two = Database(clinic.url), Database(clinic.url)
    try:
        await asyncio.gather(
            bookings.cancel(one, NOW, 1, CLIENT, client=11),
            bookings.cancel(two, NOW, 2, CLIENT, client=12),
        )
    finally:
        await one.close()
        await two.close()
    made = await offers(clinic)
    assert sorted(made) == [21, 22]  # one each, never two for the first
    assert {b.start for b in made.values()} == {at("2026-12-01T09:00"), at("2026-12-01T10:00")}
    await assert_index_exact(clinic)


async def test_taking_an_offer_moves_the_booking_it_was_made_from(clinic: Database) -> None:
    entry = await waitlist.join(clinic, NOW, 13, from_booking=3)  # "Want it sooner?"
    assert (entry.service, entry.specialist) == ("checkup", "ann")
    assert (entry.first, entry.last) == (date(2026, 11, 30), date(2026, 12, 8))
    await wait(clinic, 24, first=date(2026, 12, 8), last=date(2026, 12, 8))
    await bookings.cancel(clinic, NOW, 2, CLIENT, client=12)
    offer = (await offers(clinic))[13]
    assert offer.start == at("2026-12-01T10:00")
    await waitlist.take(clinic, NOW + timedelta(minutes=2), 13, offer.id or 0)
    async with UnitOfWork(clinic, write=False) as uow:
        moved = await uow.bookings.booking(3)
        new = await uow.bookings.booking(offer.id or 0)
    assert moved is not None and moved.status == BookingStatus.CANCELLED
    assert new is not None and new.status == BookingStatus.CONFIRMED
    # The time let go goes to the next who waits for it.
    assert [b.start for b in (await offers(clinic)).values()] == [at("2026-12-08T09:00")]
    await assert_index_exact(clinic)


async def test_leaving_the_waitlist_passes_the_offer_on(clinic: Database) -> None:
    await wait(clinic, 21, 22)
    await bookings.cancel(clinic, NOW, 1, CLIENT, client=11)
    offer = (await offers(clinic))[21]
    await waitlist.leave_offered(clinic, NOW, 21, offer.id or 0)
    assert await waitlist.entries(clinic, NOW, 21) == []
    assert list(await offers(clinic)) == [22]
    with pytest.raises(BookbotError):
        await waitlist.take(clinic, NOW, 21, offer.id or 0)  # gone with the entry
    assert [w.entry.client for w in await waitlist.waiting(clinic, NOW)] == [22]


async def test_an_offer_is_not_taken_by_a_client_marked_no_show_since(db: Database) -> None:
    strict = "policy: {waitlist_hold: 20m, no_show_limit: 1, after_no_shows: block}"
    await import_clinic(
        db, clinic_file.read(CLINIC.replace("policy: {waitlist_hold: 20m}", strict))
    )
    await wait(db, 21)
    await bookings.cancel(db, NOW, 1, CLIENT, client=11)
    offer = (await offers(db))[21]
    async with UnitOfWork(db) as uow:  # a visit last week, marked missed after the offer
        start = at("2026-11-24T09:00")
        missed = await uow.bookings.add_booking(
            Booking(
                "ann", "checkup", start, start + timedelta(hours=1), client=Client(None, None, 21)
            ),
            NOW,
        )
        assert missed.id is not None
        await uow.bookings.mark(missed.id, Mark.NO_SHOW, NOW, ADMIN_ROLE)
        await uow.commit()
    with pytest.raises(BookbotError) as refused:
        await waitlist.take(db, NOW + timedelta(minutes=1), 21, offer.id or 0)
    assert refused.value.key == "refused.no_shows_no_phone"
    assert list(await offers(db)) == [21]  # nothing changed: the offer runs out as any
    assert len(await waitlist.entries(db, NOW, 21)) == 1


async def test_an_entry_whose_dates_passed_is_ended_by_the_sweep(clinic: Database) -> None:
    await wait(clinic, 21)  # Tuesday 1 December only
    await wait(clinic, 22, last=date(2026, 12, 8))
    assert await waitlist.end_passed(clinic, at("2026-12-01T23:59")) == 0  # Tuesday lasts
    wednesday = at("2026-12-02T00:00")
    assert await waitlist.end_passed(clinic, wednesday) == 1
    assert await waitlist.end_passed(clinic, wednesday) == 0  # ended once
    async with UnitOfWork(clinic, write=False) as uow:
        assert await uow.waitlist.passed(date(2026, 12, 31)) == [
            e for e in await uow.waitlist.waiting(TUESDAY) if e.client == 22
        ]
    assert await left_at(clinic, 21) == wednesday


async def left_at(db: Database, client: int) -> datetime | None:
    """When a client's one entry ended."""
    async with UnitOfWork(db, write=False) as uow:
        clients = select(ClientRow.id).where(ClientRow.telegram_id == client).scalar_subquery()
        return await uow.session.scalar(
            select(WaitlistRow.left_at).where(WaitlistRow.client_id == clients)
        )


async def test_racing_takers_and_frees_never_double_book(clinic: Database) -> None:
    await wait(clinic, 21, 22)
    await bookings.cancel(clinic, NOW, 1, CLIENT, client=11)
    offer = (await offers(clinic))[21]
    one, two, three = Database(clinic.url), Database(clinic.url), Database(clinic.url)
    now = NOW + timedelta(minutes=3)
    try:
        outcome = await asyncio.gather(
            waitlist.take(one, now, 21, offer.id or 0),
            waitlist.pass_on(two, now, 21, offer.id or 0),  # a second tap, on the other button
            bookings.cancel(three, now, 2, CLIENT, client=12),
            return_exceptions=True,
        )
    finally:
        for db in (one, two, three):
            await db.close()
    assert not [o for o in outcome if isinstance(o, Exception) and not isinstance(o, BookbotError)]
    async with UnitOfWork(clinic, write=False) as uow:
        live = [
            b
            for b in await uow.bookings.bookings(specialists=["ann"], live_at=now)
            if b.status == BookingStatus.CONFIRMED
            or (b.status == BookingStatus.HELD and b.hold_until and b.hold_until > now)
        ]
    starts = [b.start for b in live]
    assert len(starts) == len(set(starts))  # no two live bookings at one time
    taken = [b for b in live if b.id == offer.id and b.status == BookingStatus.CONFIRMED]
    if taken:  # taken first: the entry ended; only the 10:00 is offered, to 22
        assert {c: b.start for c, b in (await offers(clinic)).items()} == {
            22: at("2026-12-01T10:00")
        }
    await assert_index_exact(clinic)


# -- the day index after anything --------------------------------------------------------

OPS = ("book", "hold", "cancel", "lapse", "join", "take", "pass", "open", "close")
DAYS = (TUESDAY, date(2026, 12, 8))
STARTS = (time(9), time(10), time(12))


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 5)), max_size=14))
async def test_the_day_index_stays_exact_whatever_happens(
    kind: str, steps: list[tuple[str, int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = await new_database(kind, tmp_path_factory.mktemp("waitlist"))
    db = Database(url)
    try:
        await import_clinic(db, clinic_file.read(CLINIC))
        now = NOW
        for op, n in steps:
            client, day = 21 + n % 3, DAYS[n % 2]
            start = datetime.combine(day, STARTS[n % 3], at("2026-12-01T00:00").tzinfo)
            try:
                now = await _step(db, now, op, client, day, start, n)
            except BookbotError:
                pass
        await assert_index_exact(db)
    finally:
        await db.close()
        await drop_database(url)


async def _step(
    db: Database, now: datetime, op: str, client: int, day: date, start: datetime, n: int
) -> datetime:
    """Runs one step; the clock after it."""
    if op == "book":
        await bookings.book(db, now, "ann", "checkup", start, Client(telegram_id=client))
    elif op == "hold":
        await bookings.hold(db, now, client, "checkup", "ann", start, timedelta(minutes=10))
    elif op == "cancel":
        async with UnitOfWork(db, write=False) as uow:
            live = [b for b in await uow.bookings.bookings(live_at=now) if b.client]
        if live:
            mine = live[n % len(live)]
            assert mine.id is not None and mine.client and mine.client.telegram_id
            await bookings.cancel(db, now, mine.id, CLIENT, client=mine.client.telegram_id)
    elif op == "lapse":
        now += HOLD
        await bookings.expire_lapsed(db, now)
    elif op == "join":
        await waitlist.join(db, now, client, "checkup", "ann", first=TUESDAY, last=DAYS[1])
    elif op in ("take", "pass"):
        offer = (await offers(db)).get(client)
        if offer is not None and offer.id is not None:
            answer = waitlist.take if op == "take" else waitlist.pass_on
            await answer(db, now, client, offer.id)
    else:
        kind = schedules.EXTRA if op == "open" else schedules.DAY_OFF
        extra = {"times": (time(12),), "slot": timedelta(hours=1)} if op == "open" else {}
        change = schedules.Change(kind, "ann", first=day, **extra)  # type: ignore[arg-type]
        outcome = await schedules.change(db, now, ADMIN, change)
        if outcome.pending is not None:
            await schedules.confirm(db, now, ADMIN, outcome.pending)
    return now


async def test_the_offer_message_has_take_pass_and_leave_until_it_is_answered(
    clinic: Database,
) -> None:
    await wait(clinic, 21, 22)
    await bookings.cancel(clinic, NOW, 1, CLIENT, client=11)
    settings = Settings(database_url=clinic.url)
    owed = [m for m in await delivery.claim(clinic, NOW) if m.kind == WAITLIST_OFFER]
    assert [m.chat_id for m in owed] == [21]
    letter = await delivery.render(clinic, settings, NOW, owed[0])
    assert letter is not None and "20 min" in letter.text and "09:00" in letter.text
    pressed = [(b.action, b.argument) for row in letter.buttons for b in row]
    offer_id = str(owed[0].booking_id)
    assert pressed == [
        (Action.TAKE_OFFER, offer_id),
        (Action.PASS_OFFER, offer_id),
        (Action.LEAVE_OFFERED, offer_id),
    ]
    await waitlist.pass_on(clinic, NOW, 21, owed[0].booking_id or 0)
    assert await delivery.render(clinic, settings, NOW, owed[0]) is None  # moot once passed
