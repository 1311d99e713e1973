"""Staff menus as Telegram allows them, /demote, and a relinked specialist's old account."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from bookbot import clinic_file
from bookbot.notify import messages
from bookbot.services import people
from bookbot.services.clinic import import_clinic
from bookbot.services.people import Actor
from bookbot.store.tables import OutboxRow
from bookbot.store.uow import UnitOfWork
from tests.bot.staff import ADMIN, arrives, link, say, staffed
from tests.clinics import BASIC, NOW

__all__ = ["staffed"]  # the fixture, used by name below


def menu(h, chat_id: int, lang: str = "en") -> list[str]:  # type: ignore[no-untyped-def]
    """The commands the person's own chat shows, in a language."""
    return [c["command"] for c in h.emulator.commands({"type": "chat", "chat_id": chat_id}, lang)]


def chat_menus_set(h, chat_id: int) -> int:  # type: ignore[no-untyped-def]
    """How many times the bot set a menu in this chat and Telegram took it."""
    return sum(
        1
        for call in h.emulator.calls_to("setMyCommands")
        if call.ok and (call.params.get("scope") or {}).get("chat_id") == chat_id
    )


async def test_a_menu_refused_at_start_up_is_set_at_the_first_message_once(staffed) -> None:
    h = staffed
    # ADMIN is in BOOKBOT_ADMINS but never wrote: Telegram refused their menu at start-up,
    # and the bot started all the same.
    refused = [c for c in h.emulator.calls_to("setMyCommands") if not c.ok]
    assert refused and all("chat not found" in (c.description or "").lower() for c in refused)
    assert menu(h, ADMIN) == []
    boss = h.emulator.user(ADMIN, "Boss")
    assert "/start" in (await say(h, boss, "/help")).text  # any first message will do
    assert "promote" in menu(h, ADMIN) and "demote" in menu(h, ADMIN)
    assert (
        dict(
            (c["command"], c["description"])
            for c in h.emulator.commands({"type": "chat", "chat_id": ADMIN}, "ru")
        )["demote"]
        == "снять права администратора"
    )
    taken = chat_menus_set(h, ADMIN)
    await say(h, boss, "/help")
    await h.restart()  # remembered in the database: not set again, neither here nor at start
    await say(h, boss, "/help")
    assert chat_menus_set(h, ADMIN) == taken
    assert "demote" in menu(h, ADMIN)


async def test_demote_takes_back_promote_and_its_menu(staffed) -> None:
    h = staffed
    boss = h.emulator.user(ADMIN, "Boss")
    helper = h.emulator.user(700, "Helper")
    await say(h, helper, "/help")
    assert (await say(h, boss, "/promote 700")).text == "700 is an admin now."
    assert "promote" in menu(h, 700)
    assert "Day off for Ben Keller" in (await say(h, helper, "/dayoff ben 2026-12-03")).text

    assert (await say(h, boss, "/demote 700")).text == "700 is no longer an admin."
    assert menu(h, 700) == [] and menu(h, 700, "ru") == []  # back to the clients' menu
    assert (await say(h, helper, "/dayoff ben 2026-12-04")).text == (
        "Sorry, this command is for admins."
    )
    assert (await say(h, helper, "/demote 500")).text == "Sorry, this command is for admins."
    assert (await say(h, boss, "/demote 700")).text == (
        "700 is not an admin promoted in the chat; nothing changed."
    )
    assert (await say(h, boss, f"/demote {ADMIN}")).text == (
        f"{ADMIN} is an admin by BOOKBOT_ADMINS; only that setting can change it."
    )
    assert "Day off for Ben Keller" in (await say(h, boss, "/dayoff ben 2026-12-05")).text
    for wrong in ("/demote", "/demote ١٢٣", f"/demote {2**63}"):
        answer = await say(h, boss, wrong)
        assert "Usage: /demote TELEGRAM_ID" in answer.text and "\n" not in answer.text, wrong

    # A promoted admin who is also a linked specialist keeps the specialist's menu.
    ann = h.emulator.user(601, "Ann")
    await link(h, "ann", ann)
    await say(h, boss, "/promote 601")
    assert "promote" in menu(h, 601) and "today" in menu(h, 601)
    await say(h, boss, "/demote 601")
    assert "promote" not in menu(h, 601) and "today" in menu(h, 601)
    await h.restart()
    assert menu(h, 700) == [] and "promote" not in menu(h, 601)


async def test_a_relinked_specialist_s_old_account_is_told_and_loses_the_menu(staffed) -> None:
    h = staffed
    old, new = h.emulator.user(601, "Ann"), h.emulator.user(611, "Ann's new phone")
    await link(h, "ann", old)
    assert "today" in menu(h, 601)
    welcome = await link(h, "ann", new)
    assert welcome.text.startswith("Welcome, Dr. Ann Weber!")
    told = await arrives(h, old, "no longer linked")
    assert told.text.startswith(
        "This Telegram account is no longer linked to Dr. Ann Weber: an invite link"
    )
    assert menu(h, 601) == [] and "today" in menu(h, 611)
    assert (await say(h, old, "/today")).text == "Sorry, this command is for admins."


async def test_relinking_owes_the_old_account_a_notice_with_the_link(db) -> None:
    now = datetime.fromisoformat(NOW)
    await import_clinic(db, clinic_file.read(BASIC), now)
    boss = Actor(ADMIN, admin=True)

    async def owed() -> list[tuple[str, int, dict, str]]:
        async with UnitOfWork(db, write=False) as uow:
            rows = await uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id))
            return [(r.kind, r.chat_id, json.loads(r.payload), r.status) for r in rows]

    first = await people.invite(db, now, boss, "ann")
    await people.link(db, now, 601, first.code)
    assert await owed() == []  # a first link replaces nobody
    again = await people.invite(db, now, boss, "ann")
    await people.link(db, now, 601, again.code)
    assert await owed() == []  # the same account again: nobody to tell
    moved = await people.invite(db, now, boss, "ann")
    linked = await people.link(db, now, 611, moved.code)
    assert linked.previous == 601
    assert await owed() == [(messages.UNLINKED, 601, {"specialist": "Dr. Ann Weber"}, "pending")]
