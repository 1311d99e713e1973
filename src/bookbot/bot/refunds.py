"""Giving Telegram Stars back: the refunds owed that the bot makes itself, and the client told.

A provider's refund is made by the admins outside Telegram and closed with /refund; Stars
go back through the Bot API (refundStarPayment), so the bot makes those as soon as they
are owed: after a late payment, and on every round of the outbox (bot/outbox.py).
"""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import BadRequest, Forbidden

from bookbot import i18n
from bookbot.deps import Deps
from bookbot.engine.payments import Payment
from bookbot.errors import Refused
from bookbot.services import chat, payments
from bookbot.services.visits import Visit

LOG = logging.getLogger(__name__)


async def give_back(bot: Bot, d: Deps) -> None:
    """Refunds every Telegram Stars payment owed back, and tells each client.

    Run by the outbox's round (bot/outbox.py) and at once after a late payment. A refund
    Telegram refuses stays owed (listed by /payments); one it already made is recorded.
    """
    for owed in await payments.stars_owed(d.db):
        payment = owed.payment
        assert payment.id is not None
        if owed.telegram_id is None:
            continue
        try:
            await bot.refund_star_payment(owed.telegram_id, payment.telegram_charge_id)
        except BadRequest as error:
            if "ALREADY_REFUNDED" not in error.message.upper():
                LOG.warning("refund of payment %s refused: %s", payment.id, error.message)
                continue
        try:
            visit = await payments.refunded(d.db, d.clock(), payment.id)
        except Refused:  # a round running beside this one made and recorded it first
            continue
        await _tell_refunded(bot, d, owed.telegram_id, payment, visit)


async def _tell_refunded(
    bot: Bot, d: Deps, telegram_id: int, payment: Payment, visit: Visit
) -> None:
    lang = i18n.choose((await chat.profile(d.db, telegram_id)).locale, None, d.settings.locale)
    try:
        await bot.send_message(
            telegram_id,
            i18n.text(
                "payment.refund_made",
                lang,
                amount=i18n.price(payment.amount, payment.currency, lang),
                service=visit.service.name,
                when=i18n.moment(visit.booking.start, lang),
            ),
        )
    except (BadRequest, Forbidden) as error:
        LOG.info("could not tell %s of a refund: %s", telegram_id, error.message)
