"""The inbox: every update from Telegram is stored before it is acknowledged.

Revision ID: 0012
Revises: 0011

Updates used to be acknowledged (webhook 200, getUpdates offset) before they were handled,
so a killed process lost the ones it held, and a second delivery of one was handled twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("update_id"),
    )
    op.create_index("ix_inbox_state", "inbox", ["handled_at", "claimed_until"])


def downgrade() -> None:
    op.drop_index("ix_inbox_state", "inbox")
    op.drop_table("inbox")
