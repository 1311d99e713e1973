"""Every button action is named once: its data decodes to itself, and every button decodes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bookbot.bot import actions, callbacks, keyboards, paging, views
from bookbot.bot.callbacks import Action, encode
from bookbot.bot.handlers import waitlist as waitlist_chat
from bookbot.bot.sender import keyboard
from bookbot.engine.model import Booking, BookingStatus, Location, Service, Slot, Specialist
from bookbot.engine.waitlist import Entry
from bookbot.notify import sender
from bookbot.services.availability import ANY, Choice, Month, Offered
from bookbot.services.places import Place
from bookbot.services.visits import Visit
from bookbot.services.waitlist import Waiting

DAY = date(2026, 12, 1)
START = datetime(2026, 12, 1, 9, 20, tzinfo=UTC)

# Button data of every action as the bot writes it, through the codec's own helpers.
WRITTEN: dict[Action, list[str]] = {
    Action.SERVICE: [encode(Action.SERVICE, "checkup"), encode(Action.SERVICE, "a" * 60)],
    Action.SPECIALIST: [encode(Action.SPECIALIST, "ann"), encode(Action.SPECIALIST, ANY)],
    Action.MONTH: [callbacks.month(DAY)],
    Action.DAY: [callbacks.day(DAY)],
    Action.TIME: [callbacks.instant(START)],
    Action.CONFIRM: [encode(Action.CONFIRM, 7)],
    Action.CHANGE_CONTACT: [encode(Action.CHANGE_CONTACT)],
    Action.ASK_CANCEL: [encode(Action.ASK_CANCEL, 2**31 - 1)],
    Action.CANCEL: [encode(Action.CANCEL, 7)],
    Action.KEEP: [encode(Action.KEEP, 7)],
    Action.RESCHEDULE: [encode(Action.RESCHEDULE, 7)],
    Action.LANGUAGE: [encode(Action.LANGUAGE, "ru")],
    Action.BACK: [
        encode(Action.BACK, step) for step in ("services", "places", "specialists", "times")
    ],
    Action.RATE: [encode(Action.RATE, "7-5")],
    Action.PAGE: [
        callbacks.page("s", 2),
        callbacks.page("o", 3),
        callbacks.page("p", paging.MOST),
        callbacks.page("x", 1),
        callbacks.page("t", 3, DAY),
    ],
    Action.NOTHING: [callbacks.NO_OP],
    Action.CONFIRM_CHANGE: [encode(Action.CONFIRM_CHANGE, 12)],
    Action.KEEP_CHANGE: [encode(Action.KEEP_CHANGE, 12)],
    Action.SPECIALIST_CANCEL: [encode(Action.SPECIALIST_CANCEL, 7)],
    Action.SPECIALIST_KEEP: [encode(Action.SPECIALIST_KEEP, 7)],
    Action.ATTEND: [encode(Action.ATTEND, 7)],
    Action.MARK: [encode(Action.MARK, "7-a"), encode(Action.MARK, "7-n")],
    Action.TAKE_OFFER: [encode(Action.TAKE_OFFER, 7)],
    Action.PASS_OFFER: [encode(Action.PASS_OFFER, 7)],
    Action.LEAVE_OFFERED: [encode(Action.LEAVE_OFFERED, 7)],
    Action.SOONER: [encode(Action.SOONER, 7)],
    Action.LEAVE_ENTRY: [encode(Action.LEAVE_ENTRY, 3)],
    Action.WAIT: [callbacks.waiting(DAY, DAY + timedelta(days=20), 2, 7)],
    Action.JOIN: [callbacks.join(DAY, DAY, 0)],
    Action.PLACE: [encode(Action.PLACE, "mitte"), encode(Action.PLACE, ANY)],
    Action.NEAREST: [encode(Action.NEAREST)],
}

# The letters buttons already sent carry: changing one would break those buttons.
SENT = {
    "s": Action.SERVICE,
    "p": Action.SPECIALIST,
    "m": Action.MONTH,
    "d": Action.DAY,
    "t": Action.TIME,
    "c": Action.CONFIRM,
    "k": Action.CHANGE_CONTACT,
    "x": Action.ASK_CANCEL,
    "y": Action.CANCEL,
    "v": Action.KEEP,
    "r": Action.RESCHEDULE,
    "l": Action.LANGUAGE,
    "b": Action.BACK,
    "w": Action.RATE,
    "q": Action.PAGE,
    "n": Action.NOTHING,
    "g": Action.CONFIRM_CHANGE,
    "h": Action.KEEP_CHANGE,
    "z": Action.SPECIALIST_CANCEL,
    "e": Action.SPECIALIST_KEEP,
    "A": Action.ATTEND,
    "M": Action.MARK,
    "T": Action.TAKE_OFFER,
    "N": Action.PASS_OFFER,
    "L": Action.LEAVE_OFFERED,
    "S": Action.SOONER,
    "U": Action.LEAVE_ENTRY,
    "W": Action.WAIT,
    "J": Action.JOIN,
    "a": Action.PLACE,
    "f": Action.NEAREST,
}


def test_every_action_is_routed_and_written_somewhere() -> None:
    assert set(actions.ACTIONS) == set(Action)
    assert set(WRITTEN) == set(Action)


def test_letters_are_single_unique_and_the_ones_already_sent() -> None:
    letters = [action.value for action in Action]
    assert all(len(letter) == 1 for letter in letters)
    assert len(set(letters)) == len(letters) == len(Action.__members__)  # no aliases
    assert {action.value: action for action in Action} == SENT


@pytest.mark.parametrize(
    ("action", "data"), [(action, data) for action, written in WRITTEN.items() for data in written]
)
def test_every_action_decodes_its_own_data(action: Action, data: str) -> None:
    pressed = callbacks.decode(data)
    assert pressed is not None and pressed.action is action
    assert encode(pressed.action, pressed.argument) == data


def _visit(number: int) -> Visit:
    start = START + timedelta(days=number)
    return Visit(
        Booking(
            "ann", "checkup", start, start + timedelta(minutes=40), BookingStatus.HELD, None, number
        ),
        Service("checkup", "Check-up"),
        Specialist("ann", "Dr. Ann Weber"),
    )


def _waiting(number: int) -> Waiting:
    entry = Entry(number, 42, "checkup", None, None, DAY, DAY, START)
    return Waiting(entry, "Check-up", None)


def _built() -> list[InlineKeyboardMarkup]:
    """Every inline keyboard the client flow builds, on a page with arrows both ways."""
    services = [Service(f"s{i}", f"Service {i}") for i in range(25)]
    slots = [Slot("ann", START + timedelta(minutes=20 * i), START) for i in range(50)]
    choices = [
        Choice(Specialist(f"p{i}", f"Person {i}"), slots[i] if i % 2 else None) for i in range(25)
    ]
    shown = Month(DAY, DAY - timedelta(days=40), DAY + timedelta(days=90), {DAY}, DAY, choices[1:2])
    visits = [_visit(i) for i in range(1, 25)]
    places = [
        Place(Location(f"l{i}", f"Place {i}", f"Street {i}", 52.0, 13.0), i * 1.5, slots[i])
        for i in range(25)
    ]
    built = [
        keyboards.places("en", places, 2),
        keyboards.services("en", Offered(services, None), 2),
        keyboards.specialists("en", choices, 2),
        keyboards.month("en", shown),
        keyboards.times("en", slots, DAY, 2),
        keyboards.alternatives("en", slots[:3]),
        keyboards.summary("en", visits[0]),
        keyboards.mine("en", paging.cut(visits, 2), START),
        keyboards.cancel_check("en", 7),
        keyboards.languages("en"),
        waitlist_chat.listing("en", [_waiting(3)])[1],
        waitlist_chat.form_view("en", DAY, DAY + timedelta(days=20), 1, 5)[1],
        keyboards.day_full("en", DAY),
    ]
    arguments = {sender.Action.RATE: "7-5"}
    row = tuple(sender.Button(a.value, a, arguments.get(a, "7")) for a in sender.Action)
    delivered = keyboard((row,))
    assert delivered is not None
    marks = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in one]
            for one in views.marks(visits[:2], "en")
        ]
    )
    return [*built, delivered, marks]


def test_every_button_built_decodes_to_a_routed_action() -> None:
    pressed = [
        callbacks.decode(button.callback_data if isinstance(button.callback_data, str) else None)
        for markup in _built()
        for row in markup.inline_keyboard
        for button in row
    ]
    assert pressed and all(p is not None and p.action in actions.ACTIONS for p in pressed)
    # every action a client or a delivered message shows is among them
    assert {p.action for p in pressed if p} >= set(Action) - {
        Action.CONFIRM_CHANGE,
        Action.KEEP_CHANGE,
        Action.SPECIALIST_KEEP,
    }
