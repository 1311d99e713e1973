"""PostgreSQL refuses double bookings with a trigger probing one index entry, as SQLite does.

Revision ID: 0020
Revises: 0019

The exclusion constraint's GiST index was most of what a bulk import cost the server:
COPY of the 1.5 M bookings of bench size (a), 20,000 rows a statement as an import
writes them, took 68-72 s with it and 38-39 s with these triggers and their index (two
alternating runs each, 2-core machine, 2026-12-02). Each statement that writes bookings
now checks its live rows as SQLite's triggers do (0019): the live booking of the same
specialist that starts last before a row ends must end by the row's start, and a live
row must have a length (the constraint let a live booking of no length through). That
one probe finds any overlap, because a specialist's other live bookings never overlap
each other. It reads an index of the live bookings alone, the probe's own.

Two writers could each pass that check before the other commits, which the constraint
prevented by itself. So the trigger first locks the rows' specialists (FOR NO KEY UPDATE,
in id order): a second writer of one specialist waits there until the first ends, and
then, under READ COMMITTED, its check sees what the first wrote. The unit of work's
advisory locks already make bookbot's own writers take turns; the triggers hold for any
other writer too. The specialists' 64-bit key constraint of 0008 served only the GiST key
and goes with it.
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

LIVE = "('held', 'confirmed')"
# Each connection plans these once and keeps the plans. With the probe's own index the
# plan is the same at any size, an empty table's included: one ordered index entry for
# each row written. (Planning them at each statement, with EXECUTE, cost a booking 0.4 ms.)
CHECK = f"""
CREATE FUNCTION bookings_no_overlap() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  overlap boolean;
BEGIN
  PERFORM 1 FROM specialists s
    WHERE s.id IN (SELECT w.specialist_id FROM written w WHERE w.status IN {LIVE})
    ORDER BY s.id FOR NO KEY UPDATE;
  SELECT EXISTS (
    SELECT 1 FROM written w LEFT JOIN LATERAL (
      SELECT b.end_at FROM bookings b
      WHERE b.specialist_id = w.specialist_id AND b.id <> w.id
        AND b.status IN {LIVE} AND b.start_at < w.end_at
      ORDER BY b.start_at DESC LIMIT 1
    ) last ON true
    WHERE w.status IN {LIVE} AND (w.end_at <= w.start_at OR last.end_at > w.start_at)
  ) INTO overlap;
  IF overlap THEN
    RAISE EXCEPTION 'a live booking would overlap another: bookings_no_overlap'
      USING ERRCODE = 'exclusion_violation', CONSTRAINT = 'bookings_no_overlap',
        TABLE = 'bookings';
  END IF;
  RETURN NULL;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap")
    op.execute("ALTER TABLE specialists DROP CONSTRAINT specialists_key_unique")
    # The probe's own index: on ix_bookings_specialist_start the planner fetched every
    # earlier booking of the specialist and sorted them, 70 µs a row instead of 8, or
    # joined the status index's every live row to each probe, which made an import
    # quadratic.
    op.execute(
        "CREATE INDEX bookings_no_overlap_probe ON bookings (specialist_id, start_at) "
        f"WHERE status IN {LIVE}"
    )
    op.execute(CHECK)
    for event in ("INSERT", "UPDATE"):  # a trigger with a transition table has one event
        op.execute(
            f"CREATE TRIGGER bookings_no_overlap_{event.lower()} AFTER {event} ON bookings "
            "REFERENCING NEW TABLE AS written FOR EACH STATEMENT "
            "EXECUTE FUNCTION bookings_no_overlap()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER bookings_no_overlap_insert ON bookings")
    op.execute("DROP TRIGGER bookings_no_overlap_update ON bookings")
    op.execute("DROP FUNCTION bookings_no_overlap()")
    op.execute("DROP INDEX bookings_no_overlap_probe")
    op.execute(
        "ALTER TABLE specialists ADD CONSTRAINT specialists_key_unique "
        "EXCLUDE USING btree (hashtextextended(id, 0) WITH =)"
    )
    op.execute(
        "ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist "
        "(hashtextextended(specialist_id, 0) WITH =, tstzrange(start_at, end_at, '[)') WITH &&) "
        f"WHERE (status IN {LIVE})"
    )
