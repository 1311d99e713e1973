"""The waitlist and attendance in the store, on real SQLite and PostgreSQL.

Entries joined, listed and left; the candidates for a freed slot; offers as held bookings
that occupy their slot, one per entry however many processes offer at once; "I'll come",
marks, and no-shows counted since the client was forgiven; the migration down and up.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from bookbot import clinic_file
from bookbot.engine.model import Booking, BookingStatus, Client, Mark, Slot
from bookbot.engine.waitlist import AFTERNOON, EVENING, MORNING
from bookbot.errors import Refused
from bookbot.services import reviews
from bookbot.services.clinic import import_clinic
from bookbot.store.db import MIGRATIONS, Database
from bookbot.store.tables import BookingRow, ClientRow
from bookbot.store.uow import UnitOfWork
from bookbot.store.waitlist import parts_mask, parts_of
from tests.clinics import BASIC, NOW
from tests.store.schema import drift
from tests.store.test_day_index import assert_index_exact

now = datetime.fromisoformat(NOW)  # Monday 30 November 2026, 08:00 in Berlin
BOB = 42  # Bob Stone's Telegram id: he has a booking on Tuesday 09:00 with ann


def at(text: str) -> datetime:
    """A Berlin wall time in winter as an aware instant."""
    return datetime.fromisoformat(text + "+01:00")


def slot(start: str, specialist: str = "ann") -> Slot:
    return Slot(specialist, at(start), at(start) + timedelta(minutes=30))


async def join(
    db: Database,
    client: int,
    joined: datetime = now,
    specialist: str | None = None,
    service: str = "checkup",
    first: date = date(2026, 12, 1),
    last: date = date(2026, 12, 4),
    parts: frozenset[str] = frozenset(),
) -> int:
    async with UnitOfWork(db) as uow:
        entry = await uow.waitlist.add(
            client=client,
            service=service,
            specialist=specialist,
            location=None,
            first=first,
            last=last,
            parts=parts,
            now=joined,
        )
        await uow.commit()
    return entry.id


@pytest.fixture
async def clinic(db: Database) -> Database:
    await import_clinic(db, clinic_file.read(BASIC))
    return db


def test_parts_of_the_day_are_stored_as_bits() -> None:
    assert parts_mask([]) == 0
    assert parts_mask([MORNING]) == 1
    assert parts_mask([EVENING, AFTERNOON]) == 6
    assert parts_of(5) == {MORNING, EVENING}
    assert parts_of(0) == frozenset()


# -- entries -------------------------------------------------------------------------------


async def test_entries_are_joined_listed_and_left(clinic: Database) -> None:
    later = await join(clinic, BOB, now + timedelta(minutes=5), parts=frozenset({EVENING}))
    first = await join(clinic, BOB, now, specialist="ann")
    other = await join(clinic, 77, now)
    async with UnitOfWork(clinic) as uow:
        listed = await uow.waitlist.entries(BOB, date(2026, 11, 30))
        assert [e.id for e in listed] == [first, later]
        assert (listed[0].specialist, listed[0].parts) == ("ann", frozenset())
        assert (listed[1].specialist, listed[1].parts) == (None, {EVENING})
        assert listed[1].first == date(2026, 12, 1) and listed[1].last == date(2026, 12, 4)
        assert listed[1].client == BOB and listed[1].joined_at == now + timedelta(minutes=5)
        assert await uow.waitlist.entries(BOB, date(2026, 12, 5)) == []  # its dates passed
        assert not await uow.waitlist.leave(other, now, client=BOB)  # not his
        assert await uow.waitlist.leave(first, now, client=BOB)
        assert not await uow.waitlist.leave(first, now, client=BOB)  # left already
        await uow.commit()
    async with UnitOfWork(clinic, write=False) as uow:
        assert [e.id for e in await uow.waitlist.entries(BOB, date(2026, 11, 30))] == [later]
        assert [e.id for e in await uow.waitlist.entries(77, date(2026, 11, 30))] == [other]
        left = await uow.waitlist.entry(first)
        assert left is not None and left.id == first


async def test_a_freed_slot_finds_entries_for_its_service_specialist_and_date(
    clinic: Database,
) -> None:
    anyone = await join(clinic, 1, now + timedelta(minutes=2))
    ann_only = await join(clinic, 2, now + timedelta(minutes=1), specialist="ann")
    await join(clinic, 3, now, specialist="ben")
    await join(clinic, 4, now, service="hygiene")
    await join(clinic, 5, now, first=date(2026, 12, 3))
    gone = await join(clinic, 6, now)
    async with UnitOfWork(clinic) as uow:
        await uow.waitlist.leave(gone, now)
        await uow.commit()
    async with UnitOfWork(clinic, write=False) as uow:
        found = await uow.waitlist.candidates("checkup", "ann", date(2026, 12, 2))
        assert [e.id for e in found] == [ann_only, anyone]  # earliest joined first
        assert await uow.waitlist.candidates("checkup", "ann", date(2026, 12, 5)) == []


# -- offers --------------------------------------------------------------------------------


async def offer(db: Database, entry_id: int, offered: Slot, hold: timedelta) -> Booking | None:
    async with UnitOfWork(db) as uow:
        entry = await uow.waitlist.entry(entry_id)
        assert entry is not None
        made = await uow.waitlist.offer(entry, offered, now, now + hold)
        await uow.commit()
    return made


async def test_an_offer_is_a_hold_that_occupies_its_slot(clinic: Database) -> None:
    entry_id = await join(clinic, 77)
    made = await offer(clinic, entry_id, slot("2026-12-02T10:20"), timedelta(minutes=15))
    assert made is not None
    assert (made.status, made.hold_until) == (BookingStatus.HELD, now + timedelta(minutes=15))
    assert made.client is not None and made.client.telegram_id == 77
    await assert_index_exact(clinic)
    async with UnitOfWork(clinic) as uow:
        assert await uow.waitlist.offered(made.id or 0) == await uow.waitlist.entry(entry_id)
        assert await uow.waitlist.offered_clients(now + timedelta(minutes=14)) == {77}
        assert await uow.waitlist.offered_clients(now + timedelta(minutes=15)) == set()
        # The entry holds a booking: no second slot is looked for for it meanwhile.
        assert await uow.waitlist.candidates("checkup", "ann", date(2026, 12, 2)) == []
        overlapping = Booking("ann", "checkup", at("2026-12-02T10:30"), at("2026-12-02T11:00"))
        with pytest.raises(Refused):
            await uow.bookings.add_booking(overlapping, now)
    async with UnitOfWork(clinic, write=False) as uow:
        booked = await uow.bookings.booking(1)
        assert booked is not None
        assert await uow.waitlist.offered(booked.id or 0) is None  # not an offer


async def test_one_entry_never_holds_two_offers(clinic: Database) -> None:
    entry_id = await join(clinic, 77)
    assert await offer(clinic, entry_id, slot("2026-12-02T10:20"), timedelta(minutes=15))
    async with UnitOfWork(clinic) as uow:
        entry = await uow.waitlist.entry(entry_id)
        assert entry is not None
        second = await uow.waitlist.offer(
            entry, slot("2026-12-03T15:00", "ben"), now, now + timedelta(hours=1)
        )
        assert second is None
        other = await join_in(uow, 78)  # the unit goes on after the refusal
        await uow.commit()
    async with UnitOfWork(clinic) as uow:
        # The index itself refuses a second held booking for one entry.
        held = Booking(
            "ben",
            "checkup",
            at("2026-12-03T08:00"),
            at("2026-12-03T09:00"),
            BookingStatus.HELD,
            client=Client(telegram_id=77),
        )
        with pytest.raises(IntegrityError):
            await uow.bookings.add_booking(held, now, now + timedelta(hours=1), offer_of=entry_id)
    async with UnitOfWork(clinic) as uow:
        assert [e.id for e in await uow.waitlist.entries(78, date(2026, 12, 1))] == [other]
        rows = await uow.session.scalars(select(BookingRow).where(BookingRow.offer_of.is_not(None)))
        offers = list(rows)
        assert [(r.offer_of, r.specialist_id) for r in offers] == [(entry_id, "ann")]
        # Once that offer has gone (run out and expired), the entry may get the next.
        await uow.bookings.expire_holds(now + timedelta(hours=1))
        await uow.commit()
    assert await offer(clinic, entry_id, slot("2026-12-03T15:00", "ben"), timedelta(minutes=15))
    await assert_index_exact(clinic)


async def join_in(uow: UnitOfWork, client: int) -> int:
    entry = await uow.waitlist.add(
        client=client,
        service="checkup",
        specialist=None,
        location=None,
        first=date(2026, 12, 1),
        last=date(2026, 12, 4),
        now=now,
    )
    return entry.id


async def test_a_slot_taken_meanwhile_is_refused_and_the_unit_goes_on(clinic: Database) -> None:
    entry_id = await join(clinic, 77)
    async with UnitOfWork(clinic) as uow:
        entry = await uow.waitlist.entry(entry_id)
        assert entry is not None
        with pytest.raises(Refused) as refused:
            # Bob holds Tuesday 09:00-09:30 with ann.
            await uow.waitlist.offer(
                entry, slot("2026-12-01T09:15"), now, now + timedelta(minutes=15)
            )
        assert refused.value.key == "refused.taken"
        assert await uow.waitlist.offer(
            entry, slot("2026-12-01T09:40"), now, now + timedelta(minutes=15)
        )
        await uow.commit()
    await assert_index_exact(clinic)


async def test_two_processes_offering_to_one_entry_at_once_make_one_offer(
    clinic: Database,
) -> None:
    entry_id = await join(clinic, 77)
    first, second = Database(clinic.url), Database(clinic.url)
    offered = asyncio.Event()

    async def offer_first() -> Booking | None:
        async with UnitOfWork(first) as uow:
            entry = await uow.waitlist.entry(entry_id)
            assert entry is not None
            made = await uow.waitlist.offer(
                entry, slot("2026-12-02T10:20"), now, now + timedelta(minutes=15)
            )
            offered.set()
            await asyncio.sleep(0.3)  # the second offers meanwhile, and waits for this one
            await uow.commit()
            return made

    async def offer_second() -> Booking | None:
        await offered.wait()
        async with UnitOfWork(second) as uow:
            entry = await uow.waitlist.entry(entry_id)
            assert entry is not None
            made = await uow.waitlist.offer(
                entry, slot("2026-12-03T09:00", "ben"), now, now + timedelta(minutes=15)
            )
            await uow.commit()
            return made

    try:
        made = await asyncio.gather(offer_first(), offer_second())
    finally:
        await first.close()
        await second.close()
    assert made[0] is not None and made[1] is None
    await assert_index_exact(clinic)


# -- attendance and no-shows -----------------------------------------------------------------


async def visit(uow: UnitOfWork, start: str, client: int = BOB) -> int:
    """A confirmed visit with ann (in the past or not: the store does not mind)."""
    made = await uow.bookings.add_booking(
        Booking(
            "ann",
            "checkup",
            at(start),
            at(start) + timedelta(minutes=30),
            client=Client(telegram_id=client),
        ),
        now,
    )
    assert made.id is not None
    return made.id


async def test_ill_come_is_kept_from_the_first_press(clinic: Database) -> None:
    async with UnitOfWork(clinic) as uow:
        assert await uow.bookings.attend(1, now)
        assert not await uow.bookings.attend(1, now + timedelta(hours=1))
        await uow.commit()
    async with UnitOfWork(clinic, write=False) as uow:
        found = await uow.bookings.booking(1)
        assert found is not None and found.attending_at == now


async def test_a_mark_is_set_changed_and_cleared_with_who_and_when(clinic: Database) -> None:
    marked = now + timedelta(days=1, hours=2)
    async with UnitOfWork(clinic) as uow:
        await uow.bookings.mark(1, Mark.NO_SHOW, marked, "specialist")
        await uow.commit()
    async with UnitOfWork(clinic) as uow:
        found = await uow.bookings.booking(1)
        assert found is not None and (found.mark, found.marked_at) == (Mark.NO_SHOW, marked)
        await uow.bookings.mark(1, Mark.ARRIVED, marked + timedelta(hours=1), "admin")
        await uow.commit()
    async with UnitOfWork(clinic) as uow:
        row = await uow.session.get(BookingRow, 1)
        assert row is not None and (row.mark, row.marked_by) == ("arrived", "admin")
        await uow.bookings.mark(1, None, marked + timedelta(hours=2), "operator")
        await uow.commit()
    async with UnitOfWork(clinic, write=False) as uow:
        found = await uow.bookings.booking(1)
        assert found is not None and found.mark is None


async def test_no_shows_count_within_the_window_and_since_forgiven(clinic: Database) -> None:
    window = timedelta(days=90)
    async with UnitOfWork(clinic) as uow:
        long_ago = await visit(uow, "2026-06-01T09:00")  # beyond the window
        recent = [await visit(uow, "2026-11-02T09:00"), await visit(uow, "2026-11-09T09:00")]
        cancelled = await visit(uow, "2026-11-16T09:00")
        someone_else = await visit(uow, "2026-11-23T09:00", client=77)
        for booking_id in (long_ago, *recent, cancelled, someone_else):
            await uow.bookings.mark(booking_id, Mark.NO_SHOW, now - timedelta(days=1), "admin")
        await uow.bookings.set_status(cancelled, BookingStatus.CANCELLED, now, "admin", "error")
        await uow.commit()
    async with UnitOfWork(clinic) as uow:
        assert await uow.bookings.no_shows(BOB, now, window) == 2
        assert await uow.bookings.no_shows(BOB, now, None) == 3
        assert await uow.bookings.no_shows(77, now, window) == 1
        assert await uow.bookings.no_shows(999, now, window) == 0  # no such client
        assert await uow.bookings.forgive(BOB, now)
        assert not await uow.bookings.forgive(999, now)
        await uow.commit()
    async with UnitOfWork(clinic) as uow:
        assert await uow.bookings.no_shows(BOB, now, None) == 0
        # A mark after the forgiving counts again.
        await uow.bookings.mark(recent[1], Mark.NO_SHOW, now + timedelta(minutes=1), "admin")
        await uow.commit()
    async with UnitOfWork(clinic, write=False) as uow:
        assert await uow.bookings.no_shows(BOB, now + timedelta(minutes=2), window) == 1
        assert await uow.bookings.no_shows(77, now, window) == 1  # forgiving is per client
        client = await uow.session.scalar(select(ClientRow).where(ClientRow.telegram_id == BOB))
        assert client is not None and client.forgiven_at == now


async def test_a_visit_marked_no_show_is_not_reviewed_and_leaves_the_list(
    clinic: Database,
) -> None:
    ended = at("2026-12-01T10:00")  # Bob's visit with ann was 09:00-09:30
    await reviews.save(clinic, ended, 1, 5, "Great", telegram_id=BOB)
    assert [r.booking_id for r in await reviews.listed(clinic)] == [1]
    async with UnitOfWork(clinic) as uow:
        await uow.bookings.mark(1, Mark.NO_SHOW, ended, "specialist")
        await uow.commit()
    assert await reviews.listed(clinic) == []
    with pytest.raises(Refused) as refused:
        await reviews.reviewable(clinic, ended, 1)
    assert refused.value.key == "review.no_show"


# -- the migration ---------------------------------------------------------------------------


async def test_the_migration_goes_down_and_up_keeping_the_overlap_guard(clinic: Database) -> None:
    def migrate(connection, target: str, up: bool) -> None:  # type: ignore[no-untyped-def]
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        (command.upgrade if up else command.downgrade)(config, target)

    def columns(connection, table: str) -> set[str]:  # type: ignore[no-untyped-def]
        return {column["name"] for column in inspect(connection).get_columns(table)}

    entry_id = await join(clinic, 77)
    assert await offer(clinic, entry_id, slot("2026-12-02T10:20"), timedelta(minutes=15))
    async with clinic.engine.begin() as connection:
        await connection.run_sync(migrate, "0013", False)
        assert "offer_of" not in await connection.run_sync(columns, "bookings")
        assert "forgiven_at" not in await connection.run_sync(columns, "clients")
        assert "waitlist" not in await connection.run_sync(
            lambda sync: inspect(sync).get_table_names()
        )
        await connection.run_sync(migrate, "head", True)
        diff = await connection.run_sync(drift)
        assert diff == []
    overlapping = Booking("ann", "checkup", at("2026-12-01T09:10"), at("2026-12-01T09:40"))
    async with UnitOfWork(clinic) as uow:
        with pytest.raises(Refused):
            await uow.bookings.add_booking(overlapping, now)
    async with UnitOfWork(clinic, write=False) as uow:
        assert len(await uow.bookings.bookings()) == 2  # Bob's visit and the offer, kept
