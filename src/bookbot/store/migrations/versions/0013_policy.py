"""Prices, cut-offs and the clinic's policy (spec/policy.md).

Revision ID: 0013
Revises: 0012

A service gets its price (an integer of minor units of the business's currency) and its
own cut-off in seconds; the business gets its currency, the phone clients are asked to
call, and its policy as JSON text (see store/catalog_rows.py). Every column is nullable:
a clinic imported before has no prices and a policy at its defaults.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("services", sa.Column("price", sa.Integer(), nullable=True))
    op.add_column("services", sa.Column("cancel_notice_seconds", sa.Integer(), nullable=True))
    op.add_column("businesses", sa.Column("currency", sa.String(length=3), nullable=True))
    op.add_column("businesses", sa.Column("phone", sa.String(length=40), nullable=True))
    op.add_column("businesses", sa.Column("policy", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("businesses") as table:
        table.drop_column("policy")
        table.drop_column("phone")
        table.drop_column("currency")
    with op.batch_alter_table("services") as table:
        table.drop_column("cancel_notice_seconds")
        table.drop_column("price")
