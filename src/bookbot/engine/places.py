"""Where a question is asked: at one location, or at those within a distance of a point."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cached_property
from math import asin, cos, radians, sin, sqrt

from msgspec import Struct

from bookbot.engine.intervals import absolute
from bookbot.engine.model import Hole, Location, Slot

EARTH_KM = 6371.0088  # the mean radius of the Earth
DEFAULT_WITHIN_KM = 25.0  # spec/cli.md: `--near` without `--within`


class Where(Struct, frozen=True, dict=True):
    """The locations a question counts, with each one's distance from the point asked.

    A value (hashable), so the chat can share a view computed for one.
    """

    places: frozenset[str]
    distances: tuple[tuple[str, float], ...] = ()  # (location, km), near a point only

    @cached_property
    def km(self) -> dict[str, float]:
        """Each location's distance from the point asked, by id."""
        return dict(self.distances)

    def distance(self, location: str | None) -> float:
        """How far a location is from the point asked; 0 when no point was asked."""
        return self.km.get(location, 0.0) if location is not None else 0.0

    def order(self, found: Slot | Hole) -> tuple[datetime, float, str]:
        """Sort key near a point: soonest, then nearest, then specialist id."""
        return (absolute(found.start), self.distance(found.location), found.specialist)


def distance_km(lat: float, lon: float, other_lat: float, other_lon: float) -> float:
    """The great-circle distance between two points in kilometres (haversine)."""
    dlat, dlon = radians(other_lat - lat), radians(other_lon - lon)
    a = sin(dlat / 2) ** 2 + cos(radians(lat)) * cos(radians(other_lat)) * sin(dlon / 2) ** 2
    return 2 * EARTH_KM * asin(min(1.0, sqrt(a)))


def at(location: Location) -> Where:
    """A question asked at one location."""
    return Where(frozenset({location.id}))


def near(locations: Iterable[Location], lat: float, lon: float, within: float) -> Where:
    """A question asked at the locations with coordinates within `within` km of a point."""
    found = {
        place.id: distance_km(lat, lon, place.lat, place.lon)
        for place in locations
        if place.lat is not None and place.lon is not None
    }
    close = sorted((place, km) for place, km in found.items() if km <= within)
    return Where(frozenset(place for place, _ in close), tuple(close))
