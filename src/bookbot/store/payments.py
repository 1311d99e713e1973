"""Payments Telegram reported: stored once each, by booking, with their refunds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bookbot.engine.payments import Payment
from bookbot.store.tables import PaymentRow


class Payments:
    """The repository of payments; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, payment: Payment) -> Payment | None:
        """Stores a payment; None when one with its Telegram charge id is already stored.

        The caller holds the lock of the booking's client, so two deliveries of one
        payment take turns and the second finds the first (the unique charge id backs it).
        """
        if await self.charged(payment.telegram_charge_id) is not None:
            return None
        row = PaymentRow(
            booking_id=payment.booking,
            amount=payment.amount,
            currency=payment.currency,
            telegram_charge_id=payment.telegram_charge_id,
            provider_charge_id=payment.provider_charge_id,
            paid_at=payment.paid_at,
            refund_owed_at=payment.refund_owed_at,
            refunded_at=payment.refunded_at,
        )
        self.session.add(row)
        await self.session.flush()
        return _payment(row)

    async def charged(self, telegram_charge_id: str) -> Payment | None:
        """The payment with this Telegram charge id, if stored."""
        row = await self.session.scalar(
            select(PaymentRow).where(PaymentRow.telegram_charge_id == telegram_charge_id)
        )
        return None if row is None else _payment(row)

    async def payment(self, payment_id: int) -> Payment | None:
        """One payment by id."""
        row = await self.session.get(PaymentRow, payment_id)
        return None if row is None else _payment(row)

    async def of_booking(self, booking_id: int) -> list[Payment]:
        """A booking's payments, oldest first."""
        rows = await self.session.scalars(
            select(PaymentRow).where(PaymentRow.booking_id == booking_id).order_by(PaymentRow.id)
        )
        return [_payment(row) for row in rows]

    async def between(self, since: datetime, until: datetime) -> list[Payment]:
        """Payments made in [since, until), and every refund still owed, by time paid."""
        rows = await self.session.scalars(
            select(PaymentRow)
            .where(
                ((PaymentRow.paid_at >= since) & (PaymentRow.paid_at < until))
                | (PaymentRow.refund_owed_at.is_not(None) & PaymentRow.refunded_at.is_(None))
            )
            .order_by(PaymentRow.paid_at, PaymentRow.id)
        )
        return [_payment(row) for row in rows]

    async def owed(self) -> list[Payment]:
        """Every refund owed and not yet made, oldest first."""
        rows = await self.session.scalars(
            select(PaymentRow)
            .where(PaymentRow.refund_owed_at.is_not(None), PaymentRow.refunded_at.is_(None))
            .order_by(PaymentRow.refund_owed_at, PaymentRow.id)
        )
        return [_payment(row) for row in rows]

    async def every(self) -> list[Payment]:
        """Every payment, by time paid (the export's history)."""
        rows = await self.session.scalars(select(PaymentRow).order_by(PaymentRow.paid_at))
        return [_payment(row) for row in rows]

    async def refund(self, payment_id: int, at: datetime, *, done: bool) -> None:
        """Records a refund: owed from `at`, and with `done` also returned then."""
        values: dict[str, datetime] = {}
        row = await self.session.get(PaymentRow, payment_id)
        assert row is not None
        if row.refund_owed_at is None:
            values["refund_owed_at"] = at
        if done:
            values["refunded_at"] = at
        await self.session.execute(
            update(PaymentRow).where(PaymentRow.id == payment_id).values(**values)
        )
        await self.session.refresh(row)

    async def move(self, old_booking: int, new_booking: int) -> None:
        """Carries a booking's payments not owed back to the booking it was moved to."""
        await self.session.execute(
            update(PaymentRow)
            .where(PaymentRow.booking_id == old_booking, PaymentRow.refund_owed_at.is_(None))
            .values(booking_id=new_booking)
        )


def _payment(row: PaymentRow) -> Payment:
    return Payment(
        booking=row.booking_id,
        amount=row.amount,
        currency=row.currency,
        telegram_charge_id=row.telegram_charge_id,
        provider_charge_id=row.provider_charge_id,
        paid_at=row.paid_at,
        id=row.id,
        refund_owed_at=row.refund_owed_at,
        refunded_at=row.refunded_at,
    )
