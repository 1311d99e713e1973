"""The review page and health under hostile input, on SQLite and PostgreSQL, in process.

Every answer is a page with a clear status (never a 500), carries the security headers,
and stores a review only for a visit that ended and was not cancelled.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import json
import logging
from base64 import b64encode, urlsafe_b64encode
from datetime import datetime, timedelta
from hashlib import sha256

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.routing import Route

from bookbot import clinic_file
from bookbot.config import Settings
from bookbot.engine.model import Client
from bookbot.notify.reviews import token as review_token
from bookbot.services import bookings, reviews
from bookbot.services.clinic import import_clinic
from bookbot.store.db import Database
from bookbot.store.tables import ReviewRow
from bookbot.store.uow import UnitOfWork
from bookbot.testing.clocks import ManualClock
from bookbot.web.app import WEBHOOK_PATH
from bookbot.wiring import build_bot, build_web
from tests.clinics import BASIC, NOW

SECRET = "a-test-secret-that-is-long-enough-for-hs256"
T0 = datetime.fromisoformat(NOW)
VISIT = datetime.fromisoformat("2026-12-01T10:20:00+01:00")  # Tue, a 30-minute check-up
END = VISIT + timedelta(minutes=30)
AFTER = END + timedelta(days=1)
SAFE = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def app_on(url: str, db: Database, clock: ManualClock):  # type: ignore[no-untyped-def]
    """The web app of `bookbot serve` on a database, without starting its bot."""
    config = Settings(token="1:test", database_url=url, secret=SECRET)
    application = build_bot(config, db, clock, polling=False)
    return build_web(application, manage_bot=False)


@pytest.fixture
async def web(db_url):  # type: ignore[no-untyped-def]
    """(http client, db, clock, booking id, app): one booked visit, the clock a day after it."""
    db = Database(db_url)
    await import_clinic(db, clinic_file.read(BASIC))
    made = await bookings.book(db, T0, "ann", "checkup", VISIT, Client("Cleo", "+491", 555))
    clock = ManualClock(AFTER)
    app = app_on(db_url, db, clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://bookbot.test") as http:
        yield http, db, clock, made.id, app
    await db.close()


def token(booking_id: int, now: datetime = AFTER) -> str:
    return review_token(booking_id, now, timedelta(days=7), SECRET)


def forge(header: object, claims: object, key: str = SECRET) -> str:
    """A JWT with any header and claims, signed with HS256 by `key` whatever they say."""

    def part(value: object) -> str:
        return urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signed = f"{part(header)}.{part(claims)}"
    mac = hmac.new(key.encode(), signed.encode(), sha256).digest()
    return f"{signed}.{urlsafe_b64encode(mac).rstrip(b'=').decode()}"


async def stored(db: Database) -> int:
    """How many review rows there are, listed or not."""
    async with UnitOfWork(db, write=False) as uow:
        return await uow.session.scalar(select(func.count()).select_from(ReviewRow))


def secured(response: httpx.Response) -> None:
    """Asserts the security headers every answer carries."""
    assert {name: response.headers.get(name) for name in SAFE} == SAFE, response.url
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "form-action 'self'" in policy


# -- the one rule: only a visit that ended and was not cancelled ---------------------------


async def test_a_visit_is_reviewed_only_once_it_has_ended(web) -> None:
    http, db, clock, booking_id, _ = web
    link = token(booking_id, T0)
    for moment in (T0, VISIT, END - timedelta(seconds=1)):
        clock.now = moment
        page = await http.get("/review", params={"token": link})
        assert page.status_code == 403 and "once it has ended" in page.text
        posted = await http.post("/review", data={"token": link, "rating": "1"})
        assert posted.status_code == 403 and "once it has ended" in posted.text
    assert await stored(db) == 0
    clock.now = END
    assert (await http.get("/review", params={"token": link})).status_code == 200
    done = await http.post("/review", data={"token": link, "rating": "5"})
    assert done.status_code == 200 and "saved" in done.text
    assert [(r.booking_id, r.rating) for r in await reviews.listed(db)] == [(booking_id, 5)]


async def test_a_cancelled_visit_cannot_be_reviewed(web) -> None:
    http, db, clock, booking_id, _ = web
    await bookings.cancel(db, T0, booking_id, by="specialist", reason="ill")
    page = await http.get("/review", params={"token": token(booking_id)})
    assert page.status_code == 410 and "was cancelled" in page.text
    posted = await http.post("/review", data={"token": token(booking_id), "rating": "1"})
    assert posted.status_code == 410 and "was cancelled" in posted.text
    assert await stored(db) == 0


async def test_a_review_leaves_every_list_when_its_visit_is_cancelled_later(web) -> None:
    http, db, clock, booking_id, _ = web
    await http.post("/review", data={"token": token(booking_id), "rating": "2"})
    assert [r.booking_id for r in await reviews.listed(db, "ann")] == [booking_id]
    await bookings.cancel(db, AFTER, booking_id, by="admin", reason="entered by mistake")
    assert await reviews.listed(db) == [] and await reviews.listed(db, "ann") == []


# -- odd links and odd forms ---------------------------------------------------------------


def odd_tokens(booking_id: int) -> list[tuple[str, int, str]]:
    """(token, status, words on the page) for links that are not a valid one of ours."""
    header = {"alg": "HS256", "typ": "JWT"}
    later = int((AFTER + timedelta(days=1)).timestamp())
    return [
        ("", 400, "damaged"),
        ("abc.def.ghi", 400, "damaged"),
        ("x" * 5000, 400, "damaged"),
        (token(booking_id)[:-3], 403, "not valid"),
        (
            review_token(booking_id, AFTER, timedelta(days=7), "another-secret-" * 3),
            403,
            "not valid",
        ),
        (token(booking_id, AFTER - timedelta(days=8)), 410, "expired"),
        (token(999_999), 404, "no visit"),
        (forge(header, {"sub": "99999999999999999999", "exp": later}), 400, "damaged"),
        (forge(header, {"sub": str(2**31), "exp": later}), 400, "damaged"),
        (forge(header, {"sub": "١", "exp": later}), 400, "damaged"),
        (forge(header, {"sub": "-1", "exp": later}), 400, "damaged"),
        (forge(header, {"sub": "1.5", "exp": later}), 400, "damaged"),
        (forge(header, {"sub": 1, "exp": later}), 400, "damaged"),
        (forge(header, {"sub": str(booking_id), "exp": str(later)}), 400, "damaged"),
        (forge(header, {"sub": str(booking_id), "exp": True}), 400, "damaged"),
        (forge(header, {"sub": str(booking_id), "exp": 1e30}), 400, "damaged"),
        (forge(header, {"sub": str(booking_id)}), 400, "damaged"),
        (forge(header, [1, 2]), 400, "damaged"),
        (forge({"alg": "none"}, {"sub": str(booking_id), "exp": later}), 400, "damaged"),
        (forge({"alg": ["HS256"]}, {"sub": str(booking_id), "exp": later}), 400, "damaged"),
    ]


async def test_odd_links_get_a_clear_page_never_a_500(web) -> None:
    http, db, clock, booking_id, _ = web
    for odd, status, words in odd_tokens(booking_id):
        for answer in (
            await http.get("/review", params={"token": odd}),
            await http.post("/review", data={"token": odd, "rating": "3"}),
        ):
            assert (answer.status_code, words in answer.text) == (status, True), odd[:80]
            secured(answer)
    missing = await http.get("/review")
    assert missing.status_code == 400 and "damaged" in missing.text
    assert await stored(db) == 0


async def test_a_used_link_is_gone(web) -> None:
    http, db, clock, booking_id, _ = web
    first = await http.post("/review", data={"token": token(booking_id), "rating": "4"})
    assert first.status_code == 200
    for again in (
        await http.get("/review", params={"token": token(booking_id)}),
        await http.post("/review", data={"token": token(booking_id), "rating": "1"}),
    ):
        assert again.status_code == 410 and "reviewed already" in again.text
    assert [r.rating for r in await reviews.listed(db)] == [4]


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"rating": "0"}, "from 1 to 5"),
        ({"rating": "6"}, "from 1 to 5"),
        ({"rating": "4.5"}, "from 1 to 5"),
        ({"rating": "²"}, "from 1 to 5"),
        ({"rating": "٣"}, "from 1 to 5"),
        ({"rating": "9" * 5000}, "from 1 to 5"),
        ({}, "from 1 to 5"),
        ({"rating": "3", "comment": "y" * 2001}, "at most 2000 characters"),
        ({"rating": "3", "comment": "nul \x00 inside"}, "without control characters"),
    ],
)
async def test_odd_form_fields_are_refused_and_change_nothing(web, fields, words) -> None:
    http, db, clock, booking_id, _ = web
    answer = await http.post("/review", data={"token": token(booking_id), **fields})
    assert answer.status_code == 400 and words in answer.text
    secured(answer)
    assert await stored(db) == 0


async def test_a_comment_of_2000_characters_with_line_breaks_is_kept_whole(web) -> None:
    http, db, clock, booking_id, _ = web
    comment = ("line\r\n" * 400)[:2000]  # a browser sends CRLF but counts each break as one
    answer = await http.post(
        "/review", data={"token": token(booking_id), "rating": "3", "comment": comment}
    )
    assert answer.status_code == 200
    assert [r.comment for r in await reviews.listed(db)] == [comment.replace("\r\n", "\n").strip()]


async def test_a_huge_form_is_refused_before_it_is_read_whole(web) -> None:
    http, db, clock, booking_id, _ = web
    body = f"token={token(booking_id)}&rating=3&comment=" + "z" * 5_000_000
    answer = await http.post(
        "/review", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 413 and "too large" in answer.text
    many = "&".join(f"f{i}=1" for i in range(50))
    assert (await http.post("/review", content=many)).status_code == 400
    assert await stored(db) == 0


async def test_pages_speak_the_language_asked_for(web) -> None:
    http, db, clock, booking_id, _ = web
    answer = await http.get(
        "/review", params={"token": "abc"}, headers={"accept-language": "ru-RU,ru;q=0.9"}
    )
    assert answer.status_code == 400 and "повреждена" in answer.text


# -- random links and forms ----------------------------------------------------------------

LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats()
    | st.text(max_size=12)
    | st.integers(-(2**70), 2**70).map(str)
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
CLAIMS = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            name: VALUES for name in ("sub", "exp", "iat", "nbf", "aud", "iss", "jti", "bid")
        },
    ),
    st.fixed_dictionaries(
        {
            "sub": st.integers(1, 3).map(str) | st.integers(-5, 2**64).map(str),
            "exp": st.integers(-(2**40), 2**70) | VALUES,
        }
    ),
    VALUES,
)
HEADERS = st.one_of(
    st.fixed_dictionaries(
        {"alg": st.just("HS256")}, optional={name: VALUES for name in ("typ", "kid", "crit", "b64")}
    ),
    VALUES,
)
TOKENS = st.one_of(
    st.text(max_size=300),
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=", max_size=300
    ),
    st.builds(forge, HEADERS, CLAIMS, st.sampled_from([SECRET, "another-secret-" * 3])),
)
FIELDS = (
    st.text(max_size=20)
    | st.integers(-(2**70), 2**70).map(str)
    | st.sampled_from(["1", "2", "3", "4", "5"])
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(odd=TOKENS, rating=FIELDS, comment=st.none() | st.text(max_size=2500))
async def test_no_token_or_form_ever_gets_a_500(web, odd, rating, comment) -> None:
    http, db, clock, booking_id, _ = web
    form = {"token": odd, "rating": rating} | ({} if comment is None else {"comment": comment})
    for answer in (
        await http.get("/review", params={"token": odd}),
        await http.post("/review", data=form),
    ):
        assert answer.status_code in (200, 400, 403, 404, 410, 413), answer.text
        assert answer.headers["content-type"].startswith("text/html")
        secured(answer)


# -- headers everywhere, and a health that says nothing more --------------------------------


async def test_every_answer_carries_the_security_headers(web) -> None:
    http, db, clock, booking_id, app = web

    async def broken(request):  # type: ignore[no-untyped-def]
        raise RuntimeError("a secret detail of the failure")

    app.router.routes.append(Route("/broken", broken))
    answers = {
        "form": await http.get("/review", params={"token": token(booking_id)}),
        "refused": await http.get("/review", params={"token": "abc"}),
        "posted": await http.post("/review", data={"token": token(booking_id), "rating": "5"}),
        "health": await http.get("/health"),
        "webhook refused": await http.post(WEBHOOK_PATH, json={}),
        "wrong method": await http.get(WEBHOOK_PATH),
        "not found": await http.get("/nothing-here"),
        "failure": await http.get("/broken"),
    }
    assert {name: a.status_code for name, a in answers.items()} == {
        "form": 200,
        "refused": 400,
        "posted": 200,
        "health": 200,
        "webhook refused": 403,
        "wrong method": 405,
        "not found": 404,
        "failure": 500,
    }
    for answer in answers.values():
        secured(answer)
    assert "went wrong on our side" in answers["failure"].text
    assert "secret detail" not in answers["failure"].text


async def test_the_review_form_works_under_its_own_content_security_policy(web) -> None:
    """The inline style is allowed by its hash, and the form posts to this site only."""
    http, db, clock, booking_id, _ = web
    page = await http.get("/review", params={"token": token(booking_id)})
    style = page.text.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = b64encode(sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in page.headers["content-security-policy"]
    assert "<script" not in page.text and "action=/review" in page.text


async def test_health_says_ok_when_the_database_answers(web) -> None:
    http, *_ = web
    answer = await http.get("/health")
    assert (answer.status_code, answer.text) == (200, "ok")


@pytest.mark.parametrize(
    "unreachable",
    [
        "postgresql+asyncpg://postgres@127.0.0.1:1/nothing",
        "sqlite+aiosqlite:///{tmp}/no/such/folder/bookbot.db",
    ],
)
async def test_health_never_shows_the_database_error(unreachable, tmp_path, caplog) -> None:
    url = unreachable.format(tmp=tmp_path)
    db = Database(url)
    app = app_on(url, db, ManualClock(AFTER))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with caplog.at_level(logging.WARNING, logger="bookbot.web"):
        async with httpx.AsyncClient(transport=transport, base_url="http://bookbot.test") as http:
            answer = await http.get("/health")
    await db.close()
    # aiosqlite stops the thread of a connection that never opened only when it is collected:
    # collect it while this loop still runs, so the thread's last reply has a loop to land in.
    gc.collect()
    await asyncio.sleep(0.1)
    assert (answer.status_code, answer.text) == (503, "unavailable")
    secured(answer)
    logged = [r for r in caplog.records if r.name.startswith("bookbot.web")]
    assert logged and logged[0].exc_info is not None  # the cause is in the server's log
