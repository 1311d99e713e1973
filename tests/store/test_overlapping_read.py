"""Reading the bookings that overlap a stretch of time, against a model, on both databases.

`Bookings.overlapping` finds a specialist's bookings by the index of their starts, and of
those starting before the stretch only the last live one (live bookings never overlap):
PostgreSQL asks it with one array of specialists and a LATERAL probe each, SQLite with
lists of ids. Either must give exactly the live bookings that share an instant with it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bookbot import clinic_file
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.store.tables import BookingRow
from bookbot.store.uow import UnitOfWork
from tests.clinics import BASIC, NOW

SPECIALISTS = ("ann", "ben", "carla")
DAY = datetime(2027, 5, 3, 6, tzinfo=UTC)
QUARTER = timedelta(minutes=15)
Row = tuple[str, datetime, datetime, str, datetime | None]  # specialist, start, end, status, hold


def _rows(rng: random.Random) -> list[Row]:
    """Bookings of each specialist one after another, live ones never overlapping."""
    rows: list[Row] = []
    for specialist in SPECIALISTS[:2]:  # the third has none
        at = DAY
        for _ in range(60):
            at += rng.choice([0, 0, 1, 3, 12]) * QUARTER
            end = at + rng.choice([1, 2, 4, 16, 40]) * QUARTER
            status = rng.choice(["confirmed", "confirmed", "held", "cancelled", "expired"])
            hold = None
            if status == "held":
                hold = rng.choice([None, DAY + rng.randrange(-8, 400) * QUARTER])
            rows.append((specialist, at, end, status, hold))
            if status in ("confirmed", "held"):
                at = end
    return rows


async def test_the_bookings_read_for_a_stretch_are_exactly_the_live_ones_in_it(
    db: Database,
) -> None:
    await import_clinic(db, clinic_file.read(BASIC), datetime.fromisoformat(NOW))
    rng = random.Random(7)
    rows = _rows(rng)
    async with db.engine.begin() as connection:
        await connection.execute(
            insert(BookingRow),
            [
                {
                    "specialist_id": specialist,
                    "service_id": "checkup",
                    "start_at": start,
                    "end_at": end,
                    "status": status,
                    "hold_until": hold,
                    "created_at": DAY,
                }
                for specialist, start, end, status, hold in rows
            ],
        )
    reaching = 0
    for _ in range(150):
        since = DAY + rng.randrange(-8, 600) * QUARTER
        until = since + rng.randrange(1, 80) * QUARTER
        asked = rng.sample(SPECIALISTS, rng.randint(1, 3))
        live_at = rng.choice([None, DAY + rng.randrange(0, 400) * QUARTER])
        expected = sorted(
            (specialist, start, end, status)
            for specialist, start, end, status, hold in rows
            if specialist in asked
            and status in ("confirmed", "held")
            and start < until
            and since < end
            and (live_at is None or status == "confirmed" or (hold is not None and hold > live_at))
        )
        reaching += any(start < since for _, start, _, _ in expected)
        async with UnitOfWork(db, write=False) as uow:
            found = await uow.bookings.overlapping(asked, since, until, live_at=live_at)
        got = sorted((b.specialist, b.start, b.end, str(b.status)) for b in found)
        assert got == expected, (asked, since, until, live_at)
    assert reaching > 10  # bookings that began before the stretch were asked for too
