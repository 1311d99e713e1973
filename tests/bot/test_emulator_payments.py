"""The emulator's payments part, with python-telegram-bot's real HTTP client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, LabeledPrice
from telegram.error import BadRequest

from bookbot.testing.emulator import TEST_PROVIDER, BotApiEmulator

TOKEN = "123456:TEST-token"
ALICE = 42


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN) as emulator:
        emulator.user(ALICE, first_name="Alice")
        yield emulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=f"{emu.url}/bot", base_file_url=f"{emu.url}/file/bot") as b:
        yield b


async def invoice(bot: Bot, **changed: object) -> None:
    fields: dict[str, object] = {
        "chat_id": ALICE,
        "title": "Check-up",
        "description": "Check-up with Dr. Ann Weber",
        "payload": "b1.2000.signature",
        "currency": "EUR",
        "prices": [LabeledPrice("Deposit", 2000)],
        "provider_token": TEST_PROVIDER,
        **changed,
    }
    await bot.send_invoice(**fields)  # type: ignore[arg-type]


async def test_an_invoice_is_shown_with_its_amount_in_minor_units(
    bot: Bot, emu: BotApiEmulator
) -> None:
    await invoice(bot)
    shown = emu.invoices(ALICE)[-1].invoice
    assert shown is not None
    assert (shown["currency"], shown["total_amount"], shown["payload"]) == (
        "EUR",
        2000,
        "b1.2000.signature",
    )


@pytest.mark.parametrize(
    ("changed", "error"),
    [
        ({"payload": "x" * 129}, "INVOICE_PAYLOAD_INVALID"),
        ({"currency": "EURO"}, "CURRENCY_INVALID"),
        ({"provider_token": ""}, "PAYMENT_PROVIDER_INVALID"),
        ({"currency": "XTR"}, "PROVIDER_TOKEN_INVALID"),
        (
            {"currency": "XTR", "provider_token": "", "prices": [LabeledPrice("a", 1)] * 2},
            "STARS_INVOICE_INVALID",
        ),
        ({"prices": [LabeledPrice("Deposit", 0)]}, "INVOICE_AMOUNT_INVALID"),
        ({"title": "x" * 33}, "INVOICE_TITLE_INVALID"),
    ],
)
async def test_an_invoice_is_refused_as_telegram_refuses_it(
    bot: Bot, emu: BotApiEmulator, changed: dict[str, object], error: str
) -> None:
    with pytest.raises(BadRequest, match=f"(?i){error}"):
        await invoice(bot, **changed)
    assert emu.invoices(ALICE) == []


async def test_a_pre_checkout_query_is_answered_once_then_the_payment_arrives(
    bot: Bot, emu: BotApiEmulator
) -> None:
    await invoice(bot, currency="XTR", provider_token="", prices=[LabeledPrice("Visit", 100)])
    checking = emu.check_out(ALICE)
    task = asyncio.ensure_future(checking)
    updates = []
    while not updates:
        updates = [u for u in await bot.get_updates(timeout=1) if u.pre_checkout_query]
    query = updates[0].pre_checkout_query
    assert query is not None and query.total_amount == 100 and query.currency == "XTR"
    assert await bot.answer_pre_checkout_query(query.id, ok=True)
    with pytest.raises(BadRequest, match="(?i)QUERY_ID_INVALID"):
        await bot.answer_pre_checkout_query(query.id, ok=True)
    checkout = await task
    paid = await emu.complete(checkout)
    updates = await bot.get_updates(offset=updates[0].update_id + 1, timeout=1)
    got = updates[0].effective_message
    assert got is not None and got.successful_payment is not None
    assert got.successful_payment.telegram_payment_charge_id == paid.telegram_charge_id
    assert await bot.refund_star_payment(ALICE, paid.telegram_charge_id)
    with pytest.raises(BadRequest, match="(?i)CHARGE_ALREADY_REFUNDED"):
        await bot.refund_star_payment(ALICE, paid.telegram_charge_id)
    with pytest.raises(BadRequest, match="(?i)CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(ALICE, "no such charge")
