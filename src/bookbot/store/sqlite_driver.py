"""SQLite through aiosqlite, one trip to its thread per statement instead of four.

aiosqlite runs each call of a connection on a thread of its own, and SQLAlchemy's adapter
makes four such calls for a statement that returns rows (open a cursor, execute, fetch,
close) and three for one that does not. Each is a hand-over to that thread and back to the
event loop, which costs more than most of our statements themselves: a booking made 22
(bench/scale.py `--only booking`). The cursor here does the four in one call on the thread
and keeps what SQLAlchemy asks afterwards (the rows, `description`, `rowcount`,
`lastrowid`). It is the module `_engine` (db.py) hands SQLAlchemy as the driver; streamed
results (server-side cursors) keep aiosqlite's own cursor.

Once a write transaction has SQLite's write lock (BEGIN IMMEDIATE, db.py), its statements,
commit and rollback make no trip at all: they run on the event loop's thread. The thread
is there so that the loop does not stand still while SQLite waits for a lock, and a
transaction holding the write lock waits for none (in WAL mode readers never hold up the
writer), so it would only cost the hand-overs: a booking's unit then goes to the thread
once, to begin. Readers' statements, which may be long, still run on the thread.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

# description, rows, rowcount, lastrowid, and whether a transaction is open afterwards
Outcome = tuple[Any, list[Any], int, int | None, bool]
WRITE_LOCK = "BEGIN IMMEDIATE"  # how db.py begins a write transaction


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    """One statement on aiosqlite's thread: its cursor opened, run, read out and closed."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        described = cursor.description
        rows = cursor.fetchall() if described else []
        return described, rows, cursor.rowcount, cursor.lastrowid, connection.in_transaction
    finally:
        cursor.close()


async def _at_once(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> Outcome:
    """`_run` on the event loop's thread, as a coroutine that never waits."""
    return _run(connection, operation, parameters, many)


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose every statement is one call on aiosqlite's thread."""

    __slots__ = ("_described", "_count", "_last")
    _awaitable_cursor_close = False  # nothing is left open on the thread to close

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # Opening aiosqlite's cursor (a trip) is left out: `_run` opens its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = deque()
        self._described: Any = None
        self._count = -1
        self._last: int | None = None

    @property
    def description(self) -> Any:
        return self._described

    @property
    def rowcount(self) -> int:
        return self._count

    @property
    def lastrowid(self) -> int:
        return self._last  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        """Ignored: the rows are all read at once."""

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._trip(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        self._trip(operation, seq_of_parameters, many=True)

    def close(self) -> None:
        self._rows.clear()

    def _trip(self, operation: str, parameters: Any, *, many: bool) -> None:
        connection = self._adapt_connection
        assert isinstance(connection, OneTripConnection)
        here = connection.writing
        connection.open = True  # until SQLite tells otherwise
        try:
            if here:  # awaited all the same: SQLAlchemy checks that a statement awaited
                outcome = await_(_at_once(connection.sqlite, operation, parameters, many))
            else:
                outcome = await_(self._on_thread(operation, parameters, many))
        except Exception as error:
            connection._handle_exception(error)
        self._described, rows, self._count, self._last, connection.open = outcome
        self._rows = deque(rows)
        if operation.startswith(WRITE_LOCK):
            connection.writing = True

    async def _on_thread(self, operation: str, parameters: Any, many: bool) -> Outcome:
        connection = self._connection
        async with self._adapt_connection._execute_mutex:
            outcome: Outcome = await connection._execute(  # type: ignore[attr-defined]
                _run,
                connection._conn,  # type: ignore[attr-defined]
                operation,
                parameters,
                many,
            )
            return outcome


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """aiosqlite's connection as SQLAlchemy adapts it, with `OneTripCursor` for statements.

    It knows whether SQLite has a transaction open (`open`, as the last statement left
    it), so that the rollback the pool makes of every connection handed back, after a
    unit of work committed, is no trip: SQLite's own would do nothing then either. And
    whether its transaction holds the write lock (`writing`): then it is not handed over.
    """

    __slots__ = ("open", "writing")
    _cursor_cls = OneTripCursor  # type: ignore[assignment]  # a subclass: mypy asks invariance

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.open = True  # not known yet
        self.writing = False

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection aiosqlite's thread holds."""
        found: sqlite3.Connection = self._connection._conn  # type: ignore[attr-defined]
        return found

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:  # aiosqlite's own cursor, which does not say
            self.open = True
        return super().cursor(server_side)

    def rollback(self) -> None:
        if self.writing:
            self._here(self.sqlite.rollback)
        elif self.open:
            super().rollback()
        self.open = False

    def commit(self) -> None:
        if self.writing:
            self._here(self.sqlite.commit)
        else:
            super().commit()
        self.open = False

    def _here(self, end: Callable[[], None]) -> None:
        """Ends the write transaction on this thread; the next one begins on aiosqlite's."""
        self.writing = False
        try:
            end()
        except Exception as error:
            self._handle_exception(error)


class OneTripDriver(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite driver module SQLAlchemy uses, making `OneTripConnection`s."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        return OneTripConnection(self, super().connect(*arg, **kw)._connection)


def driver() -> OneTripDriver:
    """The module to hand `create_async_engine` (`module=`) for an aiosqlite URL."""
    import aiosqlite

    return OneTripDriver(aiosqlite, sqlite3)
