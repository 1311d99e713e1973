"""What the `bookbot` command prints: JSON in spec/cli.md's shapes, or a readable table."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from msgspec import Struct

from bookbot import i18n
from bookbot.engine.model import Booking, DayResult, Hole, Slot

if TYPE_CHECKING:
    from bookbot.services import stats


class Nothing:
    """An answer of `null` in JSON and a sentence in a table."""


class Placed(Struct, frozen=True):
    """An answer asked near a point, with each location's distance from it in km."""

    answer: Any
    km: Mapping[str, float]


def _where(found: Slot | Hole, km: Mapping[str, float]) -> dict:
    """A slot's or hole's place, and its distance when asked near a point."""
    if found.location is None:
        return {}
    if found.location in km:
        return {"location": found.location, "km": round(km[found.location], 2)}
    return {"location": found.location}


def _is(value: Any, module: str, name: str) -> bool:
    """Whether a value is of a class of `bookbot.services.<module>`, without importing it.

    A command imports the use cases it calls; a module not imported made no value.
    """
    found = sys.modules.get(f"bookbot.services.{module}")
    return found is not None and isinstance(value, getattr(found, name))


def as_json(value: Any, km: Mapping[str, float] | None = None) -> Any:
    """The JSON shape of an answer, as spec/cli.md gives it."""
    km = km or {}
    if isinstance(value, Placed):
        return as_json(value.answer, value.km)
    if isinstance(value, Nothing):
        return None
    if isinstance(value, list):
        return [as_json(item, km) for item in value]
    if isinstance(value, Slot | Hole):
        return {
            "specialist": value.specialist,
            "start": value.start.isoformat(),
            "end": value.end.isoformat(),
            **_where(value, km),
        }
    if isinstance(value, DayResult):
        return {
            "specialist": value.specialist,
            "date": value.day.isoformat() if value.day else None,
            "slots": [
                {"start": s.start.isoformat(), "end": s.end.isoformat(), **_where(s, km)}
                for s in value.slots
            ],
        }
    if _is(value, "directory", "Listing"):
        found = as_json(value.result, km)
        return {
            "specialist": found["specialist"],
            "name": value.name,
            "date": found["date"],
            "slots": found["slots"],
        }
    if _is(value, "stats", "Figures"):
        return {
            "from": value.first.isoformat(),
            "to": value.last.isoformat(),
            "booked": value.booked,
            "cancelled": {
                "before_cutoff": value.cancelled_before,
                "after_cutoff": value.cancelled_after,
                "by_staff": value.cancelled_by_staff,
            },
            "no_shows": value.no_shows,
            "refilled": value.refilled,
            "payments": [
                {
                    "currency": one.currency,
                    "count": one.count,
                    "paid": one.paid,
                    "refunded": one.refunded,
                }
                for one in value.takings
            ],
            "specialists": [
                {
                    "specialist": s.specialist,
                    "booked_minutes": s.booked,
                    "open_minutes": s.open,
                    "share": None if s.share is None else str(s.share),
                }
                for s in value.shares
            ],
        }
    if _is(value, "waitlist", "Waiting"):
        from bookbot.engine.waitlist import PARTS  # imported already: the use case made `value`

        entry = value.entry
        return {
            "id": entry.id,
            "client": entry.client,
            "service": entry.service,
            "specialist": entry.specialist,
            "location": entry.location,
            "first": entry.first.isoformat(),
            "last": entry.last.isoformat(),
            "parts": [part for part in PARTS if part in entry.parts],
            "joined_at": entry.joined_at.isoformat(),
            "from_booking": entry.from_booking,
        }
    if isinstance(value, Booking):
        return {
            "id": value.id,
            "specialist": value.specialist,
            "service": value.service,
            "start": value.start.isoformat(),
            "end": value.end.isoformat(),
            "status": str(value.status),
            **({"location": value.location} if value.location is not None else {}),
        }
    return value


