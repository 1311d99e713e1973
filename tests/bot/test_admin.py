"""Admins change schedules from the chat: each command, wrong arguments, roles, cancellations."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from bookbot import i18n
from bookbot.bot.handlers import admin, specialist
from bookbot.engine.model import BookingStatus, Client, OverrideType
from bookbot.services import schedules
from bookbot.services.availability import free_slots
from bookbot.services.booked import list_bookings
from bookbot.services.bookings import book
from tests.bot.staff import ADMIN, arrives, exported, link, on_db, press, say, staffed

__all__ = ["staffed"]  # the fixture, used by name below


def at(text: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(text + "+01:00")


async def test_the_day_commands_answer_with_the_day_as_it_now_stands(staffed) -> None:
    h = staffed
    boss = h.emulator.user(ADMIN, "Boss")
    shown = await say(h, boss, "/schedule ann 2026-12-01")
    assert "Tue 1 Dec · 09:00–13:00" in shown.text
    assert "09:00–09:30 Bob Stone, +4915112345678 · Check-up" in shown.text
    assert "12:00–13:00 blocked: team meeting" in shown.text
    assert "free: 09:40, 10:20, 11:00\n" in shown.text  # 11:40 would run into the block
    assert "Mon 7 Dec · 09:00–13:00" in shown.text and "Sun 6 Dec · not working" in shown.text

    done = await say(h, boss, "/dayoff ann 2026-12-02 training")
    assert done.text.startswith("Day off for Dr. Ann Weber on Wed 2 Dec (training).")
    assert "Wed 2 Dec · day off: training" in done.text

    done = await say(h, boss, "/hours ann 2026-12-03 10:00-12:00 30m")
    assert done.text.startswith("Hours of Dr. Ann Weber on Thu 3 Dec: 10:00–12:00, slots of 30 min")
    assert "Thu 3 Dec · 10:00–12:00\n  free: 10:00, 10:30, 11:00, 11:30" in done.text

    done = await say(h, boss, "/extra ann 04.12 16:00 16:30 30m")
    assert done.text.startswith("Extra slots for Dr. Ann Weber on Fri 4 Dec: 16:00, 16:30")
    assert "free: 08:00, 08:30, 10:30, 16:00, 16:30" in done.text

    done = await say(h, boss, "/block ann 2026-12-07 10:00-11:00 dentist fair")
    assert done.text.startswith(
        "Blocked for Dr. Ann Weber on Mon 7 Dec: 10:00–11:00 (dentist fair)"
    )
    assert "10:00–11:00 blocked: dentist fair" in done.text
    assert "free: 09:00, 11:00, 11:40, 12:20" in done.text

    done = await say(h, boss, "/unblock ann 2026-12-01 12:30")
    assert done.text.startswith("Unblocked for Dr. Ann Weber on Tue 1 Dec: 12:00–13:00.")
    assert "blocked:" not in done.text and "free: 09:40, 10:20, 11:00, 11:40, 12:20" in done.text

    ann = next(s for s in (await exported(h)).specialists if s.id == "ann")
    kinds = {(o.type, o.first.isoformat(), o.reason) for o in ann.overrides}
    assert (OverrideType.DAY_OFF, "2026-12-02", "training") in kinds
    assert (OverrideType.CUSTOM_HOURS, "2026-12-03", None) in kinds
    assert (OverrideType.EXTRA_SLOTS, "2026-12-04", None) in kinds
    assert [(b.start.isoformat(), b.reason) for b in ann.blocks] == [
        ("2026-12-07T09:00:00+00:00", "dentist fair")
    ]
    slots = await on_db(
        h, free_slots, h.clock(), date(2026, 12, 2), date(2026, 12, 2), specialist="ann"
    )
    assert slots == []


async def test_vacation_holidays_weekly_and_relative_dates(staffed) -> None:
    h = staffed
    boss = h.emulator.user(ADMIN, "Boss")
    done = await say(h, boss, "/vacation ben 2026-12-14 2026-12-18")
    assert done.text.startswith("Vacation for Ben Keller from Mon 14 Dec to Fri 18 Dec.")
    assert done.text.count("· vacation") == 5

    done = await say(h, boss, "/holidays ben DE-BY")
    assert done.text.startswith("Holiday calendar of Ben Keller: DE-BY.")
    shown = await say(h, boss, "/schedule ben 2026-12-25")
    assert "Fri 25 Dec · holiday" in shown.text

    done = await say(h, boss, "/weekly ben sat 10:00-12:00 1h")
    assert done.text.startswith("Weekly hours added for Ben Keller: Sat, 10:00–12:00, slots of 60")
    assert "Sat 5 Dec · 10:00–12:00\n  free: 10:00, 11:00" in done.text

    # Today is Monday 30 November: "tomorrow" and "wed" are Tuesday 1 and Wednesday 2 Dec.
    done = await say(h, boss, "/dayoff ben tomorrow")
    assert "on Tue 1 Dec." in done.text
    done = await say(h, boss, "/dayoff ben wednesday")
    assert "on Wed 2 Dec." in done.text

    ben = next(s for s in (await exported(h)).specialists if s.id == "ben")
    assert ben.holidays == ("DE-BY",)
    assert ben.weekly[-1].days == frozenset({5})
    assert {(o.type, o.first, o.last) for o in ben.overrides} == {
        (OverrideType.VACATION, date(2026, 12, 14), date(2026, 12, 18)),
        (OverrideType.DAY_OFF, date(2026, 12, 1), date(2026, 12, 1)),
        (OverrideType.DAY_OFF, date(2026, 12, 2), date(2026, 12, 2)),
    }


async def test_bookings_of_a_day_with_names_and_phones(staffed) -> None:
    h = staffed
    boss = h.emulator.user(ADMIN, "Boss")
    listing = await say(h, boss, "/bookings ann 2026-12-01")
    assert "Bookings, Tue 1 Dec" in listing.text
    assert "09:00–09:30 Bob Stone, +4915112345678 · Check-up" in listing.text
    # Telegram drops tel: links; the number stays plain text, which its apps make tappable.
    assert "tel:" not in listing.raw_text and listing.entities is None
    everyone = await say(h, boss, "/bookings 01.12")
    assert "Check-up · Dr. Ann Weber" in everyone.text
    assert "No bookings." in (await say(h, boss, "/bookings ben 2026-12-01")).text


async def test_the_catalog_from_the_chat(staffed) -> None:
    h = staffed
    boss = h.emulator.user(ADMIN, "Boss")
    assert (await say(h, boss, "/addservice xray 20m X-ray")).text == (
        "Service added: X-ray (xray), 20 min."
    )
    assert (await say(h, boss, "/renameservice xray Dental X-ray")).text == (
        "Service xray is now called Dental X-ray."
    )
    assert (await say(h, boss, "/addspecialist eva Dr. Eva Roth")).text.startswith(
        "Specialist added: Dr. Eva Roth (eva)."
    )
    assert (await say(h, boss, "/offer eva xray checkup")).text == (
        "Dr. Eva Roth offers: xray, checkup."
    )
    assert (await say(h, boss, "/renamespecialist eva Dr. Eva Roth-Klein")).text == (
        "Specialist eva is now called Dr. Eva Roth-Klein."
    )
    done = await say(h, boss, "/weekly eva mon-fri 09:00-10:00 20m")
    assert "Mon 30 Dec" not in done.text and "Tue 1 Dec · 09:00–10:00" in done.text
    assert "free: 09:00, 09:20, 09:40" in done.text
    clinic = await exported(h)
    assert [(s.id, s.name, s.duration and s.duration.seconds) for s in clinic.services][-1] == (
        "xray",
        "Dental X-ray",
        1200,
    )
    eva = clinic.specialists[-1]
    assert (eva.id, eva.name, eva.services) == ("eva", "Dr. Eva Roth-Klein", ("xray", "checkup"))
    slots = await on_db(
        h, free_slots, h.clock(), date(2026, 12, 1), date(2026, 12, 1), service="xray"
    )
    assert [s.start.strftime("%H:%M") for s in slots] == ["09:00", "09:20", "09:40"]


async def test_wrong_arguments_get_one_line_of_usage_and_change_nothing(staffed) -> None:
    h = staffed
    boss = h.emulator.user(ADMIN, "Boss")
    before = await exported(h)
    cases = {
        "/dayoff ann 2026-13-01": '"2026-13-01" is not a date',
        "/dayoff ann someday": '"someday" is not a date',
        "/hours ann 2026-12-03 12:00-10:00": '"12:00-10:00" ends before it starts',
        "/block ann 2026-12-03 10-11": '"10-11" is not a time range',
        "/hours ann 2026-12-03 10:00-12:00 0m": '"0m" is not a length',
        "/dayoff zed 2026-12-24": 'no specialist has the id "zed"',
        "/holidays ann XX": '"XX" is not a holiday calendar',
        "/holidays ann 12": '"12" is not a holiday calendar',
        "/vacation ann 2026-12-10 2026-12-01": "is before the first date",
        "/weekly ann funday 09:00-10:00": '"funday" is not a list of weekdays',
        "/unblock ann 2026-12-02 12:00": "no block covers 2026-12-02 12:00",
        "/promote alice": '"alice" is not a Telegram user id',
        "/addservice checkup 30m Again": 'a service with the id "checkup" exists already',
        "/dayoff": "Usage: /dayoff ID DATE [reason], like /dayoff ann 2026-12-24",
        "/vacation ann 2026-12-01": "Usage: /vacation ID FROM TO",
        "/extra ann": "Usage: /extra ID DATE HH:MM",
        "/addspecialist eva": "Usage: /addspecialist ID NAME",
    }
    for command, expected in cases.items():
        answer = await say(h, boss, command)
        assert expected in answer.text, (command, answer.text)
        assert "\n" not in answer.text and "Usage: /" in answer.text, (command, answer.text)
        assert answer.text.split()[0] in ("Usage:",) or f"Usage: {command.split()[0]}" in (
            answer.text
        ), (command, answer.text)
    assert await exported(h) == before


async def test_a_client_gets_no_admin_answer(staffed) -> None:
    h = staffed
    before = await exported(h)
    stranger = h.emulator.user(777, "Mallory")
    for command in (
        "/dayoff ann 2026-12-02",
        "/promote 777",
        "/invite ann",
        "/schedule ann",
        "/bookings",
        "/today",
    ):
        answer = await say(h, stranger, command)
        assert answer.text in ("Sorry, this command is for admins.",), (command, answer.text)
    forged = await h.emulator.tap_data(stranger, answer.message_id, "g:1")
    await h.emulator.wait_idle()
    assert forged.answered
    assert await exported(h) == before
    assert h.emulator.commands({"type": "chat", "chat_id": 777}, "en") == []


async def test_a_day_off_over_two_bookings_asks_then_cancels_and_tells_both(staffed) -> None:
    h = staffed
    boss = h.emulator.user(ADMIN, "Boss")
    clients = [h.emulator.user(901, "Clara"), h.emulator.user(902, "Dan")]
    for who, start in zip(clients, ("2026-12-02T09:00", "2026-12-02T10:20"), strict=True):
        await on_db(
            h,
            book,
            h.clock(),
            "ann",
            "checkup",
            at(start),
            Client(who.first_name, f"+49151000{who.id}", who.id),
        )

    asked = await say(h, boss, "/dayoff ann 2026-12-02 sick leave")
    assert asked.text.startswith("Nothing is changed yet: this would cancel bookings (2):")
    assert "Wed 2 Dec 09:00–09:30 Clara, +49151000901 · Check-up" in asked.text
    assert "Wed 2 Dec 10:20–10:50 Dan, +49151000902 · Check-up" in asked.text
    kept = await press(h, boss, "Keep everything")
    assert kept.text == "Nothing changed; the bookings stay."
    assert not (await exported(h)).specialists[0].overrides[2:]

    asked = await say(h, boss, "/dayoff ann 2026-12-02 sick leave")
    confirm_data = asked.buttons[0].callback_data
    await h.restart()  # the question waits in the database
    view = await press(h, boss, "Confirm and cancel them")
    assert "Wed 2 Dec · day off: sick leave" in view.text
    answered = h.emulator.chat(boss).message(asked.message_id)
    assert answered.text.startswith(
        "Day off for Dr. Ann Weber on Wed 2 Dec (sick leave).\nCancelled bookings: 2."
    )
    assert "• Wed 2 Dec 10:20–10:50 Dan" in answered.text and not answered.buttons

    for who in clients:
        told = await arrives(h, who, "your booking was cancelled")
        assert "Wednesday 2 December" in told.text and "Reason: sick leave" in told.text
        assert "The soonest free times:" in told.text
        assert re.search(r"• \w{3} \d+ \w{3} \d\d:\d\d", told.text), told.text
    statuses = {b.client.telegram_id: b.status for b in await on_db(h, list_bookings) if b.client}
    assert statuses[901] == statuses[902] == BookingStatus.CANCELLED
    assert statuses[42] == BookingStatus.CONFIRMED
    slots = await on_db(
        h, free_slots, h.clock(), date(2026, 12, 2), date(2026, 12, 2), specialist="ann"
    )
    assert slots == []
    again = await h.emulator.tap_data(boss, asked.message_id, confirm_data)  # a second tap
    await h.emulator.wait_idle()
    assert again.answered and again.answer_text == "This was answered already."


async def test_invites_link_once_and_expire(staffed) -> None:
    h = staffed
    boss = h.emulator.user(ADMIN, "Boss")
    invite = await say(h, boss, "/invite ann")
    assert f"https://t.me/{h.emulator.bot_username}?start=" in invite.text
    code = invite.text.rsplit("?start=", 1)[1].strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{12}", code)
    ann_user = h.emulator.user(601, "Ann")
    welcome = await say(h, ann_user, f"/start {code}")
    assert welcome.text.startswith("Welcome, Dr. Ann Weber!")
    assert (await exported(h)).specialists[0].telegram_id == 601
    other = h.emulator.user(602, "Eve")
    assert "used already" in (await say(h, other, f"/start {code}")).text
    assert "not valid" in (await say(h, other, "/start AAAAAAAAAAAA")).text
    late = await say(h, boss, "/invite ben")
    h.clock.advance(days=8)
    expired = await say(h, other, f"/start {late.text.rsplit('?start=', 1)[1].strip()}")
    assert "expired" in expired.text
    assert (await exported(h)).specialists[1].telegram_id is None


async def test_promote_and_menus_by_role(staffed) -> None:
    h = staffed
    boss = h.emulator.user(ADMIN, "Boss")
    await say(h, boss, "/schedule ann")

    def menu(chat_id: int, lang: str = "en") -> list[str]:
        return [
            c["command"] for c in h.emulator.commands({"type": "chat", "chat_id": chat_id}, lang)
        ]

    assert "promote" in menu(ADMIN) and "dayoff" in menu(ADMIN) and "start" in menu(ADMIN)
    assert "today" not in menu(ADMIN)
    assert (
        h.emulator.commands({"type": "chat", "chat_id": ADMIN}, "ru")[
            menu(ADMIN, "ru").index("dayoff")
        ]["description"]
        == "выходной день"
    )
    helper = h.emulator.user(700, "Helper")
    assert (await say(h, boss, "/promote 700")).text == "700 is an admin now."
    assert menu(700) == []  # Telegram refuses the chat of someone who never opened the bot
    assert "Day off for Ben Keller" in (await say(h, helper, "/dayoff ben 2026-12-03")).text
    assert "promote" in menu(700)  # set at their first message
    await link(h, "ann", h.emulator.user(601, "Ann"))
    assert "today" in menu(601) and "dayoff" in menu(601) and "promote" not in menu(601)
    await h.restart()
    assert "promote" in menu(700)


def test_every_staff_text_the_code_names_exists() -> None:
    source = "\n".join(p.read_text() for p in Path(i18n.__file__).parent.rglob("*.py"))
    named = set(re.findall(r'"((?:admin|specialist)\.[a-z_.]+)"', source))
    named |= {f"admin.usage.{name}" for name in admin.COMMANDS} | {
        "admin.usage.today",
        "admin.usage.week",
        "specialist.menu.today",
    }
    named |= {f"admin.done.{kind}" for kind in schedules.KINDS}
    for lang in i18n.languages():
        missing = {
            key
            for key in named
            if key not in i18n.catalog(lang)
            and not any(k.startswith(key + ".") for k in i18n.catalog(lang))
        }
        assert missing == set(), lang
    assert specialist.INVITE
