"""Shared fixtures: real databases (a SQLite file, and PostgreSQL when it is there)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bookbot.store.db import Database

POSTGRES = os.environ.get("BOOKBOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
# CI sets this: there PostgreSQL must be reachable, and its tests fail rather than skip.
POSTGRES_REQUIRED = os.environ.get("BOOKBOT_REQUIRE_POSTGRES") == "1"


async def new_postgres_database() -> str:
    """Creates an empty PostgreSQL database for one test and returns its SQLAlchemy URL."""
    name = f"bookbot_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(POSTGRES, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        if POSTGRES_REQUIRED:
            pytest.fail(f"PostgreSQL at {POSTGRES} is required here but unreachable: {error}")
        pytest.skip(f"no PostgreSQL at {POSTGRES} (set BOOKBOT_TEST_POSTGRES)")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return POSTGRES.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + "/" + name


async def drop_postgres_database(url: str) -> None:
    """Drops a database made by new_postgres_database."""
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(POSTGRES, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database URL of each kind."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bookbot.db'}"
        return
    url = await new_postgres_database()
    yield url
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
