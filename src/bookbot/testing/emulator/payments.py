"""The payments part of the Bot API, and a user paying an invoice.

sendInvoice is checked as Telegram checks it (title, description, payload within 128
bytes, a known currency, prices in whole minor units, a provider token for money and
none for Telegram Stars); answerPreCheckoutQuery answers a query once; refundStarPayment
returns Stars paid once. A test (or `bookbot try`) pays in two steps, as Telegram does:
:meth:`PaymentActions.check_out` sends the pre_checkout_query and waits for the bot's
answer (Telegram gives it 10 seconds); :meth:`PaymentActions.complete` then sends the
successful_payment message. :meth:`PaymentActions.pay` does both.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from msgspec import Struct, field
from starlette.requests import Request

from .chats import ChatMessage, ChatUser, StoredFile
from .errors import ApiError, bad_request
from .state import EmulatorState

TEST_PROVIDER = "284685063:TEST:bookbot-emulator"  # the shape of a provider's test token
STARS = "XTR"
ANSWER_WITHIN = 10.0  # seconds Telegram waits for answerPreCheckoutQuery
# Currencies Telegram Payments lists (core.telegram.org/bots/payments#supported-currencies).
CURRENCIES = frozenset(
    "AED AFN ALL AMD ARS AUD AZN BAM BDT BGN BHD BND BOB BRL BYN CAD CHF CLP CNY COP CRC CZK "
    "DKK DOP DZD EGP ETB EUR GBP GEL GTQ HKD HNL HRK HUF IDR ILS INR IQD ISK JMD JOD JPY KES "
    "KGS KRW KWD KZT LBP LKR LYD MAD MDL MNT MUR MVR MXN MYR MZN NGN NIO NOK NPR NZD OMR PAB "
    "PEN PHP PKR PLN PYG QAR RON RSD RUB SAR SEK SGD THB TJS TND TRY TTD TWD TZS UAH UGX USD "
    "UYU UZS VND YER ZAR XTR".split()
)
_CHARGES = itertools.count(1)


class Checkout(Struct):
    """One pre-checkout query: the invoice paid, and the bot's answer once it came."""

    id: str
    user_id: int
    invoice: ChatMessage
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    ok: bool | None = None
    error_message: str | None = None


class Paid(Struct, frozen=True):
    """A successful payment as the user's message carried it."""

    user_id: int
    currency: str
    total_amount: int
    payload: str
    telegram_charge_id: str
    provider_charge_id: str

    def to_api(self) -> dict[str, Any]:
        """The Bot API ``SuccessfulPayment`` object."""
        return {
            "currency": self.currency,
            "total_amount": self.total_amount,
            "invoice_payload": self.payload,
            "telegram_payment_charge_id": self.telegram_charge_id,
            "provider_payment_charge_id": self.provider_charge_id,
        }


class PaymentState(EmulatorState):
    """What the payment methods and the paying users share."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.checkouts: dict[str, Checkout] = {}
        self.paid: list[Paid] = []  # every successful payment, in order
        self.star_refunds: list[Paid] = []  # the Star payments refunded


class PaymentMethods(PaymentState):
    """sendInvoice, answerPreCheckoutQuery and refundStarPayment."""

    async def _send_invoice(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        """sendInvoice: an invoice message in the chat, checked as Telegram checks it."""
        chat = self._chat_for(p, "sendInvoice")
        title, description = str(p.get("title") or ""), str(p.get("description") or "")
        if not 1 <= len(title) <= 32:
            raise bad_request("INVOICE_TITLE_INVALID" if title else "title is empty")
        if not 1 <= len(description) <= 255:
            raise bad_request("INVOICE_DESCRIPTION_INVALID")
        payload = str(p.get("payload") or "")
        if not 1 <= len(payload.encode()) <= 128:
            raise bad_request("INVOICE_PAYLOAD_INVALID")
        currency = str(p.get("currency") or "")
        if currency not in CURRENCIES:
            raise bad_request("CURRENCY_INVALID")
        token = str(p.get("provider_token") or "")
        if currency == STARS and token:
            raise bad_request("PROVIDER_TOKEN_INVALID: Telegram Stars take no provider token")
        if currency != STARS and not token:
            raise bad_request("PAYMENT_PROVIDER_INVALID")
        prices = _prices(p.get("prices"), currency)
        invoice = {
            "title": title,
            "description": description,
            "start_parameter": str(p.get("start_parameter") or ""),
            "currency": currency,
            "total_amount": sum(amount for _, amount in prices),
        }
        message = ChatMessage(
            message_id=self._new_message_id(chat.id),
            chat_id=chat.id,
            date=int(time.time()),
            from_bot=True,
            invoice={**invoice, "payload": payload, "prices": prices},
        )
        chat.all_messages.append(message)
        self._touch()
        api = self._message_api(message)
        api["invoice"] = invoice
        return api

    async def _answer_pre_checkout_query(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        """answerPreCheckoutQuery: ok, or a refusal with the message the user is shown."""
        checkout = self.checkouts.get(str(p.get("pre_checkout_query_id") or ""))
        if checkout is None or checkout.answered.is_set():
            raise bad_request("QUERY_ID_INVALID")
        ok = p.get("ok")
        if not isinstance(ok, bool):
            raise bad_request("ok is required")
        error = p.get("error_message")
        if not ok and not error:
            raise bad_request("ERROR_MESSAGE_EMPTY")
        checkout.ok, checkout.error_message = ok, None if ok else str(error)
        checkout.answered.set()
        return True

    async def _refund_star_payment(
        self, p: dict[str, Any], f: dict[str, StoredFile], r: Request
    ) -> Any:
        """refundStarPayment: Stars paid by this user with this charge go back, once."""
        user_id, charge = p.get("user_id"), str(p.get("telegram_payment_charge_id") or "")
        found = next(
            (
                paid
                for paid in self.paid
                if paid.user_id == user_id
                and paid.telegram_charge_id == charge
                and paid.currency == STARS
            ),
            None,
        )
        if found is None:
            raise bad_request("CHARGE_NOT_FOUND")
        if found in self.star_refunds:
            raise bad_request("CHARGE_ALREADY_REFUNDED")
        self.star_refunds.append(found)
        return True


def _prices(value: Any, currency: str) -> list[tuple[str, int]]:
    """The invoice's price parts: labels and whole amounts in minor units, summing above 0."""
    if not isinstance(value, list) or not value:
        raise bad_request("prices must be a non-empty array")
    prices = []
    for part in value:
        label = part.get("label") if isinstance(part, dict) else None
        amount = part.get("amount") if isinstance(part, dict) else None
        if not isinstance(label, str) or not label or type(amount) is not int:
            raise bad_request("can't parse prices JSON object")
        prices.append((label, amount))
    if currency == STARS and len(prices) != 1:
        raise bad_request("STARS_INVOICE_INVALID: one price for Telegram Stars")
    if sum(amount for _, amount in prices) <= 0:
        raise bad_request("INVOICE_AMOUNT_INVALID")
    return prices


