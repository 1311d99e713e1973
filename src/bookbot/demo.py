"""A small, believable sample clinic, dated from today so it is always bookable.

A chain of three places: two in Munich, one in Salzburg with Austria's holidays; Ann
works at both Munich places.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from string import Template

from bookbot.clinic_file import Clinic, read
from bookbot.engine.workday import zone

ZONE = "Europe/Berlin"
TEMPLATE = Template("""
timezone: Europe/Berlin
min_notice: 1h
horizon_days: 60
holidays: DE-BY
currency: EUR
phone: "+49 89 1234567"
policy:
  cancel_notice: 24h
  confirm_by: 3h
  no_show_limit: 2
  no_show_window: 90d
  after_no_shows: block
  waitlist_hold: 15m

locations:
  - {id: altstadt, name: Munich Altstadt, address: "Marienplatz 8, 80331 München",
     lat: 48.1374, lon: 11.5755}
  - {id: schwabing, name: Munich Schwabing, address: "Leopoldstr. 50, 80802 München",
     lat: 48.1612, lon: 11.5856, phone: "+49 89 7654321"}
  - {id: salzburg, name: Salzburg, address: "Getreidegasse 9, 5020 Salzburg",
     lat: 47.7994, lon: 13.0438, timezone: Europe/Vienna, holidays: AT,
     phone: "+43 662 123456"}

services:
  - {id: checkup, name: Check-up, price: "60.00"}
  - {id: hygiene, name: Teeth cleaning, duration: 90m, price: "95.00"}
  - {id: filling, name: Filling, duration: 45m, price: "120.00", cancel_notice: 48h$deposit}
  - {id: consult, name: Online consultation, duration: 30m, price: "40.00", cancel_notice: 2h}
  - {id: braces, name: Braces check, duration: 1h, price: "80.00"}

specialists:
  - id: ann
    name: Dr. Ann Weber
    location: altstadt
    services: [checkup, filling, consult]
    weekly:
      - {days: [mon, tue, wed], start: "09:00", end: "13:00", slot: 30m, break_after: 10m}
      - {days: [thu], start: "14:00", end: "18:00", slot: 1h, location: schwabing}
      - {days: [fri], times: ["08:00", "08:30", "10:30"], slot: 30m}
    overrides:
      - {date: $ann_off, type: day_off, reason: Training}
      - {date: $ann_custom, type: custom_hours, start: "15:00", end: "19:00", slot: 30m}
    blocks:
      - {start: ${ann_block}T11:00, end: ${ann_block}T12:00, reason: team meeting}
  - id: ben
    name: Ben Keller
    location: schwabing
    services: [hygiene, checkup]
    weekly:
      - {days: [mon, tue, wed, thu, fri], start: "08:00", end: "16:00", slot: 30m}
    overrides:
      - {from: $ben_vacation_from, to: $ben_vacation_to, type: vacation}
      - {date: $ben_extra, type: extra_slots, times: ["17:00"], slot: 30m}
  - id: carla
    name: Dr. Carla Rossi
    location: salzburg
    services: [checkup, filling]
    weekly:
      - {days: [tue, wed, thu, fri, sat], start: "10:00", end: "18:00", slot: 45m, break_after: 15m}
  - id: dmitri
    name: Dr. Dmitri Orlov
    timezone: Europe/Moscow
    holidays: RU
    location: altstadt
    services: [consult, checkup]
    weekly:
      - {days: [mon, wed, fri], start: "12:00", end: "20:00", slot: 30m}
  - id: eva
    name: Dr. Eva Roth
    location: altstadt
    services: [braces]
    holidays: none
    weekly:
      - {days: [mon, wed, fri], start: "09:00", end: "11:00", slot: 1h}

bookings:
  - {specialist: ann, service: checkup, start: ${ann_booked}T09:00,
     client: {name: Bob Stone, phone: "+4915112345678"}}
  - {specialist: ben, service: hygiene, start: ${ben_booked}T08:00,
     client: {name: Maria Lang, phone: "+4917098765432"}}
  - {specialist: carla, service: filling, start: ${carla_booked}T10:00,
     client: {name: Jonas Berg, phone: "+4915223344556"}}
$eva_booked""")
# Eva is fully booked for the coming week: a case for the waitlist.
EVA_DAYS, EVA_TIMES = (0, 2, 4), ("09:00", "10:00")
EVA_CLIENTS = (
    ("Lena Vogel", "+4915111122233"),
    ("Paul Wagner", "+4915144455566"),
    ("Sofia Klein", "+4915177788899"),
)


DEPOSIT = ', prepay: deposit, deposit: "30.00"'


def clinic(now: datetime, deposit: bool = True) -> Clinic:
    """The demo clinic, with its exceptions and bookings set in the coming weeks.

    Its filling asks a deposit when `deposit` (a payment provider's token is set, or
    `bookbot try` plays the payment).
    """
    today = now.astimezone(zone(ZONE)).date()
    vacation = date.fromisoformat(_next(today, 0, weeks=3))
    return read(
        TEMPLATE.substitute(
            deposit=DEPOSIT if deposit else "",
            ann_off=_next(today, 2, weeks=1),
            ann_custom=_next(today, 3, weeks=2),
            ann_block=_next(today, 1),
            ann_booked=_next(today, 0),
            ben_vacation_from=vacation.isoformat(),
            ben_vacation_to=(vacation + timedelta(days=4)).isoformat(),
            ben_extra=_next(today, 3),
            ben_booked=_next(today, 1),
            carla_booked=_next(today, 2),
            eva_booked=_eva_bookings(today),
        )
    )


def _next(today: date, weekday: int, weeks: int = 0) -> str:
    """The first date after today on that weekday (0 = Monday), `weeks` later."""
    ahead = (weekday - today.weekday() - 1) % 7 + 1
    return (today + timedelta(days=ahead + 7 * weeks)).isoformat()


def _eva_bookings(today: date) -> str:
    """Booking lines taking every slot of Eva's from today to the same weekday next week."""
    days = [today + timedelta(days=n) for n in range(8)]
    starts = [
        f"{day.isoformat()}T{time}"
        for day in days
        if day.weekday() in EVA_DAYS
        for time in EVA_TIMES
    ]
    return "".join(
        f"  - {{specialist: eva, service: braces, start: {start}, "
        f'client: {{name: {name}, phone: "{phone}"}}}}\n'
        for start, (name, phone) in zip(starts, EVA_CLIENTS * len(starts), strict=False)
    )
