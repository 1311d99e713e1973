"""Locations of a chain, and the place of specialists, weekly entries and overrides.

Revision ID: 0016
Revises: 0015

A business may list places (spec/clinic-file.md, "Locations"): each with an address,
optional coordinates, zone, holiday calendars and phone. A specialist, a weekly entry and
an override's hours may name one; NULL is "the specialist's", or none without locations.
A booking keeps the place of the window it was booked in.
Every new column is a plain nullable ADD COLUMN: no table is rewritten.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

PLACED = ("specialists", "weekly_entries", "overrides", "bookings")


def upgrade() -> None:
    op.create_table(
        "locations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("holidays", sa.String(200), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["business_id"], ["businesses.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for table in PLACED:
        op.add_column(table, sa.Column("location", sa.String(64), nullable=True))


def downgrade() -> None:
    # SQLite (3.35 on) drops a column in place, keeping the bookings triggers.
    for table in PLACED:
        op.execute(f"ALTER TABLE {table} DROP COLUMN location")
    op.drop_table("locations")
