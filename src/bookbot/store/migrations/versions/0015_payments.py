"""Prepayment: what services ask up front, holds awaiting a payment, and the payments.

Revision ID: 0015
Revises: 0014

A service may ask a deposit or its full price (`prepay`, `deposit` in minor units) and
may be marked `online` (Telegram Stars pay only for those). A hold awaiting payment is a
held booking with the amount `due`: it stays status 'held', so the overlap guard (the
exclusion constraint on PostgreSQL, the triggers on SQLite) and the day index count it
as any hold. `payments` keeps what Telegram reported; its charge id is unique, so a
repeated successful_payment is stored once.

Every column is a plain nullable ADD COLUMN: neither database rewrites a table, and
SQLite keeps the bookings triggers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("services", sa.Column("prepay", sa.String(12)))
    op.add_column("services", sa.Column("deposit", sa.Integer()))
    op.add_column("services", sa.Column("online", sa.Boolean()))
    op.add_column("bookings", sa.Column("due", sa.Integer()))
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("telegram_charge_id", sa.String(255), nullable=False),
        sa.Column("provider_charge_id", sa.String(255), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refund_owed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("telegram_charge_id"),
    )
    op.create_index("ix_payments_booking_id", "payments", ["booking_id"])
    op.create_index("ix_payments_paid_at", "payments", ["paid_at"])


def downgrade() -> None:
    op.drop_index("ix_payments_paid_at", "payments")
    op.drop_index("ix_payments_booking_id", "payments")
    op.drop_table("payments")
    op.execute("ALTER TABLE bookings DROP COLUMN due")
    for column in ("online", "deposit", "prepay"):
        op.execute(f"ALTER TABLE services DROP COLUMN {column}")
