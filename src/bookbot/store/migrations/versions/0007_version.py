"""A counter on the business row, raised by every change to availability, to key views.

Revision ID: 0007
Revises: 0006

Bot processes cache what a tap shows (specialists, calendars, times) under this counter,
the schedule stamp and the minute; any booking, cancellation, hold or schedule change
raises it in the transaction that makes the change, so no process shows a stale view.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, as in 0003: batch mode would copy a table others refer to.
    op.add_column(
        "businesses", sa.Column("version", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    with op.batch_alter_table("businesses") as batch:
        batch.drop_column("version")
