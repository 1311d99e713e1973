"""Writing many rows at once: COPY on PostgreSQL, executemany on SQLite."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

CHUNK = 20_000  # rows per statement, to bound memory
IN_LIST = 900  # values in one IN list, under SQLite's limit on parameters
T = TypeVar("T")


async def add_rows(session: AsyncSession, table: Table, rows: Sequence[dict]) -> None:
    """Inserts rows that all name the same columns, in this transaction; instants are aware.

    COPY checks every constraint as INSERT does, at a fraction of the cost per row: no
    statement per row, no SQLAlchemy processing of each value. A broken constraint raises
    IntegrityError, as an INSERT would.
    """
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        for i in range(0, len(rows), CHUNK):
            await session.execute(insert(table), list(rows[i : i + CHUNK]))
        return
    await session.flush()
    columns = list(rows[0])
    driver = (await (await session.connection()).get_raw_connection()).driver_connection
    assert driver is not None  # a checked-out connection holds its driver's
    try:
        for i in range(0, len(rows), CHUNK):
            await driver.copy_records_to_table(
                table.name,
                columns=columns,
                records=[tuple(row[c] for c in columns) for row in rows[i : i + CHUNK]],
            )
    except Exception as error:  # asyncpg's own, which SQLAlchemy did not see to wrap
        if getattr(error, "constraint_name", None) is None:
            raise
        raise IntegrityError(f"COPY {table.name}", None, error) from error


def chunks(values: Sequence[T], size: int = IN_LIST) -> Iterator[list[T]]:
    """Splits values so an IN list stays under SQLite's parameter limit."""
    for i in range(0, len(values), size):
        yield list(values[i : i + size])
