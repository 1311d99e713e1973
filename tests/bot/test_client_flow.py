"""The client's booking flow end to end: real PTB, real SQLite, the emulator over loopback."""

from __future__ import annotations

from datetime import date, datetime

from icalendar import Calendar

from bookbot import clinic_file
from bookbot.bot import callbacks
from bookbot.cli_output import as_json
from bookbot.engine.model import BookingStatus, Client
from bookbot.services import booked, bookings
from bookbot.services.availability import free_slots
from bookbot.services.clinic import export_clinic
from bookbot.store.db import Database
from tests.bot.staff import arrives, press, say
from tests.bot.test_cutoff import confirmation


async def bookings_of(h):
    db = Database(h.url)
    try:
        return await booked.list_bookings(db)
    finally:
        await db.close()


async def book_ann(h, user, time="10:20", phone=True):
    """Walks the flow to the summary for ann on Tue 1 Dec at `time`."""
    await say(h, user, "/start")
    await press(h, user, "Check-up")
    await press(h, user, "Dr. Ann Weber")
    await press(h, user, "›")  # December
    await press(h, user, "1")
    return await press(h, user, time)


async def test_a_full_booking_with_a_named_specialist(harness) -> None:
    h = harness
    anna = h.emulator.user(1001, "Anna")
    menu = await say(h, anna, "/start")
    assert "What would you like to book" in menu.text
    assert [b.text for b in menu.buttons] == ["Check-up", "Hygiene"]
    listing = await press(h, anna, "Check-up")
    assert listing.message_id == menu.message_id  # one message, edited in place
    labels = [b.text for b in listing.buttons]
    assert labels[0] == "Dr. Ann Weber · Mon 30 Nov 09:00"
    assert labels[1] == "Ben Keller · Mon 30 Nov 09:00"
    assert "Any available" in labels and "« Back" in labels
    calendar = await press(h, anna, "Dr. Ann Weber")
    assert "Soonest: Mon 30 Nov" in calendar.buttons[0].text
    await press(h, anna, "›")
    times = await press(h, anna, "1")
    assert [b.text for b in times.buttons][:3] == ["09:40", "10:20", "11:00"]
    await press(h, anna, "10:20")
    held = h.emulator.chat(anna).message(menu.message_id)
    assert "Tuesday 1 December, 10:20 is held for you until 08:10" in held.text
    assert h.emulator.chat(anna).reply_keyboard is not None
    await h.emulator.press_reply_button(anna, "Share my phone")
    await h.emulator.wait_idle()
    summary = h.emulator.chat(anna).last
    assert "Dr. Ann Weber" in summary.text and "Tuesday 1 December, 10:20" in summary.text
    await press(h, anna, "Confirm")
    assert "Booked" in h.emulator.chat(anna).message(summary.message_id).text
    document = (await confirmation(h, anna)).document  # sent by the outbox, after the tap
    assert document is not None
    event = Calendar.from_ical(document.data).walk("VEVENT")[0]
    assert event.decoded("dtstart").isoformat() == "2026-12-01T09:20:00+00:00"
    made = [b for b in await bookings_of(h) if b.client and b.client.telegram_id == 1001]
    assert [(b.specialist, b.start.isoformat(), b.status) for b in made] == [
        ("ann", "2026-12-01T10:20:00+01:00", BookingStatus.CONFIRMED)
    ]
    assert made[0].client.name == "Anna"


async def test_a_typed_contact_is_taken_only_while_a_slot_is_held(harness) -> None:
    h = harness
    user = h.emulator.user(1002, "Typist")
    early = await say(h, user, "Tom Typist +49 151 7654321")
    assert early.text.startswith("Send /start to book")  # nothing held: nothing remembered
    await book_ann(h, user)
    vague = await say(h, user, "just my name")
    assert vague.text.startswith("Please type your name and phone together")
    await h.emulator.send_text(user, "Tom Typist +49 151 7654321")
    summary = await arrives(h, user, "Please check and confirm")
    assert "Tom Typist" in summary.text and "+491517654321" in summary.text
    assert h.emulator.chat(user).messages[-2].text == "Thank you, noted."