def show(args: argparse.Namespace, result: Any) -> None:
    """Prints an answer: text as it is, else JSON with `--json`, else a table."""
    if isinstance(result, str):
        sys.stdout.write(result)
    elif args.json:
        payload = as_json(result)
        if isinstance(payload, dict) and "message" in payload:
            payload = payload["imported"]
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    elif isinstance(result, Placed):
        print(_table(result.answer, result.km))
    else:
        print(_table(result))


def _places(slots: Sequence[Slot], km: Mapping[str, float]) -> list[str]:
    """The places of a day's slots, in order, and the nearest one's distance (table cells)."""
    where = list(dict.fromkeys(s.location for s in slots if s.location is not None))
    near = [km[w] for w in where if w in km]
    return [",".join(where) or "-", f"{min(near):.1f}" if near else "-"]


def _table(result: Any, km: Mapping[str, float] | None = None) -> str:
    t = i18n.text
    km = km or {}
    if isinstance(result, dict):
        return result["message"]
    if _is(result, "stats", "Figures"):
        return _figures(result)
    if isinstance(result, Nothing):
        return t("cli.none_found")
    rows = result if isinstance(result, list) else [result]
    if not rows:
        return t("cli.none_found")
    first = rows[0]
    if isinstance(first, Booking):
        header = ["id", "specialist", "service", "start", "end", "status"]
        lines = [
            [str(b.id), b.specialist, b.service, _short(b.start), _short(b.end), str(b.status)]
            for b in rows
        ]
    elif isinstance(first, DayResult):
        header = ["specialist", "date", "slots", "location", "km"]
        lines = [
            [
                r.specialist,
                r.day.isoformat() if r.day else "-",
                " ".join(s.start.strftime("%H:%M") for s in r.slots),
                *_places(r.slots, km),
            ]
            for r in rows
        ]
    elif _is(first, "directory", "Listing"):
        header = ["specialist", "name", "date", "slots", "location", "km"]
        lines = [
            [
                r.result.specialist,
                r.name,
                r.result.day.isoformat() if r.result.day else "-",
                " ".join(s.start.strftime("%H:%M") for s in r.result.slots),
                *_places(r.result.slots, km),
            ]
            for r in rows
        ]
    elif _is(first, "waitlist", "Waiting"):
        from bookbot.engine.waitlist import PARTS

        header = ["id", "client", "service", "specialist", "first", "last", "parts", "joined"]
        lines = [
            [
                str(w.entry.id),
                str(w.entry.client),
                w.entry.service,
                w.entry.specialist or "*",
                w.entry.first.isoformat(),
                w.entry.last.isoformat(),
                ",".join(part for part in PARTS if part in w.entry.parts) or "*",
                _short(w.entry.joined_at),
            ]
            for w in rows
        ]
    else:
        header = ["specialist", "start", "end", "location", "km"]
        lines = [
            [r.specialist, _short(r.start), _short(r.end), r.location or "-", "-"]
            if r.location not in km
            else [r.specialist, _short(r.start), _short(r.end), r.location, f"{km[r.location]:.1f}"]
            for r in rows
        ]
    if "location" in header and all(line[-2:] == ["-", "-"] for line in lines):
        header, lines = header[:-2], [line[:-2] for line in lines]  # a business of one place
    elif "km" in header and all(line[-1] == "-" for line in lines):
        header, lines = header[:-1], [line[:-1] for line in lines]
    header = [t(f"cli.column.{name}") for name in header]
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *lines]
    )


def _figures(found: stats.Figures) -> str:
    from bookbot.bot.views import figure_lines

    t, lang = i18n.text, i18n.fallback()
    lines = [t("stats.title", first=found.first, last=found.last)]
    lines += [t(key, lang, **params) for key, params in figure_lines(found)]
    lines.append(t("stats.shares"))
    for one in found.shares:
        if one.share is None:
            lines.append(t("stats.never_open", name=one.name))
        else:
            percent = i18n.percent(one.share, lang)
            lines.append(
                t("stats.share", name=one.name, percent=percent, booked=one.booked, open=one.open)
            )
    return "\n".join(lines)


def _short(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M %z")
