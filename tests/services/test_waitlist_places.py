"""A chain's waitlist: an entry waits at the place the client chose, or at any place.

In tests/clinics.py CHAIN, Ann works Thursday 3 December at Spandau 09:00-11:00 and at
Mitte 11:00-12:00, in 30-minute slots.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bookbot import clinic_file
from bookbot.engine.bookings import CLIENT
from bookbot.engine.model import Client
from bookbot.errors import BookbotError
from bookbot.services import bookings, waitlist
from bookbot.services.availability import ANY
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from tests.clinics import CHAIN, NOW
from tests.services.test_waitlist import offers

T0 = datetime.fromisoformat(NOW)
THURSDAY = date(2026, 12, 3)
AT_SPANDAU = datetime.fromisoformat("2026-12-03T09:00:00+01:00")
AT_MITTE = datetime.fromisoformat("2026-12-03T11:00:00+01:00")


@pytest.fixture
async def chain(db: Database) -> Database:
    await import_clinic(db, clinic_file.read(CHAIN), T0)
    return db


async def test_an_entry_at_a_place_is_offered_only_time_freed_there(chain: Database) -> None:
    spandau = await bookings.book(chain, T0, "ann", "checkup", AT_SPANDAU, Client("A", None, 21))
    mitte = await bookings.book(chain, T0, "ann", "checkup", AT_MITTE, Client("B", None, 22))
    for client, place in ((31, "mitte"), (32, ANY)):
        await waitlist.join(
            chain, T0, client, "checkup", "ann", first=THURSDAY, last=THURSDAY, location=place
        )
    assert [w.entry.location for w in await waitlist.entries(chain, T0, 31)] == ["mitte"]
    await bookings.cancel(chain, T0, spandau.id or 0, CLIENT, client=21)
    offered = await offers(chain)
    assert list(offered) == [32]  # the first in line waits at Mitte only
    assert offered[32].start == AT_SPANDAU
    await bookings.cancel(chain, T0, mitte.id or 0, CLIENT, client=22)
    offered = await offers(chain)
    assert offered[31].start == AT_MITTE and offered[31].location == "mitte"


async def test_wanting_a_visit_sooner_waits_at_its_place(chain: Database) -> None:
    mitte = await bookings.book(chain, T0, "ann", "checkup", AT_MITTE, Client("B", None, 22))
    entry = await waitlist.join(chain, T0, 22, from_booking=mitte.id)
    assert entry.location == "mitte"


async def test_an_unknown_place_is_refused_and_adds_nothing(chain: Database) -> None:
    with pytest.raises(BookbotError) as refused:
        await waitlist.join(chain, T0, 33, "checkup", "ann", location="nowhere")
    assert refused.value.key == "error.unknown_location"
    assert await waitlist.entries(chain, T0, 33) == []