async def test_any_available_books_someone_free_and_spreads_fairly(harness) -> None:
    h = harness
    for n, name in enumerate(["Ivan", "Olga"]):
        user = h.emulator.user(2000 + n, name)
        await say(h, user, "/start")
        await press(h, user, "Check-up")
        await press(h, user, "Any available")
        await press(h, user, "Soonest")
        await press(h, user, "09:00")
        await h.emulator.share_contact(user, f"+4915100000{n}")
        await h.emulator.wait_idle()
        await press(h, user, "Confirm")
    made = {
        b.client.name: b.specialist
        for b in await bookings_of(h)
        if b.client and b.client.telegram_id in (2000, 2001)
    }
    # ann already has a booking on the 1st, ben none: the first goes to ben, then ann.
    assert made == {"Ivan": "ben", "Olga": "ann"}


async def test_the_calendar_shows_exactly_the_days_the_cli_has_slots(harness) -> None:
    h = harness
    user = h.emulator.user(3001, "Cal")
    await say(h, user, "/start")
    await press(h, user, "Check-up")
    calendar = await press(h, user, "Dr. Ann Weber")
    calendar = await press(h, user, "›")  # December: holidays, a day off, custom hours
    pressable = {
        int(b.callback_data[-2:])
        for b in calendar.buttons
        if b.callback_data.startswith("d:") and b.text != calendar.buttons[0].text
    }
    db = Database(h.url)
    try:
        slots = await free_slots(
            db,
            h.clock(),
            date(2026, 12, 1),
            date(2026, 12, 31),
            specialist="ann",
            service="checkup",
        )
    finally:
        await db.close()
    assert pressable == {s.start.day for s in slots}
    assert 24 not in pressable and 25 not in pressable and 23 in pressable


async def test_two_clients_race_for_one_slot(harness) -> None:
    h = harness
    first, second = h.emulator.user(4001, "First"), h.emulator.user(4002, "Second")
    await book_ann(h, first)
    await say(h, second, "/start")
    await press(h, second, "Check-up")
    await press(h, second, "Dr. Ann Weber")
    await press(h, second, "›")
    times = await press(h, second, "1")
    assert "10:20" not in [b.text for b in times.buttons]  # held for the first client
    # The second client taps a stale 10:20 button (say, from an older message): refused.
    await h.emulator.tap_data(
        second, times.message_id, callbacks.instant(date_time("2026-12-01T10:20:00+01:00"))
    )
    await h.emulator.wait_idle()
    reply = h.emulator.chat(second).last
    assert "just taken" in reply.text
    assert any(b.callback_data.startswith("t:") for b in reply.buttons)


def date_time(text):
    from datetime import datetime

    return datetime.fromisoformat(text)


async def test_an_expired_hold_says_so_and_offers_neighbours(harness) -> None:
    h = harness
    user = h.emulator.user(5001, "Late")
    await book_ann(h, user)
    await h.emulator.share_contact(user, "+491511111111")
    await h.emulator.wait_idle()
    h.clock.advance(minutes=11)
    reply = await press(h, user, "Confirm")
    assert "ran out" in reply.text
    assert reply.buttons[0].text == "Tue 1 Dec 10:20"  # free again, and the nearest
    assert not [
        b
        for b in await bookings_of(h)
        if b.status == BookingStatus.CONFIRMED and b.client and b.client.telegram_id == 5001
    ]


async def test_cancel_and_reschedule_from_my(harness) -> None:
    h = harness
    user = h.emulator.user(6001, "Mia")
    await book_ann(h, user)
    await h.emulator.share_contact(user, "+491512222222")
    await h.emulator.wait_idle()
    await press(h, user, "Confirm")
    mine = await say(h, user, "/my")
    assert "Check-up with Dr. Ann Weber, Tuesday 1 December, 10:20" in mine.text
    await press(h, user, "Move")
    await press(h, user, "›")
    await press(h, user, "2")  # Wed 2 Dec
    summary = await press(h, user, "09:40")  # the phone is remembered: straight to summary
    assert "Please check and confirm" in summary.text
    await press(h, user, "Confirm")
    mine_now = [
        (b.start.isoformat(), b.status)
        for b in await bookings_of(h)
        if b.client and b.client.telegram_id == 6001
    ]
    assert mine_now == [
        ("2026-12-01T10:20:00+01:00", BookingStatus.CANCELLED),
        ("2026-12-02T09:40:00+01:00", BookingStatus.CONFIRMED),
    ]
    await say(h, user, "/my")
    await press(h, user, "Cancel")
    done = await press(h, user, "Yes, cancel it")
    assert "Cancelled: Check-up with Dr. Ann Weber, Wednesday 2 December, 09:40" in done.text
    assert all(
        b.status == BookingStatus.CANCELLED
        for b in await bookings_of(h)
        if b.client and b.client.telegram_id == 6001
    )


