"""Holiday dates kept in the database, so a query never needs the holidays package.

The engine computes a calendar's dates through the package (engine/calendars.py), which
costs a process ~0.2 s; the dates it would compute are stored here for every calendar in
use (the business's, its places', its specialists') and the years questions reach, and
handed to the engine whenever the catalog is read. Whatever can bring a calendar or a
year into use stores them in its own unit of work: an import (the demo's too), a
/holidays change, a new place, and `bookbot reindex`, which runs daily and rolls the
years on. A calendar or year not stored is computed as before, so answers never differ.

The read is one plain statement, SELECT_ALL, and `hand_in` takes its rows as tuples: a
reader with a DB-API cursor and no SQLAlchemy does the same as `load`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Executable, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bookbot.engine.calendars import computed, known
from bookbot.store.catalog_rows import calendar_codes
from bookbot.store.tables import BusinessRow, HolidayDatesRow, LocationRow, SpecialistRow

SELECT_ALL = "SELECT calendar, year, days FROM holiday_dates"
READ = text(SELECT_ALL)


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


async def load(session: AsyncSession) -> None:
    """Gives the engine every stored date: one read of a few rows."""
    hand_in(await session.execute(READ))


def days_text(days: Iterable[date]) -> str:
    """Dates as the `days` column holds them: ISO, in order, joined by `,`."""
    return ",".join(sorted(d.isoformat() for d in days))


async def remember(session: AsyncSession, now: datetime | None = None) -> None:
    """Stores the package's dates of every calendar in use, in this transaction.

    For the years of today − 1 to the horizon + 1 when `now` is given, else for the years
    already stored; rows of other calendars and years go. Only rows that differ are
    written, each an upsert in key order, so writers that overlap agree.
    """
    in_use: set[str] = set()
    horizon: int | None = None
    for codes, days in await session.execute(
        select(BusinessRow.holidays, BusinessRow.horizon_days)
    ):
        in_use.update(calendar_codes(codes) or ())
        horizon = days
    if horizon is None:
        return
    for table in (LocationRow, SpecialistRow):
        for (held,) in await session.execute(select(table.holidays).distinct()):
            in_use.update(calendar_codes(held) or ())
    stored = {(calendar, int(year)): days for calendar, year, days in await session.execute(READ)}
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
    for calendar, year in sorted(set(stored) - set(wanted)):
        await session.execute(
            delete(HolidayDatesRow).where(
                HolidayDatesRow.calendar == calendar, HolidayDatesRow.year == year
            )
        )
    changed = [
        {"calendar": calendar, "year": year, "days": days}
        for (calendar, year), days in wanted.items()
        if stored.get((calendar, year)) != days
    ]
    if changed:
        await session.execute(_upsert(session.get_bind().dialect.name), changed)


def _upsert(dialect: str) -> Executable:
    """INSERT … ON CONFLICT (calendar, year) DO UPDATE SET days, in this dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    statement = (postgresql if dialect == "postgresql" else sqlite).insert(HolidayDatesRow)
    return statement.on_conflict_do_update(
        index_elements=["calendar", "year"], set_={"days": statement.excluded.days}
    )
