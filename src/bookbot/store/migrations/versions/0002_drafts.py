"""Drafts: where each client's booking flow stands between taps.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=True),
        sa.Column("specialist_id", sa.String(length=64), nullable=True),
        sa.Column("rescheduling_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("telegram_id"),
    )


def downgrade() -> None:
    op.drop_table("drafts")
