"""The chat's side of payments: the invoice, the pre-checkout answer, the payment, refunds.

Every decision is services/payments.py's (and the engine's behind it). The invoice's
payload is signed with `BOOKBOT_SECRET`, else the bot token: both stay on the server.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from telegram import LabeledPrice, Update

from bookbot import i18n
from bookbot.bot import arguments, keyboards, outbox, refunds, venues
from bookbot.bot.context import BotContext, language
from bookbot.bot.handlers import staff
from bookbot.bot.handlers.staff import Call
from bookbot.config import Settings
from bookbot.deps import Deps
from bookbot.engine.money import STARS
from bookbot.engine.payments import Payment
from bookbot.engine.policy import Prepay
from bookbot.engine.workday import zone
from bookbot.errors import BadInput, BookbotError
from bookbot.notify import terms
from bookbot.services import availability, catalog, payments, places, schedules
from bookbot.services.visits import Visit

TITLE = 32  # characters of an invoice's title (Bot API)
DESCRIPTION = 255  # characters of its description
PAST = timedelta(days=29)  # /payments without dates: the last 30 days, today included


def key(settings: Settings) -> str:
    """What signs invoice payloads: the bot's secret, else its token."""
    return settings.secret or settings.require_token()


def provider(settings: Settings) -> bool:
    """Tells whether a payment provider's token is set."""
    return settings.payment_token is not None


def _amount(amount: int, currency: str, lang: str) -> str:
    return i18n.price(amount, currency, lang)


async def ask(update: Update, context: BotContext, lang: str, visit: Visit) -> None:
    """A visit awaiting payment: says so under the summary, and sends its invoice."""
    d, booking = context.deps, visit.booking
    assert booking.due is not None and booking.hold_until is not None and booking.id is not None
    currency = visit.business.currency
    assert currency is not None  # a payment is asked only in the business's currency
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    when = i18n.moment(booking.start, lang)
    await query.edit_message_text(
        i18n.text(
            "payment.pay",
            lang,
            service=visit.service.name,
            specialist=visit.specialist.name,
            when=when,
            amount=_amount(booking.due, currency, lang),
            until=i18n.clock(booking.hold_until, lang),
        )
    )
    deposit = visit.service.prepay == Prepay.DEPOSIT and booking.due == visit.service.deposit
    label = i18n.text("payment.deposit" if deposit else "payment.full", lang)
    await context.bot.send_invoice(
        chat_id=chat.id,
        title=visit.service.name[:TITLE],
        description=i18n.text(
            "payment.description",
            lang,
            service=visit.service.name,
            specialist=visit.specialist.name,
            when=when,
        )[:DESCRIPTION],
        payload=payments.payload(booking.id, booking.due, key(d.settings)),
        currency=currency,
        prices=[LabeledPrice(label, booking.due)],
        provider_token="" if currency == STARS else d.settings.payment_token,
    )


async def refund_lines(d: Deps, booking_id: int, lang: str) -> list[str]:
    """What a cancelled visit's client is told of their money: each payment owed back."""
    return [
        i18n.text("payment.refund_coming", lang, amount=_amount(p.amount, p.currency, lang))
        for p in await payments.owed_back(d.db, booking_id)
    ]


async def pre_checkout(update: Update, context: BotContext) -> None:
    """Answers a pre-checkout query: ok only while the hold is live and the amount matches."""
    query, d = update.pre_checkout_query, context.deps
    assert query is not None
    try:
        refusal = await payments.check(
            d.db,
            d.clock(),
            query.from_user.id,
            query.invoice_payload,
            query.total_amount,
            query.currency,
            key(d.settings),
        )
    except BookbotError as error:  # answered all the same: Telegram waits 10 s at most
        refusal = error.key
    if refusal is None:
        await query.answer(ok=True)
        return
    await query.answer(ok=False, error_message=i18n.text(refusal, await language(update, context)))


