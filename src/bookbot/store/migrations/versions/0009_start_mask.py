"""The day index keeps which 30-minute buckets hold a free start, so SQL can skip the rest.

Revision ID: 0009
Revises: 0008

At midday most of today's rows have a first free slot that notice has passed; the search
page had to read every one to find its next slot. `free_mask` marks the buckets (from
`free_base`, the first free slot's) that hold a free start, so SQL picks only the rows
with one soon. Existing rows get nulls, which questions read as "maybe any bucket": exact,
only slower, until `bookbot reindex` fills them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: nullable, no default, so neither database rewrites the table.
    op.add_column("days", sa.Column("free_base", sa.Integer(), nullable=True))
    op.add_column("days", sa.Column("free_mask", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("days") as batch:
        batch.drop_column("free_mask")
        batch.drop_column("free_base")
