"""Drafts keep the place a client chose in a chain and the point they shared.

Revision ID: 0017
Revises: 0016

The chat's Where? step (spec/bot.md) asks a chain's client for a place, or for their
location to list the places by distance; both must survive a restart between taps.
Plain nullable ADD COLUMNs: no table is rewritten.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("drafts", sa.Column("location_id", sa.String(64), nullable=True))
    op.add_column("drafts", sa.Column("lat", sa.Float(), nullable=True))
    op.add_column("drafts", sa.Column("lon", sa.Float(), nullable=True))


def downgrade() -> None:
    for column in ("lon", "lat", "location_id"):
        op.execute(f"ALTER TABLE drafts DROP COLUMN {column}")
