"""The database's own double-booking guard against a model, on both databases.

Statements of many rows, written outside bookbot's locks and checks as another program
could: each is refused exactly when a live booking it leaves overlaps another of its
specialist, or has no length, and a refused one writes nothing. The specialists' rows
sometimes stand alone in their range of time and sometimes not, the two ways PostgreSQL
checks them (migration 0021); both are seen, refused and let through.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, insert, select, update
from sqlalchemy.exc import IntegrityError

from bookbot import clinic_file
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.store.tables import BookingRow
from tests.clinics import BASIC, NOW

SPECIALISTS = ("ann", "ben")
LIVE = ("held", "confirmed")
DAY = datetime(2027, 3, 1, 8, tzinfo=UTC)
QUARTER = timedelta(minutes=15)
Row = tuple[str, datetime, datetime, str]  # specialist, start, end, status


def _overlapping(rows: dict[int, Row], written: set[int]) -> bool:
    """Tells whether a written row is live and empty, or overlaps another live one."""
    live = {i: row for i, row in rows.items() if row[3] in LIVE}
    for i in written & live.keys():
        specialist, start, end, _ = live[i]
        if end <= start:
            return True
        for j, (other, begin, finish, _) in live.items():
            if j != i and other == specialist and begin < end and start < finish:
                return True
    return False


def _alone(rows: dict[int, Row], written: set[int]) -> bool:
    """Tells whether each specialist's live written rows stand alone in their range."""
    live = {i: row for i, row in rows.items() if row[3] in LIVE}
    for specialist in {live[i][0] for i in written & live.keys()}:
        mine = [live[i] for i in written & live.keys() if live[i][0] == specialist]
        since, until = min(r[1] for r in mine), max(r[2] for r in mine)
        if any(
            row[0] == specialist and since <= row[1] < until
            for i, row in live.items()
            if i not in written
        ):
            return False
    return True


def _row(rng: random.Random) -> Row:
    start = DAY + rng.randrange(48) * QUARTER
    length = rng.choice([0, 1, 2, 2, 4, 6]) if rng.random() < 0.95 else 0
    status = rng.choice(["confirmed", "confirmed", "held", "cancelled"])
    return rng.choice(SPECIALISTS), start, start + length * QUARTER, status


async def test_the_guard_refuses_exactly_the_statements_that_leave_an_overlap(
    db: Database,
) -> None:
    await import_clinic(db, clinic_file.read(BASIC), datetime.fromisoformat(NOW))
    async with db.engine.connect() as connection:
        stored = await connection.execute(
            select(
                BookingRow.id,
                BookingRow.specialist_id,
                BookingRow.start_at,
                BookingRow.end_at,
                BookingRow.status,
            )
        )
        rows: dict[int, Row] = {i: (s, b, e, str(st)) for i, s, b, e, st in stored}
    rng = random.Random(21)
    seen: set[tuple[str, bool, bool]] = set()
    next_id = max(rows) + 1
    many = db.dialect == "postgresql"  # SQLite checks row by row as it updates: one a time
    for _ in range(400):
        if rng.random() < 0.4:  # move or change a few of those stored
            ids = rng.sample(sorted(rows), min(len(rows), rng.randint(1, 3) if many else 1))
            changed = {i: _row(rng) for i in ids}
            changed = {i: (rows[i][0], *row[1:]) for i, row in changed.items()}
            statement = (
                update(BookingRow)
                .where(BookingRow.id.in_(ids))
                .values(
                    start_at=case({i: r[1] for i, r in changed.items()}, value=BookingRow.id),
                    end_at=case({i: r[2] for i, r in changed.items()}, value=BookingRow.id),
                    status=case({i: r[3] for i, r in changed.items()}, value=BookingRow.id),
                )
            )
            kind = "update"
        else:
            changed = {next_id + k: _row(rng) for k in range(rng.randint(1, 6))}
            statement = insert(BookingRow).values(
                [
                    {
                        "id": i,
                        "specialist_id": r[0],
                        "service_id": "checkup",
                        "start_at": r[1],
                        "end_at": r[2],
                        "status": r[3],
                        "created_at": DAY,
                    }
                    for i, r in changed.items()
                ]
            )
            next_id += len(changed)
            kind = "insert"
        after = {**rows, **changed}
        refused = _overlapping(after, set(changed))
        try:
            async with db.engine.begin() as connection:
                await connection.execute(statement)
        except IntegrityError as error:
            assert "bookings_no_overlap" in str(error.orig)
            assert refused, f"{kind} {changed} was refused, with nothing overlapping"
        else:
            assert not refused, f"{kind} {changed} was let through, overlapping"
            rows = after
        seen.add((kind, _alone(after, set(changed)), refused))
    async with db.engine.connect() as connection:
        stored = await connection.execute(
            select(BookingRow.id, BookingRow.start_at, BookingRow.end_at, BookingRow.status)
        )
        assert {i: (b, e, str(st)) for i, b, e, st in stored} == {
            i: row[1:] for i, row in rows.items()
        }
    assert seen >= {
        (kind, alone, refused)
        for kind in ("insert", "update")
        for alone in (True, False)
        for refused in (True, False)
        if many or (kind, alone, refused) != ("update", False, False)  # one row not alone overlaps
    }
