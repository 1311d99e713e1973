"""`bookbot try`: the whole flow played in a terminal, scripted here."""

from __future__ import annotations

from datetime import datetime

from bookbot.bot.play import play
from bookbot.services.booked import list_bookings
from bookbot.store.db import Database


async def test_a_newcomer_books_a_visit_in_the_terminal(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'try.db'}"
    now = datetime.fromisoformat("2026-11-30T08:00:00+01:00")
    script = iter(["1", "5", "5", "1", "1", "Anna Smith +49 151 1234567", "1", "/my", "q"])
    printed: list[str] = []

    async def read(prompt: str) -> str | None:
        return next(script, None)

    await play(url, "en", read=read, write=printed.append, clock=lambda: now)
    screen = "\n".join(printed)
    assert "[1] Check-up" in screen and "Where would you like to come?" in screen
    assert "[5] Any place" in screen and "[5] Any available" in screen
    assert "Booked ✅" in screen and "booking-12.ics" in screen  # after the demo's eleven
    assert "Your coming bookings:" in screen
    db = Database(url)
    try:
        made = [b for b in await list_bookings(db) if b.client and b.client.name]
    finally:
        await db.close()
    assert any(b.client.name == "Anna Smith" and b.client.phone == "+491511234567" for b in made)


async def test_nearest_to_me_lists_the_demo_branches_by_distance_and_pins_the_map(
    tmp_path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'try.db'}"
    now = datetime.fromisoformat("2026-11-30T08:00:00+01:00")
    # Check-up, Nearest to me, share (the player is near Schwabing), Schwabing, Ben, …
    steps = ["1", "4", "7", "1", "1", "1", "1", "Anna Smith +49 151 1234567", "1"]
    script = iter([*steps, "q"])
    printed: list[str] = []

    async def read(prompt: str) -> str | None:
        return next(script, None)

    await play(url, "en", read=read, write=printed.append, clock=lambda: now)
    screen = "\n".join(printed)
    assert "[7] 📍 Share my location" in screen
    assert (
        "[1] Munich Schwabing, Leopoldstr. 50, 80802 München · Mon 30 Nov 09:00 · 0.2 km" in screen
    )
    assert "[3] Salzburg, Getreidegasse 9, 5020 Salzburg · Tue 1 Dec 10:00 · 115.6 km" in screen
    assert "Booked ✅\n  │ Check-up with Ben Keller" in screen
    assert (
        "📍 Munich Schwabing, Leopoldstr. 50, 80802 München (map pin at 48.1612, 11.5856)" in screen
    )


async def test_a_newcomer_pays_the_deposit_of_a_filling_with_the_test_card(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'try.db'}"
    now = datetime.fromisoformat("2026-11-30T08:00:00+01:00")
    steps = ["3", "5", "1", "1", "1", "Anna Smith +49 151 1234567", "1"]
    script = iter([*steps, "pay", "1111", "pay", "4242 4242 4242 4242", "q"])
    printed: list[str] = []

    async def read(prompt: str) -> str | None:
        return next(script, None)

    await play(url, "en", read=read, write=printed.append, clock=lambda: now)
    screen = "\n".join(printed)
    assert "🧾 Invoice: Filling, €30.00" in screen
    assert "Declined: in this terminal only the test card" in screen
    assert "Paid €30.00. Booked: Filling with Dr. Ann Weber" in screen
    assert (
        "📍 Munich Altstadt, Marienplatz 8, 80331 München (map pin at 48.1374, 11.5755)" in screen
    )


async def test_a_second_session_on_the_same_database_is_answered(tmp_path) -> None:
    # Each session has a new emulator; its update ids must not repeat the first session's,
    # or the bot's inbox takes them for redeliveries and never answers.
    url = f"sqlite+aiosqlite:///{tmp_path / 'try.db'}"
    now = datetime.fromisoformat("2026-11-30T08:00:00+01:00")
    booking = ["1", "5", "5", "1", "1", "Anna Smith +49 151 1234567", "1", "q"]
    for script, seen in ((booking, "Booked ✅"), (["/my", "q"], "Your coming bookings:")):
        lines = iter(script)
        printed: list[str] = []

        async def read(prompt: str, lines=lines) -> str | None:
            return next(lines, None)

        await play(url, "en", read=read, write=printed.append, clock=lambda: now)
        screen = "\n".join(printed)
        assert "Hello! What would you like to book?" in screen and seen in screen
