"""Database engines: SQLite pragmas and immediate write transactions, schema on first use."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from bookbot.errors import BadInput, BookbotError
from bookbot.store.version import DEFAULT_URL, HEAD

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
WRITE = "bookbot_write"  # execution option: does this transaction intend to write?
MIGRATION_LOCK = 7_146_318  # any constant: serializes concurrent upgrades on PostgreSQL
# SQLite writes one transaction at a time anyway, and every aiosqlite connection is a thread:
# a few fixed ones serve a busy bot better than overflow connections opened and closed
# under load (bench/taps.py: 4.5 ms of CPU a tap instead of 6).
SQLITE_CONNECTIONS = 3
POSTGRES_CONNECTIONS = 10  # per process, also without overflow: opening one costs more


class Database:
    """One database by URL: its async engine, its sessions and its schema."""

    indexed = True  # its day index answers questions about many specialists (services/)

    def __init__(self, url: str = DEFAULT_URL, *, pool: bool = True) -> None:
        self.url = url
        try:
            self.engine: AsyncEngine = _engine(url, pool)
        except Exception as error:  # SQLAlchemy names many kinds of bad URL differently
            raise BadInput("error.bad_database_url", url=url, detail=str(error)) from None
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.ready = False
        self.cache: dict = {}  # the catalog's snapshot, shared by this process's units of work

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    @property
    def served(self) -> bool:
        """Whether a server process does the writing (PostgreSQL), not this one (SQLite)."""
        return self.dialect == "postgresql"

    async def prepare(self) -> None:
        """Creates or upgrades the schema to the newest migration, once per process.

        The check is a plain read, so a reader does not wait for another process's write
        lock on SQLite; only a database behind the newest migration is upgraded, under the
        write lock (and, on PostgreSQL, an advisory lock; `_upgrade` checks again there).
        """
        if self.ready:
            return
        try:
            async with self.engine.connect() as connection:
                await connection.execution_options(**{WRITE: False})
                current = await connection.run_sync(_up_to_date)
            if not current:
                async with self.engine.begin() as connection:
                    await connection.run_sync(_upgrade)
        except (OSError, DBAPIError) as error:
            raise BookbotError("error.database", detail=_first_line(error)) from None
        self.ready = True

    async def close(self) -> None:
        """Closes every pooled connection."""
        await self.engine.dispose()


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def _engine(url: str, pool: bool) -> AsyncEngine:
    if url.startswith("sqlite"):
        from bookbot.store.sqlite_driver import driver  # not imported for PostgreSQL

        sizing = {"pool_size": SQLITE_CONNECTIONS, "max_overflow": 0} if pool else {}
        engine = create_async_engine(
            url,
            module=driver(),
            # a write transaction's statements run off aiosqlite's thread (sqlite_driver.py)
            connect_args={"check_same_thread": False},
            poolclass=None if pool else NullPool,
            **sizing,
        )
        _tune_sqlite(engine)
        return engine
    sizing = {"pool_size": POSTGRES_CONNECTIONS, "max_overflow": 0} if pool else {}
    asyncpg = make_url(url).get_driver_name() == "asyncpg"
    engine = create_async_engine(
        url, pool_pre_ping=not asyncpg, poolclass=None if pool else NullPool, **sizing
    )
    if asyncpg:
        _replace_closed(engine)
    return engine


def _replace_closed(engine: AsyncEngine) -> None:
    """Replaces a pooled connection the server closed (say, it restarted) before it is used.

    What SQLAlchemy's pre-ping is for, without asking the server: the ping is three round
    trips (BEGIN, an empty query, ROLLBACK) on every checkout, a quarter of a booking's
    (bench/scale.py `--only booking`). asyncpg sees the server close the socket by itself.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def on_checkout(dbapi_connection, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError  # the pool connects afresh and checks that one


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, and write transactions that take the write lock at BEGIN."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        # IMMEDIATE: a transaction that checks a slot and then writes it cannot be
        # overtaken between the check and the write by another process. Readers say so
        # and take no lock until they read.
        writes = connection.get_execution_options().get(WRITE, True)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def _config() -> Config:
    """Alembic's configuration: where the migrations are."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _up_to_date(connection: Connection) -> bool:
    """Tells whether the schema is at HEAD, the newest migration; only reads."""
    if not connection.dialect.has_table(connection, "alembic_version"):
        return False
    found = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    return [row[0] for row in found] == [HEAD]


def _upgrade(connection: Connection) -> None:
    """Runs Alembic's upgrade to head on this connection, inside its transaction."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    if _up_to_date(connection):  # another process upgraded while this one waited
        return
    from alembic import command

    config = _config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
