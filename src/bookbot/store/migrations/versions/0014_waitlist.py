"""Attendance on bookings, the waitlist, offers as held bookings, and forgiven no-shows.

Revision ID: 0014
Revises: 0012

A confirmed visit records the client's "I'll come" (`attending_at`) and staff's mark
(arrived or no_show, when, by whom). The `waitlist` keeps who waits for what time; an
offer is a held booking naming its entry (`offer_of`), so the day index, the overlap
guard and the engine treat it as occupied time, and a partial unique index allows one
held booking per entry. `clients.forgiven_at` voids the no-shows marked before it.

Every column is a plain nullable ADD COLUMN: neither database rewrites a table, and
SQLite keeps the bookings triggers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

HELD_ONLY = sa.text("status = 'held'")
NO_SHOWS = sa.text("mark = 'no_show'")
MARKS = ("attending_at", "mark", "marked_at", "marked_by")


def upgrade() -> None:
    op.create_table(
        "waitlist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("specialist_id", sa.String(64), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("parts", sa.SmallInteger(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_booking", sa.Integer(), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["business_id"], ["businesses.id"]),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.ForeignKeyConstraint(["specialist_id"], ["specialists.id"]),
        sa.ForeignKeyConstraint(["from_booking"], ["bookings.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_waitlist_match", "waitlist", ["service_id", "last_day"])
    op.create_index("ix_waitlist_client_id", "waitlist", ["client_id"])
    op.add_column("bookings", sa.Column("attending_at", sa.DateTime(timezone=True)))
    op.add_column("bookings", sa.Column("mark", sa.String(12)))
    op.add_column("bookings", sa.Column("marked_at", sa.DateTime(timezone=True)))
    op.add_column("bookings", sa.Column("marked_by", sa.String(20)))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes a reference only as part of the column; alembic would want a copy.
        op.execute("ALTER TABLE bookings ADD COLUMN offer_of INTEGER REFERENCES waitlist (id)")
    else:
        op.add_column("bookings", sa.Column("offer_of", sa.Integer(), sa.ForeignKey("waitlist.id")))
    op.create_index(
        "bookings_one_offer",
        "bookings",
        ["offer_of"],
        unique=True,
        sqlite_where=HELD_ONLY,
        postgresql_where=HELD_ONLY,
    )
    op.create_index(
        "ix_bookings_no_shows",
        "bookings",
        ["client_id", "start_at"],
        sqlite_where=NO_SHOWS,
        postgresql_where=NO_SHOWS,
    )
    op.add_column("clients", sa.Column("forgiven_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    # SQLite (3.35 on) drops a column in place, keeping the bookings triggers; PostgreSQL
    # drops the column's foreign key with it.
    op.execute("ALTER TABLE clients DROP COLUMN forgiven_at")
    op.drop_index("ix_bookings_no_shows", "bookings")
    op.drop_index("bookings_one_offer", "bookings")
    for column in ("offer_of", *MARKS):
        op.execute(f"ALTER TABLE bookings DROP COLUMN {column}")
    op.drop_index("ix_waitlist_client_id", "waitlist")
    op.drop_index("ix_waitlist_match", "waitlist")
    op.drop_table("waitlist")
