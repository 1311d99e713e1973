"""Shared fixtures: real databases (a SQLite file, and PostgreSQL when it is there)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bookbot.store.db import Database

POSTGRES = os.environ.get("BOOKBOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
# CI sets this: there PostgreSQL must be reachable, and its tests fail rather than skip.
# CI (where `CI` is set, as every CI service sets it) never skips the PostgreSQL half.
POSTGRES_REQUIRED = os.environ.get("BOOKBOT_REQUIRE_POSTGRES") == "1" or bool(os.environ.get("CI"))


# Migrating a new database costs a second or two; tests that only need the newest schema
# copy one database (or file) migrated once per run instead.
_TEMPLATES: dict[str, str] = {}


def _url(name: str) -> str:
    return POSTGRES.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + "/" + name


def dsn(url: str) -> str:
    """A PostgreSQL database's SQLAlchemy URL as asyncpg itself takes it."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _postgres_template(admin: asyncpg.Connection) -> str:
    """The name of a PostgreSQL database at the newest migration, made once per test run."""
    if "postgresql" not in _TEMPLATES:
        name = f"bookbot_template_{uuid.uuid4().hex[:12]}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        database = Database(_url(name))
        await database.prepare()
        await database.close()
        _TEMPLATES["postgresql"] = name
    return _TEMPLATES["postgresql"]


async def _sqlite_template() -> Path:
    """A SQLite file at the newest migration, made once per test run."""
    if "sqlite" not in _TEMPLATES:
        folder = (
            Path(os.environ.get("TMPDIR", "/tmp")) / f"bookbot-template-{uuid.uuid4().hex[:12]}"
        )
        folder.mkdir()
        database = Database(f"sqlite+aiosqlite:///{folder / 'bookbot.db'}")
        await database.prepare()
        await database.close()
        _TEMPLATES["sqlite"] = str(folder / "bookbot.db")
    return Path(_TEMPLATES["sqlite"])


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drops the run's template databases."""
    if "sqlite" in _TEMPLATES:
        shutil.rmtree(Path(_TEMPLATES["sqlite"]).parent, ignore_errors=True)
    if "postgresql" in _TEMPLATES:
        asyncio.run(drop_postgres_database(_url(_TEMPLATES["postgresql"])))


async def new_postgres_database(migrated: bool = False) -> str:
    """Creates a PostgreSQL database for one test and returns its SQLAlchemy URL.

    Empty, or with `migrated` a copy of a database already at the newest migration.
    """
    name = f"bookbot_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(POSTGRES, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        if POSTGRES_REQUIRED:
            pytest.fail(f"PostgreSQL at {POSTGRES} is required here but unreachable: {error}")
        pytest.skip(f"no PostgreSQL at {POSTGRES} (set BOOKBOT_TEST_POSTGRES)")
    try:
        template = f' TEMPLATE "{await _postgres_template(admin)}"' if migrated else ""
        await admin.execute(f'CREATE DATABASE "{name}"{template}')
    finally:
        await admin.close()
    return _url(name)


async def drop_postgres_database(url: str) -> None:
    """Drops a database made by new_postgres_database."""
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(POSTGRES, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


KINDS = ["sqlite", "postgresql"]


@pytest.fixture(params=KINDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database URL of each kind, at the newest migration."""
    url = await new_database(request.param, tmp_path)
    yield url
    await drop_database(url)


async def new_database(kind: str, folder: Path) -> str:
    """A fresh database of `kind` at the newest migration (a SQLite file in `folder`)."""
    if kind == "sqlite":
        shutil.copyfile(await _sqlite_template(), folder / "bookbot.db")
        return f"sqlite+aiosqlite:///{folder / 'bookbot.db'}"
    return await new_postgres_database(migrated=True)


async def drop_database(url: str) -> None:
    """Drops a database made by new_database (a SQLite file goes with its folder)."""
    if url.startswith("postgresql"):
        await drop_postgres_database(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file URL."""
    return f"sqlite+aiosqlite:///{tmp_path / 'bookbot.db'}"


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A Database of each kind, closed after the test."""
    database = Database(db_url)
    yield database
    await database.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A Database of each kind with no schema yet, for tests of the migrations themselves."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bookbot.db'}")
        yield database
        await database.close()
        return
    url = await new_postgres_database()
    database = Database(url)
    yield database
    await database.close()
    await drop_postgres_database(url)
