"""Writing many rows at once: COPY on PostgreSQL, executemany on SQLite."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from bookbot.store.tables import UTCDateTime

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
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        await _executemany(session, table, rows, dialect)
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


async def _executemany(
    session: AsyncSession, table: Table, rows: Sequence[dict], dialect: Dialect
) -> None:
    """One INSERT run for many rows, each value made as its column's type would bind it.

    What SQLAlchemy's executemany does, less its work per row: an instant is written as
    the text SQLAlchemy writes on SQLite, `YYYY-MM-DD HH:MM:SS.ffffff` in UTC.
    """
    await session.flush()
    columns = list(rows[0])
    binds = [_binding(table.c[name].type, dialect) for name in columns]
    quote = dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    connection = await session.connection()
    for i in range(0, len(rows), CHUNK):
        await connection.exec_driver_sql(
            statement,
            [
                tuple(
                    row[name] if bind is None else bind(row[name])
                    for name, bind in zip(columns, binds, strict=True)
                )
                for row in rows[i : i + CHUNK]
            ],
        )


def _binding(kind: TypeEngine, dialect: Dialect) -> Callable[[Any], Any] | None:
    """How a column's value is bound: its type's own processing, quicker for an instant."""
    if isinstance(kind, UTCDateTime):
        return _sqlite_instant
    return kind.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]


def _sqlite_instant(value: datetime | None) -> str | None:
    """An aware instant as SQLAlchemy stores a UTCDateTime on SQLite."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored: give an aware instant")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def chunks(values: Sequence[T], size: int = IN_LIST) -> Iterator[list[T]]:
    """Splits values so an IN list stays under SQLite's parameter limit."""
    for i in range(0, len(values), size):
        yield list(values[i : i + size])
