"""The day index: free time per specialist and local date, its spans, and held bookings.

Revision ID: 0006
Revises: 0005

Existing data gets no rows here: every date is unknown, so questions ask the engine, until
`bookbot reindex` (or the next import) fills the index.
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


def downgrade() -> None:
    op.drop_index("ix_bookings_held", "bookings")
    op.drop_table("day_spans")
    op.drop_index("ix_days_weekday", "days")
    op.drop_index("ix_days_first_free", "days")
    op.drop_table("days")
