"""How the schema the migrations built differs from the model, as Alembic compares them."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from bookbot.store.tables import Base


def drift(connection: Connection) -> list[Any]:
    """What differs; PostgreSQL's double-booking guard (migration 0020) is not modelled."""
    context = MigrationContext.configure(connection, opts={"include_name": _modelled})
    return list(compare_metadata(context, Base.metadata))


def _modelled(name: str | None, kind: str, parents: object) -> bool:
    return not (name or "").startswith("bookings_no_overlap")
