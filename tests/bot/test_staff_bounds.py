"""Hostile arguments to staff commands: a one-line usage each, nothing changed, no crash."""

from __future__ import annotations

from tests.bot.staff import ADMIN, exported, say, staffed

__all__ = ["staffed"]  # the fixture, used by name below

HOSTILE = {
    "/dayoff ann 0001-01-01": '"0001-01-01" is outside the dates taken in, 2000-01-01',
    "/dayoff ann 31.12.2100": "2000-01-01 to 2099-12-31",
    "/dayoff ann ٢٠٢٦-١٢-٠٢": "is not a date",
    "/vacation ann 2026-12-01 9999-12-31": '"9999-12-31" is outside the dates taken in',
    "/schedule ann 9999-12-31": "is outside the dates taken in",
    "/bookings ann 0001-01-01": "is outside the dates taken in",
    "/hours ann 2026-12-03 10:00-12:00 1m": '"1m" should be from 5m to 24h',
    "/hours ann 2026-12-03 10:00-12:00 99999999999h": '"99999999999h" is not a length',
    "/hours ann 2026-12-03 10:00-12:00 30m 25h": '"25h" should be from 1m to 24h',
    "/weekly ann mon 09:00-10:00 25h": '"25h" should be from 5m to 24h',
    "/extra ann 2026-12-04 ١٦:٠٠": "is not a time",
    "/block ann 2026-12-04 ٠٩:٠٠-١٠:٠٠": "is not a time range",
    "/promote ١٢٣": '"١٢٣" is not a Telegram user id',
    f"/promote {2**63}": f'"{2**63}" is not a Telegram user id',
    "/promote " + "9" * 3000: '"' + "9" * 64 + '…" is not a Telegram user id',
    "/addservice xray 9999999999h X-ray": "is not a length",
    "/addservice " + "x" * 61 + " 20m X-ray": "longer than 60 characters",
    "/offer ben checkup,Hygiene": '"Hygiene" is not an id',
}


async def test_hostile_staff_arguments_get_one_line_and_change_nothing(staffed) -> None:
    h = staffed
    boss = h.emulator.user(ADMIN, "Boss")
    before = await exported(h)
    for command, expected in HOSTILE.items():
        answer = await say(h, boss, command)
        assert expected in answer.text, (command[:80], answer.text)
        assert "\n" not in answer.text and "Usage: /" in answer.text, (command[:80], answer.text)
        assert len(answer.text) < 500, command[:80]
    assert await exported(h) == before
    assert "Day off for Dr. Ann Weber" in (await say(h, boss, "/dayoff ann 2099-12-31")).text
