"""A stamp on the business row, renewed on every schedule change, to key caches.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: SQLite's batch mode would copy and drop the table, which its
    # foreign keys refuse once rows refer to it.
    op.add_column(
        "businesses", sa.Column("stamp", sa.String(length=32), nullable=False, server_default="")
    )


def downgrade() -> None:
    with op.batch_alter_table("businesses") as batch:
        batch.drop_column("stamp")
