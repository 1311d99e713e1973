"""The index of holds keeps holds alone, not every booking.

Revision ID: 0023
Revises: 0022

`ix_bookings_held` (status, hold_until) serves one question, which specialists have a
hold that ran out and is not marked yet, asked by every search and by every writer. It
kept an entry for every booking, confirmed and cancelled ones too: a size-a import's
1.5 M bookings all went into it (20-60 ms of server time a chunk of 20,000 on
PostgreSQL, 2026-12-04). The same columns, kept for holds alone, answer the question:
the queries name the status in their text (store/tables.py `HELD_ONLY`), so both
databases can tell the index covers them. The status stays the first column: on the
index of the hold expiry alone (hold_until), SQLite costed the search's question as a
scan of every booking and built an index of its own each time (204 ms, not 3).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

HELD_ONLY = sa.text("status = 'held'")
COLUMNS = ["status", "hold_until"]


def upgrade() -> None:
    op.drop_index("ix_bookings_held", "bookings")
    op.create_index(
        "ix_bookings_held", "bookings", COLUMNS, sqlite_where=HELD_ONLY, postgresql_where=HELD_ONLY
    )


def downgrade() -> None:
    op.drop_index("ix_bookings_held", "bookings")
    op.create_index("ix_bookings_held", "bookings", COLUMNS)
