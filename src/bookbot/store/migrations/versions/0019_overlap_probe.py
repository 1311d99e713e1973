"""SQLite's double-booking triggers probe one index entry, and refuse a live booking of no length.

Revision ID: 0019
Revises: 0018

The triggers of 0006 look at the live booking that starts last before the new one ends,
ordered by start and then by end; the second key made SQLite sort what the index
(specialist, start) already gives in order, a fifth of a bulk import's time inserting.
The start alone picks one booking when no two live bookings of a specialist share a
start, which holds as long as each has a length: two with the same start and a length
overlap. Every writer checks that a booking ends after it starts; the triggers now refuse
one that does not as well, so the probe does not rest on the writers. On PostgreSQL the
exclusion constraint is unchanged.
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

LIVE = "('held', 'confirmed')"
PROBE = (
    "(SELECT b.end_at FROM bookings b "
    "WHERE b.specialist_id = NEW.specialist_id AND b.id IS NOT NEW.id "
    f"AND b.status IN {LIVE} AND b.start_at < NEW.end_at "
    "ORDER BY b.start_at DESC{more} LIMIT 1) > NEW.start_at"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _triggers(f"NEW.end_at <= NEW.start_at OR {PROBE.format(more='')}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _triggers(PROBE.format(more=", b.end_at DESC"))


def _triggers(refused: str) -> None:
    """Replaces SQLite's two double-booking triggers with ones refusing where `refused`."""
    check = f"SELECT RAISE(ABORT, 'bookings_no_overlap') WHERE {refused};"
    op.execute("DROP TRIGGER bookings_no_overlap_insert")
    op.execute("DROP TRIGGER bookings_no_overlap_update")
    op.execute(
        "CREATE TRIGGER bookings_no_overlap_insert BEFORE INSERT ON bookings "
        f"WHEN NEW.status IN {LIVE} BEGIN {check} END"
    )
    op.execute(
        "CREATE TRIGGER bookings_no_overlap_update BEFORE UPDATE OF "
        "specialist_id, start_at, end_at, status ON bookings "
        f"WHEN NEW.status IN {LIVE} BEGIN {check} END"
    )
