"""The day index: free time per specialist and local date, its spans, and held bookings.

Revision ID: 0006
Revises: 0005

Existing data gets no rows here: every date is unknown, so questions ask the engine, until
`bookbot reindex` (or the next import) fills the index.

On SQLite the double-booking triggers of 0001 become cheaper: they looked at every earlier
booking of the specialist (a bulk import of 250 bookings a specialist spent most of its
time there); now they look at the one live booking that starts last before the new one
ends, which is the only one that can overlap it, since live bookings never overlap.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "days",
        sa.Column("specialist_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("free_minutes", sa.Integer(), nullable=False),
        sa.Column("longest_hole_minutes", sa.Integer(), nullable=False),
        sa.Column("free_slots", sa.Integer(), nullable=False),
        sa.Column("first_free", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["specialist_id"], ["specialists.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("specialist_id", "day"),
    )
    op.create_index("ix_days_first_free", "days", ["first_free"])
    op.create_index("ix_days_weekday", "days", ["weekday", "day"])
    op.create_table(
        "day_spans",
        sa.Column("specialist_id", sa.String(length=64), nullable=False),
        sa.Column("first", sa.Date(), nullable=False),
        sa.Column("last", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["specialist_id"], ["specialists.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("specialist_id"),
    )
    op.create_index("ix_bookings_held", "bookings", ["status", "hold_until"])
    if op.get_bind().dialect.name == "sqlite":
        _triggers(
            "SELECT RAISE(ABORT, 'bookings_no_overlap') WHERE (SELECT b.end_at FROM bookings b "
            "WHERE b.specialist_id = NEW.specialist_id AND b.id IS NOT NEW.id "
            f"AND b.status IN {LIVE} AND b.start_at < NEW.end_at "
            "ORDER BY b.start_at DESC, b.end_at DESC LIMIT 1) > NEW.start_at;"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _triggers(
            "SELECT RAISE(ABORT, 'bookings_no_overlap') WHERE EXISTS (SELECT 1 FROM bookings b "
            "WHERE b.specialist_id = NEW.specialist_id AND b.id IS NOT NEW.id "
            f"AND b.status IN {LIVE} AND b.start_at < NEW.end_at AND b.end_at > NEW.start_at);"
        )
    op.drop_index("ix_bookings_held", "bookings")
    op.drop_table("day_spans")
    op.drop_index("ix_days_weekday", "days")
    op.drop_index("ix_days_first_free", "days")
    op.drop_table("days")


LIVE = "('held', 'confirmed')"


def _triggers(overlap: str) -> None:
    """Replaces SQLite's two double-booking triggers with ones running `overlap`."""
    op.execute("DROP TRIGGER bookings_no_overlap_insert")
    op.execute("DROP TRIGGER bookings_no_overlap_update")
    op.execute(
        "CREATE TRIGGER bookings_no_overlap_insert BEFORE INSERT ON bookings "
        f"WHEN NEW.status IN {LIVE} BEGIN {overlap} END"
    )
    op.execute(
        "CREATE TRIGGER bookings_no_overlap_update BEFORE UPDATE OF "
        "specialist_id, start_at, end_at, status ON bookings "
        f"WHEN NEW.status IN {LIVE} BEGIN {overlap} END"
    )