async def paid(update: Update, context: BotContext) -> None:
    """A successful payment: confirms its visit (or owes it back) and tells the client."""
    message, d = update.effective_message, context.deps
    assert message is not None and message.successful_payment is not None
    assert update.effective_user is not None
    got, now = message.successful_payment, d.clock()
    lang = await language(update, context)
    try:
        taken = await _take(update, context, now)
    except BookbotError as error:
        await message.reply_text(i18n.text(error.key, lang, **error.params))
        return
    if taken.outcome is payments.Outcome.AGAIN:
        return
    visit, amount = taken.visit, _amount(got.total_amount, got.currency, lang)
    if taken.outcome is payments.Outcome.CONFIRMED:
        said = i18n.text(
            "payment.confirmed",
            lang,
            amount=amount,
            service=visit.service.name,
            specialist=visit.specialist.name,
            when=i18n.moment(visit.booking.start, lang),
        )
        await message.reply_text("\n".join([said, *terms.place(visit, lang)]))
        await venues.pin(update, visit)
        outbox.wake(context)
        return
    said = i18n.text(f"payment.{taken.outcome}", lang, amount=amount)
    nearby = await availability.neighbours(
        d.db,
        now,
        visit.booking.service,
        visit.booking.specialist,
        visit.booking.start,
        places.chosen(visit.booking.location),
    )
    if nearby:
        said += "\n" + i18n.text("payment.alternatives", lang)
    await message.reply_text(said, reply_markup=keyboards.alternatives(lang, nearby))
    await refunds.give_back(context.bot, d)


async def _take(update: Update, context: BotContext, now: datetime) -> payments.Taken:
    """Hands the payment a message carries to its use case."""
    message, d = update.effective_message, context.deps
    assert message is not None and message.successful_payment is not None
    assert update.effective_user is not None
    got = message.successful_payment
    return await payments.take(
        d.db,
        now,
        update.effective_user.id,
        Payment(
            0,
            got.total_amount,
            got.currency,
            got.telegram_payment_charge_id,
            got.provider_payment_charge_id or None,
            now,
        ),
        got.invoice_payload,
        key(d.settings),
        d.policy,
    )


# -- staff --------------------------------------------------------------------------------


async def _payments(call: Call) -> None:
    roster = await catalog.roster(call.deps.db)
    today = schedules.today(call.now, roster.timezone)
    first, last = today - PAST, today
    if call.args:
        arguments.need(call.args, 2)
        if len(call.args) > 2:
            raise BadInput("admin.bad.extra", value=call.args[2])
        first, last = arguments.day(call.args[0], today), arguments.day(call.args[1], today)
    tz = zone(roster.timezone)
    since = datetime.combine(first, time(0), tzinfo=tz)
    until = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    found = await payments.listing(call.deps.db, call.actor, since, until)
    if not found:
        await call.reply(i18n.text("payment.none", call.lang))
        return
    lines = [
        i18n.text(
            "payment.title",
            call.lang,
            first=i18n.day(first, call.lang),
            last=i18n.day(last, call.lang),
        )
    ]
    for payment, visit in found:
        state = "owed" if payment.refund_owed else "returned" if payment.refunded_at else "paid"
        lines.append(
            i18n.text(
                "payment.line",
                call.lang,
                id=payment.id,
                paid=i18n.brief(payment.paid_at.astimezone(tz), call.lang),
                amount=_amount(payment.amount, payment.currency, call.lang),
                service=visit.service.name,
                when=i18n.brief(visit.booking.start, call.lang),
                client=visit.booking.client.telegram_id if visit.booking.client else "—",
                state=i18n.text(f"payment.{state}", call.lang),
            )
        )
    await call.reply("\n".join(lines))


async def _refund(call: Call) -> None:
    payment_id = arguments.noshow(call.args)  # one id, of a payment here
    await payments.refund(call.deps.db, call.now, call.actor, payment_id)
    await call.reply(i18n.text("payment.marked", call.lang, id=payment_id))


# name → (what it does, may a linked specialist use it for themselves)
COMMANDS: dict[str, tuple[staff.Body, bool]] = {
    "payments": (_payments, False),
    "refund": (_refund, False),
}