class PaymentActions(PaymentState):
    """A user paying an invoice the bot sent them."""

    def invoices(self, user: ChatUser | int) -> list[ChatMessage]:
        """The invoices in a user's chat, oldest first."""
        return [m for m in self.chat(user).all_messages if m.invoice is not None]

    async def check_out(
        self, user: ChatUser | int, invoice: ChatMessage | None = None, amount: int | None = None
    ) -> Checkout:
        """Sends the pre_checkout_query of an invoice (the newest by default); the answer.

        `amount` pays another total than the invoice's (a tampered client). Raises
        TimeoutError when the bot does not answer within Telegram's 10 seconds.
        """
        chat = self.chat(user)
        invoice = invoice or self.invoices(user)[-1]
        assert invoice.invoice is not None
        query_id = str(5_000_000_000_000 + next(_CHARGES))
        checkout = Checkout(query_id, chat.user.id, invoice)
        self.checkouts[query_id] = checkout
        self._enqueue(
            {
                "pre_checkout_query": {
                    "id": query_id,
                    "from": chat.user.to_api(),
                    "currency": invoice.invoice["currency"],
                    "total_amount": invoice.invoice["total_amount"] if amount is None else amount,
                    "invoice_payload": invoice.invoice["payload"],
                }
            }
        )
        await asyncio.wait_for(checkout.answered.wait(), ANSWER_WITHIN)
        return checkout

    async def complete(self, checkout: Checkout) -> Paid:
        """Sends the successful_payment message of a checkout the bot answered ok."""
        if not checkout.ok:
            raise ApiError(400, f"Bad Request: the checkout was refused: {checkout.error_message}")
        invoice = checkout.invoice.invoice
        assert invoice is not None
        number = next(_CHARGES)
        paid = Paid(
            checkout.user_id,
            invoice["currency"],
            invoice["total_amount"],
            invoice["payload"],
            f"tg-charge-{number}",
            "" if invoice["currency"] == STARS else f"provider-charge-{number}",
        )
        self.paid.append(paid)
        self.deliver_payment(paid)
        return paid

    def deliver_payment(self, paid: Paid) -> ChatMessage:
        """Sends a successful_payment message (again, for a test of a repeated delivery)."""
        chat = self.chat(paid.user_id)
        message = ChatMessage(
            message_id=self._new_message_id(chat.id),
            chat_id=chat.id,
            date=int(time.time()),
            from_bot=False,
            successful_payment=paid.to_api(),
        )
        chat.incoming.append(message)
        self._enqueue({"message": message.to_api(chat.user.to_api(), chat.user.chat_api())})
        return message

    async def pay(self, user: ChatUser | int, invoice: ChatMessage | None = None) -> Checkout:
        """Pays an invoice (the newest by default): checkout, then success if answered ok."""
        checkout = await self.check_out(user, invoice)
        if checkout.ok:
            await self.complete(checkout)
        return checkout