async def test_a_restart_between_two_taps_loses_nothing(harness) -> None:
    h = harness
    user = h.emulator.user(7001, "Rex")
    await say(h, user, "/start")
    await press(h, user, "Check-up")
    await press(h, user, "Dr. Ann Weber")
    await h.restart()
    await press(h, user, "›")
    times = await press(h, user, "1")
    assert [b.text for b in times.buttons][:1] == ["09:40"]


async def test_forged_and_foreign_buttons_change_nothing(harness) -> None:
    h = harness
    owner, thief = h.emulator.user(8001, "Owner"), h.emulator.user(8002, "Thief")
    await book_ann(h, owner)
    await h.emulator.share_contact(owner, "+491513333333")
    await h.emulator.wait_idle()
    await press(h, owner, "Confirm")
    before = [as_json(b) for b in await bookings_of(h)]
    menu = await say(h, thief, "/start")
    own_id = next(b.id for b in await bookings_of(h) if b.client.telegram_id == 8001)
    for data in [
        f"y:{own_id}",
        f"c:{own_id}",
        f"r:{own_id}",
        "garbage",
        "t:zzzzzzzzzz",
        "d:20261301",
        "s:nope",
        "p:../../etc",
        "m:209912",
        "t:0",
    ]:
        record = await h.emulator.tap_data(thief, menu.message_id, data)
        await h.emulator.wait_idle()
        assert record.answered, data
    assert [as_json(b) for b in await bookings_of(h)] == before


async def test_russian_for_a_client_whose_telegram_is_in_russian(harness) -> None:
    h = harness
    ivan = h.emulator.user(9001, "Иван", language_code="ru")
    menu = await say(h, ivan, "/start")
    assert menu.text == "Здравствуйте! На что хотите записаться?"
    listing = await press(h, ivan, "Check-up")
    assert "Пн 30 нояб." in listing.buttons[0].text or "пн" in listing.buttons[0].text.lower()
    calendar = await press(h, ivan, "Dr. Ann Weber")
    assert "Ближайший" in calendar.buttons[0].text
    assert [b.text for b in calendar.buttons[4:11]] == ["пн", "вт", "ср", "чт", "пт", "сб", "вс"]


async def test_language_choice_overrides_telegram(harness) -> None:
    h = harness
    user = h.emulator.user(9101, "Lena", language_code="en")
    await say(h, user, "/language")
    done = await press(h, user, "Русский")
    assert done.text == "Язык: русский."
    assert (await say(h, user, "/help")).text.startswith("Я записываю")


async def test_import_used_for_the_harness_is_the_basic_clinic(harness) -> None:
    db = Database(harness.url)
    try:
        exported = await export_clinic(db)
    finally:
        await db.close()
    assert exported == clinic_file.read(clinic_file.dump(exported))


async def test_start_at_any_step_lets_go_of_the_held_slot(harness) -> None:
    h = harness
    user = h.emulator.user(9201, "Undecided")
    await book_ann(h, user)
    await say(h, user, "/start")
    other = h.emulator.user(9202, "Next")
    times = await book_ann(h, other, time="10:20")
    assert "held for you" in h.emulator.chat(other).messages[-2].text, times.text


async def test_the_menu_is_published_in_every_language(harness) -> None:
    assert [c["command"] for c in harness.emulator.commands(language_code="ru")] == [
        "start",
        "my",
        "language",
        "help",
    ]
    assert harness.emulator.commands(language_code="ru")[1]["description"] == "мои записи"


async def test_a_booking_made_elsewhere_shows_on_the_next_tap(harness) -> None:
    # Views are shared between taps; a change by another process must still show at once.
    h = harness
    user = h.emulator.user(3101, "Seen")
    await say(h, user, "/start")
    await press(h, user, "Check-up")
    await press(h, user, "Dr. Ann Weber")
    await press(h, user, "›")  # December
    times = await press(h, user, "1")
    assert "11:00" in [b.text for b in times.buttons]
    db = Database(h.url)
    try:
        await bookings.book(
            db,
            h.clock(),
            "ann",
            "checkup",
            datetime.fromisoformat("2026-12-01T11:00:00+01:00"),
            Client("Walk-in", "+4915100009", None),
        )
    finally:
        await db.close()
    await press(h, user, "« Back")
    await press(h, user, "›")
    times = await press(h, user, "1")
    assert "11:00" not in [b.text for b in times.buttons]
    assert "09:40" in [b.text for b in times.buttons]
