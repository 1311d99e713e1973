"""`bookbot serve`'s web side over real HTTP: review page, tokens, webhook, health."""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime, timedelta

import httpx
import pytest
import uvicorn

from bookbot import clinic_file
from bookbot.config import Settings
from bookbot.engine.model import Client
from bookbot.notify.reviews import token as review_token
from bookbot.services import bookings, reviews
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.testing.clocks import ManualClock
from bookbot.testing.emulator import BotApiEmulator
from bookbot.web.app import WEBHOOK_PATH, webhook_secret
from bookbot.wiring import build_bot, build_web
from tests.clinics import BASIC, NOW

SECRET = "a-test-secret-that-is-long-enough-for-hs256"
T0 = datetime.fromisoformat(NOW)
VISIT = datetime.fromisoformat("2026-12-01T10:20:00+01:00")
AFTER = VISIT + timedelta(days=1)  # the visit has ended: it may be reviewed


@pytest.fixture
async def site(tmp_path):
    """The web app (with its bot) on a loopback port; yields (base url, db, clock, booking id)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'web.db'}"
    db = Database(url)
    await import_clinic(db, clinic_file.read(BASIC))
    made = await bookings.book(db, T0, "ann", "checkup", VISIT, Client("Cleo", "+491", 555))
    clock = ManualClock(T0)
    async with BotApiEmulator() as emulator:
        emulator.user(555, "Cleo")
        settings = Settings(
            token=emulator.token,
            api_url=f"{emulator.url}/bot",
            database_url=url,
            secret=SECRET,
            public_url="http://127.0.0.1:1",
        )
        application = build_bot(settings, db, clock, polling=False)
        web = build_web(application)
        server = uvicorn.Server(
            uvicorn.Config(web, host="127.0.0.1", port=0, log_level="error", lifespan="on")
        )
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}", db, clock, made.id, emulator
        finally:
            server.should_exit = True
            await task


def link(booking_id: int, now: datetime = T0, ttl: timedelta = timedelta(days=7)) -> str:
    return f"/review?token={review_token(booking_id, now, ttl, SECRET)}"


async def test_a_signed_link_opens_the_form_and_stores_one_review(site) -> None:
    base, db, clock, booking_id, _ = site
    clock.now = AFTER
    async with httpx.AsyncClient(base_url=base) as http:
        page = await http.get(link(booking_id))
        assert page.status_code == 200
        assert "Check-up with Dr. Ann Weber, Tuesday 1 December, 10:20" in page.text
        token = link(booking_id).split("=", 1)[1]
        done = await http.post(
            "/review", data={"token": token, "rating": "4", "comment": "Kind and quick"}
        )
        assert done.status_code == 200 and "Your review is saved" in done.text
        again = await http.post("/review", data={"token": token, "rating": "1"})
        assert again.status_code == 410 and "reviewed already" in again.text
        assert "reviewed already" in (await http.get(link(booking_id))).text
    stored = await reviews.listed(db)
    assert [(r.booking_id, r.rating, r.comment) for r in stored] == [
        (booking_id, 4, "Kind and quick")
    ]


async def test_expired_and_forged_links_get_a_clear_page(site) -> None:
    base, db, clock, booking_id, _ = site
    async with httpx.AsyncClient(base_url=base) as http:
        clock.now = T0 + timedelta(days=7)
        expired = await http.get(link(booking_id))
        assert expired.status_code == 410 and "has expired" in expired.text
        clock.now = T0
        forged = review_token(booking_id, T0, timedelta(days=7), "another-secret-" * 3)
        page = await http.get(f"/review?token={forged}")
        assert page.status_code == 403 and "not valid" in page.text
        garbage = await http.get("/review?token=abc.def.ghi")
        assert garbage.status_code == 400 and "damaged" in garbage.text
        bad = await http.post(
            "/review", data={"token": link(booking_id).split("=", 1)[1], "rating": "9"}
        )
        assert bad.status_code == 400 and "from 1 to 5" in bad.text
    assert await reviews.listed(db) == []


async def test_the_webhook_takes_updates_only_with_its_secret(site) -> None:
    base, db, clock, booking_id, emulator = site
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": int(T0.timestamp()),
            "text": "/help",
            "chat": {"id": 555, "type": "private", "first_name": "Cleo"},
            "from": {"id": 555, "is_bot": False, "first_name": "Cleo", "language_code": "en"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    async with httpx.AsyncClient(base_url=base) as http:
        refused = await http.post(
            WEBHOOK_PATH, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
        )
        assert refused.status_code == 403
        taken = await http.post(
            WEBHOOK_PATH,
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": webhook_secret(SECRET)},
        )
        assert taken.status_code == 200
        assert (await http.get("/health")).text == "ok"
    # The update came in by the webhook, not from the emulator, which cannot wait for it:
    # the reply is awaited here (wait_idle's quiet 0.1 s was shorter than a busy handler).
    async with asyncio.timeout(30):  # the confirmation sent meanwhile may come before it
        while not any(t.startswith("I book appointments") for t in emulator.chat(555).texts):
            await asyncio.sleep(0.05)
    assert emulator.calls_to("setWebhook")[0].params["url"] == "http://127.0.0.1:1/telegram"


async def test_a_person_rates_in_a_real_browser(site) -> None:
    """Headless Chromium opens the review link, picks four stars, sends; the review is stored."""
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, db, clock, booking_id, _ = site
    clock.now = AFTER
    options = webdriver.ChromeOptions()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-sync",
        "--disable-component-update",
    ):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")

    def browse() -> str:
        driver = webdriver.Chrome(options=options, service=service)
        try:
            driver.get(base + link(booking_id))
            # The page's style runs under its Content-Security-Policy (allowed by its hash).
            body = driver.find_element(By.TAG_NAME, "body")
            assert body.value_of_css_property("max-width") == "512px"
            driver.find_element(By.CSS_SELECTOR, "input[name=rating][value='4']").click()
            driver.find_element(By.ID, "comment").send_keys("Lovely")
            driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            # The answer page replaces the form; wait for it rather than read a stale one.
            WebDriverWait(driver, 30, ignored_exceptions=(StaleElementReferenceException,)).until(
                lambda d: "saved" in d.find_element(By.TAG_NAME, "h1").text
            )
            return driver.find_element(By.TAG_NAME, "h1").text
        finally:
            driver.quit()

    heading = await asyncio.to_thread(browse)
    assert heading == "Thank you! Your review is saved."
    assert [(r.rating, r.comment) for r in await reviews.listed(db)] == [(4, "Lovely")]
