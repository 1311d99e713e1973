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
    """Inserts rows that all name the same columns, in this transaction; instants are aware."""
    if rows:
        columns = list(rows[0])
        await add_records(session, table, columns, [[row[c] for c in columns] for row in rows])


async def add_records(
    session: AsyncSession, table: Table, columns: Sequence[str], records: Sequence[Sequence]
) -> None:
    """Inserts records, each the values of `columns` in order; instants are aware.

    On PostgreSQL, COPY: it checks every constraint as INSERT does, at a fraction of the
    cost per row (no statement per row, no SQLAlchemy processing of each value). On
    SQLite, one INSERT run for many records, each value bound as its column's type would
    bind it, an instant as the text SQLAlchemy writes: `YYYY-MM-DD HH:MM:SS.ffffff` in UTC.
    A broken constraint raises IntegrityError, as an INSERT would.
    """
    if not records:
        return
    await session.flush()
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        # What SQLAlchemy's INSERT adds: the scalar default of each column not given.
        given = set(columns)
        defaults = [
            (column.name, column.default.arg)  # type: ignore[attr-defined]
            for column in table.c
            if column.name not in given and column.default is not None and column.default.is_scalar
        ]
        if defaults:
            columns = [*columns, *(name for name, _ in defaults)]
            extra = tuple(value for _, value in defaults)
            records = [(*record, *extra) for record in records]
        texts: dict[datetime, str | None] = {}  # instants repeat: many visits start at 09:00
        binds = [
            (i, bind)
            for i, name in enumerate(columns)
            if (bind := _binding(table.c[name].type, dialect, texts)) is not None
        ]
        quote = dialect.identifier_preparer.quote
        statement = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})"
        )
        connection = await session.connection()
        for i in range(0, len(records), CHUNK):
            bound = [list(record) for record in records[i : i + CHUNK]]
            for record in bound:
                for at, bind in binds:
                    record[at] = bind(record[at])
            await connection.exec_driver_sql(statement, [tuple(record) for record in bound])
        return
    driver = (await (await session.connection()).get_raw_connection()).driver_connection
    assert driver is not None  # a checked-out connection holds its driver's
    try:
        for i in range(0, len(records), CHUNK):
            await driver.copy_records_to_table(
                table.name,
                columns=list(columns),
                records=[tuple(record) for record in records[i : i + CHUNK]],
            )
    except Exception as error:  # asyncpg's own, which SQLAlchemy did not see to wrap
        if getattr(error, "constraint_name", None) is None:
            raise
        raise IntegrityError(f"COPY {table.name}", None, error) from error


def _binding(
    kind: TypeEngine, dialect: Dialect, texts: dict[datetime, str | None]
) -> Callable[[Any], Any] | None:
    """How a column's value is bound: its type's own processing, quicker for an instant.

    An instant's text is kept in `texts`, shared by the columns of one insert, and read
    from there when the instant comes again.
    """
    if isinstance(kind, UTCDateTime):

        def instant(value: datetime | None) -> str | None:
            if value is None:
                return None
            found = texts.get(value)
            if found is None:
                found = texts[value] = _sqlite_instant(value)
            return found

        return instant
    return kind.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]


def _sqlite_instant(value: datetime | None) -> str | None:
    """An aware instant as SQLAlchemy stores a UTCDateTime on SQLite."""
    if value is None:
        return None
    if value.tzinfo is UTC:  # the usual case, in one call: the text less its "+00:00"
        return value.isoformat(" ", "microseconds")[:-6]
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored: give an aware instant")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def chunks(values: Sequence[T], size: int = IN_LIST) -> Iterator[list[T]]:
    """Splits values so an IN list stays under SQLite's parameter limit."""
    for i in range(0, len(values), size):
        yield list(values[i : i + size])
