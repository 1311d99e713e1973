"""Alembic's entry: runs migrations on the connection `bookbot` hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from bookbot.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    # `alembic` on the command line (to write a new revision): a plain synchronous engine.
    url = context.config.get_main_option("sqlalchemy.url") or "sqlite:///bookbot.db"
    connection = create_engine(url.replace("+aiosqlite", "").replace("+asyncpg", "")).connect()

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
