"""PostgreSQL takes a unit's locks and reads the catalog's stamp in one round trip.

Revision ID: 0022
Revises: 0021

A writer's first statement takes its advisory locks (store/uow.py), and its next one read
the business's stamp, to tell whether the cached catalog is current: two round trips of
the nine a booking made. One statement cannot do both, as it reads with the snapshot it
took before it waited for the locks. A volatile function can: each statement in it takes
a snapshot of its own, so the stamp is read after the last lock is granted, with
everything committed before then.
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# Waits for each key in order, the first `shared` of them shared (as store/uow.py's TAKE
# did), then reads the stamp of the one business row (id 1, store/tables.py).
LOCK = """
CREATE FUNCTION bookbot_lock(keys bigint[], shared integer) RETURNS varchar
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM CASE WHEN o <= shared THEN pg_advisory_xact_lock_shared(k)
    ELSE pg_advisory_xact_lock(k) END
  FROM unnest(keys) WITH ORDINALITY AS t(k, o);
  RETURN (SELECT b.stamp FROM businesses b WHERE b.id = 1);
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(LOCK)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION bookbot_lock(bigint[], integer)")
