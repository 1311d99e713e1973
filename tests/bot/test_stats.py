"""/stats through the real bot over the Bot API emulator: figures, default range, usage, roles."""

from __future__ import annotations

from tests.bot.staff import ADMIN, say, staffed

__all__ = ["staffed"]  # the fixture, used by name below


async def test_an_admin_sees_the_figures_of_a_range(staffed) -> None:
    h = staffed
    boss = h.emulator.user(ADMIN, "Boss")
    shown = await say(h, boss, "/stats 2026-12-01 2026-12-01")
    assert shown.text.splitlines() == [
        "Figures, 2026-12-01 to 2026-12-01",
        "Visits booked: 1",
        "Cancelled: 0 before the cut-off, 0 after it, 0 by staff",
        "No-shows: 0",
        "Slots refilled from the waitlist: 0",
        "Booked share of open hours:",
        "Dr. Ann Weber: 12.5% (30 of 240 min)",
        "Ben Keller: 0% (0 of 240 min)",
    ]
    # Without dates: the last 30 days up to today (the clock stands on Mon 30 Nov).
    shown = await say(h, boss, "/stats")
    assert shown.text.startswith("Figures, 2026-11-01 to 2026-11-30\nVisits booked: 0\n")


async def test_wrong_ranges_get_usage_and_clients_are_refused(staffed) -> None:
    h = staffed
    boss = h.emulator.user(ADMIN, "Boss")
    cases = {
        "/stats 2026-12-01": "Usage: /stats [FROM TO]",
        "/stats 2026-12-01 2026-12-02 2026-12-03": '"2026-12-03" is one argument too many',
        "/stats tomorrow today": "is before the first date",
        "/stats 2026-01-01 2027-12-31": "400",
        "/stats 2026-12-01 someday": '"someday" is not a date',
    }
    for command, expected in cases.items():
        answer = await say(h, boss, command)
        assert expected in answer.text, (command, answer.text)
        assert "Usage: /stats" in answer.text and "\n" not in answer.text, answer.text
    client = h.emulator.user(77, "Eve")
    assert "Figures" not in (await say(h, client, "/stats")).text
    assert "/stats" not in (await say(h, client, "/help")).text
    assert "/stats: " in (await say(h, boss, "/help")).text


async def test_russian_figures(staffed) -> None:
    h = staffed
    boss = h.emulator.user(ADMIN, "Boss", language_code="ru")
    shown = await say(h, boss, "/stats 2026-12-01 2026-12-01")
    assert "Записей на приём: 1" in shown.text
    assert "Dr. Ann Weber: 12,5% (30 из 240 мин)" in shown.text
