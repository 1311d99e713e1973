"""Holiday dates kept for the calendars in use, so a query need not load the holidays package.

Revision ID: 0018
Revises: 0017

One row per calendar and year: its dates as ISO text joined by `,`. Importing the package
and computing one year cost a query ~0.2 s of its start-up; imports, holiday changes,
new places and `bookbot reindex` fill the table (store/holiday_dates.py). It starts empty:
until then every calendar is computed as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "holiday_dates",
        sa.Column("calendar", sa.String(32), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("days", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("calendar", "year"),
    )


def downgrade() -> None:
    op.drop_table("holiday_dates")
