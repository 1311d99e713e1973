"""Holiday dates kept in the database, so a query never needs the holidays package.

The engine computes a calendar's dates through the package (engine/calendars.py), which
costs a process ~0.2 s; the dates it would compute are stored here for every calendar in
use (the business's, its places', its specialists') and the years questions reach, and
handed to the engine whenever the catalog is read. Whatever can bring a calendar or a
year into use stores them in its own unit of work: an import (the demo's too), a
/holidays change, a new place, and `bookbot reindex`, which runs daily and rolls the
years on. A calendar or year not stored is computed as before, so answers never differ.

Plain SQL that SQLite (3.24 on) and PostgreSQL both run, and no SQLAlchemy imported: a
reader with a DB-API cursor does what `load` does, `hand_in(cursor.execute(SELECT_ALL))`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bookbot.engine.calendars import computed, known

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

SELECT_ALL = "SELECT calendar, year, days FROM holiday_dates"
# The calendars in use: the business's (with its horizon), its places', its specialists'.
BUSINESS = "SELECT holidays, horizon_days FROM businesses"
HELD = ("SELECT DISTINCT holidays FROM locations", "SELECT DISTINCT holidays FROM specialists")
DELETE = "DELETE FROM holiday_dates WHERE calendar = :calendar AND year = :year"
UPSERT = (
    "INSERT INTO holiday_dates (calendar, year, days) VALUES (:calendar, :year, :days) "
    "ON CONFLICT (calendar, year) DO UPDATE SET days = excluded.days"
)


def entries(rows: Iterable[Sequence]) -> list[tuple[str, int, frozenset[date]]]:
    """Rows of SELECT_ALL as the engine takes them: calendar, year, dates."""
    return [
        (calendar, int(year), frozenset(date.fromisoformat(d) for d in days.split(",") if d))
        for calendar, year, days in rows
    ]


def hand_in(rows: Iterable[Sequence]) -> None:
    """Gives the engine the stored dates in these rows of SELECT_ALL."""
    for calendar, year, days in entries(rows):
        known(calendar, year, days)


def days_text(days: Iterable[date]) -> str:
    """Dates as the `days` column holds them: ISO, in order, joined by `,`."""
    return ",".join(sorted(d.isoformat() for d in days))


async def load(session: AsyncSession) -> None:
    """Gives the engine every stored date: one read of a few rows."""
    hand_in(await (await session.connection()).exec_driver_sql(SELECT_ALL))


async def remember(session: AsyncSession, now: datetime | None = None) -> None:
    """Stores the package's dates of every calendar in use, in this transaction.

    For the years of today − 1 to the horizon + 1 when `now` is given, else for the years
    already stored; rows of other calendars and years go. Only rows that differ are
    written, in key order, each an upsert: writers that overlap write the same.
    """
    from sqlalchemy import text

    from bookbot.store.catalog_rows import calendar_codes

    in_use: set[str] = set()
    horizon: int | None = None
    for codes, days in await session.execute(text(BUSINESS)):
        in_use.update(calendar_codes(codes) or ())
        horizon = days
    if horizon is None:
        return
    for statement in HELD:
        for (codes,) in await session.execute(text(statement)):
            in_use.update(calendar_codes(codes) or ())
    stored = {(c, int(y)): days for c, y, days in await session.execute(text(SELECT_ALL))}
    if now is None:
        years: Iterable[int] = sorted({year for _, year in stored})
    else:
        today = now.date()
        years = range(today.year - 1, (today + timedelta(days=horizon)).year + 2)
    wanted = {
        (calendar, year): days_text(computed(calendar, year))
        for calendar in sorted(in_use)
        for year in years
    }
    gone = [{"calendar": c, "year": y} for c, y in sorted(set(stored) - set(wanted))]
    changed = [
        {"calendar": c, "year": y, "days": days}
        for (c, y), days in wanted.items()
        if stored.get((c, y)) != days
    ]
    for statement, rows in ((DELETE, gone), (UPSERT, changed)):
        if rows:
            await session.execute(text(statement), rows)
