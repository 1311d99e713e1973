"""Clinic files the tests share."""

from __future__ import annotations

BASIC = """
timezone: Europe/Berlin
min_notice: 30m
horizon_days: 60
holidays: DE-BY
services:
  - {id: checkup, name: Check-up}
  - {id: hygiene, name: Hygiene, duration: 90m}
specialists:
  - id: ann
    name: Dr. Ann Weber
    services: [checkup, hygiene]
    weekly:
      - {days: [mon, tue, wed], start: "09:00", end: "13:00", slot: 30m, break_after: 10m}
      - {days: [thu], start: 14:00, end: 18:00, slot: 1h}
      - {days: [fri], times: ["08:00", "08:30", "10:30"], slot: 30m}
    overrides:
      - {date: 2026-12-24, type: day_off, reason: Christmas Eve}
      - {date: 2026-12-23, type: custom_hours, start: "10:00", end: "12:00", slot: 30m}
    blocks:
      - {start: 2026-12-01T12:00, end: 2026-12-01T13:00, reason: team meeting}
  - id: ben
    name: Ben Keller
    holidays: none
    services: [checkup]
    weekly:
      - {days: [mon, tue, wed, thu, fri], start: "08:00", end: "12:00", slot: 1h}
bookings:
  - {specialist: ann, service: checkup, start: 2026-12-01T09:00,
     client: {name: Bob Stone, phone: "+4915112345678", telegram_id: 42}}
"""

# Monday 2026-11-30, 08:00 in Berlin: the clock most tests stand on.
NOW = "2026-11-30T08:00:00+01:00"

# A small chain in one zone: Ann at Mitte on Monday and Tuesday and at Spandau on Thursday;
# Eva at Salzburg (Austrian holidays: 8 December) in the morning and at Mitte after lunch;
# Max at Salzburg with no holiday calendar of his own.
CHAIN = """
timezone: Europe/Berlin
min_notice: 30m
horizon_days: 60
holidays: DE-BE
locations:
  - {id: mitte, name: Berlin Mitte, address: "Friedrichstr. 1, 10117 Berlin",
     lat: 52.52, lon: 13.388}
  - {id: spandau, name: Spandau, address: "Carl-Schurz-Str. 2, 13597 Berlin",
     lat: 52.5363, lon: 13.2035, phone: "+49303333333"}
  - {id: salzburg, name: Salzburg, address: "Getreidegasse 9, 5020 Salzburg",
     lat: 47.8, lon: 13.043, timezone: Europe/Vienna, holidays: AT}
services:
  - {id: checkup, name: Check-up}
  - {id: hygiene, name: Hygiene, duration: 90m}
specialists:
  - id: ann
    name: Ann
    location: mitte
    services: [checkup, hygiene]
    weekly:
      - {days: [mon, tue], start: "09:00", end: "11:00", slot: 30m}
      - {days: [thu], start: "09:00", end: "11:00", slot: 30m, location: spandau}
      - {days: [thu], start: "11:00", end: "12:00", slot: 30m}
  - id: eva
    name: Eva
    location: salzburg
    services: [checkup]
    weekly:
      - {days: [tue], start: "09:00", end: "10:00", slot: 30m}
      - {days: [tue], start: "14:00", end: "15:00", slot: 30m, location: mitte}
  - id: max
    name: Max
    location: salzburg
    holidays: none
    services: [checkup]
    weekly:
      - {days: [tue], start: "09:00", end: "10:00", slot: 30m}
"""
