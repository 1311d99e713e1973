"""Writing many rows at once: COPY on PostgreSQL, executemany on SQLite."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Date, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from bookbot.store.tables import UTCDateTime

CHUNK = 20_000  # rows per statement, to bound memory
IN_LIST = 900  # values in one IN list, under SQLite's limit on parameters
REMEMBERED = 100_000  # instants whose text is kept (~15 MB)
T = TypeVar("T")


async def add_rows(session: AsyncSession, table: Table, rows: Sequence[dict]) -> None:
    """Inserts rows that all name the same columns, in this transaction; instants are aware."""
    if rows:
        columns = list(rows[0])
        values = itemgetter(*columns)  # a tuple of them, or the one value
        records = list(map(values, rows)) if len(columns) > 1 else [(values(r),) for r in rows]
        await add_records(session, table, columns, records)


async def add_records(
    session: AsyncSession, table: Table, columns: Sequence[str], records: Sequence[Sequence]
) -> None:
    """Inserts records, each the values of `columns` in order; instants are aware.

    On PostgreSQL, COPY: it checks every constraint as INSERT does, at a fraction of the
    cost per row (no statement per row, no SQLAlchemy processing of each value). On
    SQLite, one INSERT run for many records, each value bound as its column's type would
    bind it, an instant as the text SQLAlchemy writes: `YYYY-MM-DD HH:MM:SS.ffffff` in UTC.
    The values are bound column by column, each distinct value once: an import's
    1.5 M bookings start at a few thousand instants. A broken constraint raises
    IntegrityError, as an INSERT would.
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
        columns = [*columns, *(name for name, _ in defaults)]
        binds = [
            (i, binding)
            for i, name in enumerate(columns)
            if (binding := _binding(table.c[name].type, dialect)) is not None
        ]
        quote = dialect.identifier_preparer.quote
        statement = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})"
        )
        connection = await session.connection()
        for i in range(0, len(records), CHUNK):
            part = records[i : i + CHUNK]
            values: list[Sequence] = list(zip(*part, strict=True))  # column by column
            values += [(value,) * len(part) for _, value in defaults]
            for at, (bind, distinct) in binds:
                values[at] = _bound(values[at], bind, distinct)
            await connection.exec_driver_sql(statement, list(zip(*values, strict=True)))
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


def _bound(column: Sequence, bind: Callable[[Any], Any], distinct: bool) -> list:
    """A column's values as bound; where they are `distinct`ly told apart (instants,
    dates), each distinct value bound once."""
    if not distinct:
        return list(map(bind, column))
    bound = {value: bind(value) for value in dict.fromkeys(column)}
    return list(map(bound.__getitem__, column))


def _binding(kind: TypeEngine, dialect: Dialect) -> tuple[Callable[[Any], Any], bool] | None:
    """How a column's value is bound (its type's own processing, quicker for an instant),
    and whether equal values bind alike."""
    if isinstance(kind, UTCDateTime):
        return _instant_text, True  # equal instants are one UTC text
    bind = kind.dialect_impl(dialect).bind_processor(dialect)
    return None if bind is None else (bind, isinstance(kind, Date))


def _sqlite_instant(value: datetime | None) -> str | None:
    """An aware instant as SQLAlchemy stores a UTCDateTime on SQLite."""
    if value is None:
        return None
    if value.tzinfo is UTC:  # the usual case, in one call: the text less its "+00:00"
        return value.isoformat(" ", "microseconds")[:-6]
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored: give an aware instant")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


# The instants of a bulk write recur from chunk to chunk (visits start on a grid), and
# making their texts anew took 8 s of a size-a import. Equal instants are one UTC text.
_instant_text = lru_cache(maxsize=REMEMBERED)(_sqlite_instant)


def chunks(values: Sequence[T], size: int = IN_LIST) -> Iterator[list[T]]:
    """Splits values so an IN list stays under SQLite's parameter limit."""
    for i in range(0, len(values), size):
        yield list(values[i : i + size])
