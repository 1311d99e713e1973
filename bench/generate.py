"""Generates large clinics for the scale benchmark, and loads them or writes them as files.

Size a: 6,000 specialists ("lawyers"), each with their own week of 8 slots a day on 5 days,
in four time zones, a 90-day horizon, half the slots booked. Size b: 10,000 specialists,
1,000 of them hygienists who also offer a 90-minute cleaning. Size c: size b as a chain of
1,000 branches in 50 cities (20 branches within about 8 km of each centre), each with a
German state's holidays; one specialist in ten works one of their days at a neighbour. Run:
`python bench/generate.py --size a --db sqlite+aiosqlite:///a.db` (import through the store,
the index included), or `--file a.json` (or a.yaml) to write a clinic file for `bookbot import`.
Progress goes to stderr. Never run by the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from msgspec import Struct
from msgspec.structs import replace

from bookbot import clinic_file
from bookbot.clinic_file import Clinic
from bookbot.engine.model import (
    Booking,
    Business,
    Hours,
    Location,
    Override,
    OverrideType,
    Rules,
    Service,
    Specialist,
    WeeklyEntry,
)
from bookbot.engine.search import dates
from bookbot.engine.workday import Plan
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database

NOW = datetime(2026, 9, 30, 5, 0, tzinfo=UTC)  # before the working day in every zone below
ZONES = (None, "America/New_York", "Europe/London", "Asia/Jerusalem")  # None: the business's
SLOTS = (30, 45, 60)
BREAKS = (0, 5, 10, 15)
CONSULT = Service("consult", "Consultation")
HYGIENE = Service("hygiene", "Hygiene", timedelta(minutes=90))
CITIES, STATES = 50, ("DE-BY", "DE-BE", "DE-NW", "DE-SN", "DE-HE", "DE-BW")


class Size(Struct, frozen=True):
    """How big a generated clinic is."""

    specialists: int
    hygienists: int
    horizon_days: int = 90
    booked: float = 0.5
    branches: int = 0


SIZES = {"a": Size(6_000, 0), "b": Size(10_000, 1_000), "c": Size(10_000, 1_000, branches=1_000)}


def centre(city: int) -> tuple[float, float]:
    """The centre of one of the chain's cities, spread over Germany."""
    rng = random.Random(city)
    return round(rng.uniform(47.6, 54.4), 4), round(rng.uniform(6.2, 14.8), 4)


def branches(count: int) -> tuple[Location, ...]:
    """The chain's branches: CITIES cities, each with count / CITIES within ~8 km of its centre."""
    rng = random.Random(count)
    found = []
    for n in range(count):
        lat, lon = centre(n % CITIES)
        found.append(
            Location(
                id=f"b{n:04d}",
                name=f"Branch {n:04d}",
                address=f"Street {n}, City {n % CITIES}",
                lat=round(lat + rng.uniform(-0.07, 0.07), 4),
                lon=round(lon + rng.uniform(-0.1, 0.1), 4),
                holidays=(STATES[n % CITIES % len(STATES)],),
            )
        )
    return tuple(found)


def say(message: str) -> None:
    """A progress line on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def specialist(n: int, size: Size, rng: random.Random) -> Specialist:
    """One specialist with a week of their own: 8 slots a day on 5 days, one day off."""
    length = rng.choice(SLOTS)
    pause = rng.choice(BREAKS)
    start = rng.randrange(7 * 60, 11 * 60, 15)
    end = start + 8 * length + 7 * pause
    hours = Hours(
        slot=timedelta(minutes=length),
        start=clock(start // 60, start % 60),
        end=clock(end // 60, end % 60),
        break_after=timedelta(minutes=pause),
    )
    days = rng.sample(range(7), 5)
    weekly: tuple[WeeklyEntry, ...] = (WeeklyEntry(frozenset(days), hours),)
    home = None
    if size.branches:
        home = f"b{n % size.branches:04d}"
        if n % 10 == 5:  # one day a week at the next branch, in the same city
            away = replace(hours, location=f"b{(n + CITIES) % size.branches:04d}")
            weekly = (
                WeeklyEntry(frozenset(days[:4]), hours),
                WeeklyEntry(frozenset(days[4:]), away),
            )
    off = NOW.date() + timedelta(days=rng.randrange(1, size.horizon_days))
    hygienist = n < size.hygienists
    return Specialist(
        id=f"{'h' if hygienist else 's'}{n:05d}",
        name=f"{'Hygienist' if hygienist else 'Specialist'} {n:05d}",
        services=(CONSULT.id, HYGIENE.id) if hygienist else (CONSULT.id,),
        weekly=weekly,
        overrides=(Override(OverrideType.DAY_OFF, off, off),),
        timezone=None if size.branches else ZONES[n % len(ZONES)],
        holidays=None if n % 3 else (),
        location=home,
    )


def clinic(size: Size, seed: int = 6) -> Clinic:
    """The whole clinic: business, services, specialists, and half their slots booked."""
    rng = random.Random(seed)
    business = Business(
        "Europe/Berlin",
        Rules(timedelta(minutes=30), size.horizon_days),
        ("DE-BY",),
        locations=branches(size.branches),
    )
    specialists = []
    bookings: list[Booking] = []
    for n in range(size.specialists):
        one = specialist(n, size, rng)
        specialists.append(one)
        plan = Plan(one.schedule(business))
        today = plan.today(NOW)
        for day in dates(today, today + timedelta(days=size.horizon_days)):
            candidates = plan.work_day(day).candidates
            for candidate in rng.sample(candidates, int(len(candidates) * size.booked)):
                if candidate.start > NOW:
                    bookings.append(
                        Booking(
                            one.id,
                            CONSULT.id,
                            plan.local(candidate.start),
                            plan.local(candidate.start + candidate.slot),
                        )
                    )
        if (n + 1) % 2_000 == 0:
            say(f"generated {n + 1:,} specialists, {len(bookings):,} bookings")
    services = (CONSULT, HYGIENE) if size.hygienists else (CONSULT,)
    return Clinic(business, services, tuple(specialists), tuple(bookings))


async def load(url: str, found: Clinic) -> float:
    """Imports a clinic through the store (the day index included); returns the seconds."""
    db = Database(url)
    try:
        started = time.perf_counter()
        await import_clinic(db, found, NOW)
        return time.perf_counter() - started
    finally:
        await db.close()


def write(path: Path, found: Clinic) -> None:
    """Writes a clinic file for `bookbot import`: JSON if its name ends .json, else YAML.

    JSON is the format for the big sizes (YAML takes minutes to write and to read).
    """
    if path.suffix == ".json":
        with path.open("w", encoding="utf-8") as out:
            json.dump(clinic_file.document(found), out, ensure_ascii=False)
        return
    path.write_text(clinic_file.dump(found), encoding="utf-8")


def main() -> None:
    """Generates one size, then imports it into --db or writes it to --file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="a")
    parser.add_argument("--db", help="database URL to import into")
    parser.add_argument("--file", type=Path, help="clinic file to write instead")
    args = parser.parse_args()
    found = clinic(SIZES[args.size])
    say(
        f"size {args.size}: {len(found.specialists):,} specialists, "
        f"{len(found.bookings):,} bookings"
    )
    if args.file:
        write(args.file, found)
        say(f"wrote {args.file}")
    if args.db:
        say(f"imported into {args.db} in {asyncio.run(load(args.db, found)):.1f} s")


if __name__ == "__main__":
    main()
