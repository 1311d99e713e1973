"""The database tables, as SQLAlchemy 2 declarative models; times are stored in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    TypeDecorator,
    literal_column,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """An aware instant stored in UTC: `timestamptz` on PostgreSQL, sortable text on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: give an aware instant")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """The metadata every table shares."""

    if TYPE_CHECKING:
        # Every model here names a __tablename__, so each is mapped to a Table, not to any
        # FromClause as DeclarativeBase allows.
        __table__: ClassVar[Table]


class BusinessRow(Base):
    """The business-wide defaults: zone, notice, horizon, holiday calendars, currency, policy.

    `policy` is JSON text (store/catalog_rows.py); NULL when every setting is at its default.
    """

    __tablename__ = "businesses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=30)
    horizon_days: Mapped[int] = mapped_column(Integer, default=60)
    holidays: Mapped[str] = mapped_column(String(200), default="")
    stamp: Mapped[str] = mapped_column(String(32), default="")  # new on every schedule change
    version: Mapped[int] = mapped_column(Integer, default=0)  # +1 on every availability change
    currency: Mapped[str | None] = mapped_column(String(3))  # ISO 4217, or XTR
    phone: Mapped[str | None] = mapped_column(String(40))
    policy: Mapped[str | None] = mapped_column(Text)


class LocationRow(Base):
    """A place of the business; a NULL zone or holidays inherit the business's."""

    __tablename__ = "locations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str | None] = mapped_column(String(64))
    holidays: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)


class ServiceRow(Base):
    """A service clients can book; its price in minor units of the business's currency."""

    __tablename__ = "services"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    name: Mapped[str] = mapped_column(String(200))
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    price: Mapped[int | None] = mapped_column(Integer)
    cancel_notice_seconds: Mapped[int | None] = mapped_column(Integer)
    prepay: Mapped[str | None] = mapped_column(String(12))  # deposit or full; NULL: none
    deposit: Mapped[int | None] = mapped_column(Integer)
    online: Mapped[bool | None] = mapped_column(Boolean)


class SpecialistRow(Base):
    """A specialist; a NULL zone or holidays inherit the business's (or the location's)."""

    __tablename__ = "specialists"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    holidays: Mapped[str | None] = mapped_column(String(200))
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    location: Mapped[str | None] = mapped_column(String(64))  # where unplaced entries are


class OfferRow(Base):
    """That a specialist offers a service."""

    __tablename__ = "specialist_services"

    specialist_id: Mapped[str] = mapped_column(
        ForeignKey("specialists.id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[str] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class HoursColumns:
    """A window (start/end) or single times, with slot length, break and place (or none)."""

    start: Mapped[time | None] = mapped_column(Time)
    end: Mapped[time | None] = mapped_column(Time)
    times: Mapped[str] = mapped_column(String(500), default="")
    slot_minutes: Mapped[int] = mapped_column(Integer, default=60)
    break_minutes: Mapped[int] = mapped_column(Integer, default=0)
    location: Mapped[str | None] = mapped_column(String(64))


class WeeklyRow(HoursColumns, Base):
    """One line of a specialist's weekly template."""

    __tablename__ = "weekly_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    specialist_id: Mapped[str] = mapped_column(
        ForeignKey("specialists.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    days: Mapped[str] = mapped_column(String(40))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)


class OverrideRow(HoursColumns, Base):
    """A dated exception: day off, vacation, custom hours or extra slots."""

    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    specialist_id: Mapped[str] = mapped_column(
        ForeignKey("specialists.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(20))
    first: Mapped[date] = mapped_column(Date)
    last: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)


class BlockRow(Base):
    """Time nothing may overlap."""

    __tablename__ = "blocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    specialist_id: Mapped[str] = mapped_column(
        ForeignKey("specialists.id", ondelete="CASCADE"), index=True
    )
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)


class ClientRow(Base):
    """Someone who books; remembered by Telegram id when they have one."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)  # blocked the bot
    forgiven_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # no-shows before: void


class BookingRow(Base):
    """An appointment; held and confirmed rows may never overlap for one specialist.

    The database enforces it with triggers made by the migrations: on SQLite per row
    (0019), on PostgreSQL per statement, after locking the rows' specialists (0020).
    A waitlist offer is a held row with `offer_of`, its entry; an entry has at most one
    held row at a time (`bookings_one_offer`). A confirmed visit may carry when its client
    said they will come (`attending_at`) and staff's mark (`mark`: arrived or no_show).
    """

    __tablename__ = "bookings"
    __table_args__ = (Index("ix_bookings_specialist_start", "specialist_id", "start_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    specialist_id: Mapped[str] = mapped_column(ForeignKey("specialists.id"))
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12))
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due: Mapped[int | None] = mapped_column(Integer)  # a hold awaiting this payment
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(20))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    attending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mark: Mapped[str | None] = mapped_column(String(12))
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    marked_by: Mapped[str | None] = mapped_column(String(20))
    location: Mapped[str | None] = mapped_column(String(64))  # the window's place when booked
    # use_alter: waitlist.from_booking points back here, and the cycle needs one end to give
    offer_of: Mapped[int | None] = mapped_column(ForeignKey("waitlist.id", use_alter=True))


class PaymentRow(Base):
    """A payment Telegram reported for a booking: what, in what, its charge ids, refunds.

    `telegram_charge_id` is unique: the same successful_payment arriving twice is stored
    once. A refund is owed (`refund_owed_at`) until done (`refunded_at`); Stars are
    refunded at once, a provider's payment by the admins (/refund).
    """

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)  # minor units of `currency`
    currency: Mapped[str] = mapped_column(String(3))
    telegram_charge_id: Mapped[str] = mapped_column(String(255), unique=True)
    provider_charge_id: Mapped[str | None] = mapped_column(String(255))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    refund_owed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WaitlistRow(Base):
    """A client waiting for time: a service, a specialist or any, dates, parts of the day.

    `parts` is a bitmask (1 morning, 2 afternoon, 4 evening; 0 any time of day), see
    store/waitlist.py. An entry is never deleted: leaving or taking an offer sets `left_at`.
    """

    __tablename__ = "waitlist"
    __table_args__ = (Index("ix_waitlist_match", "service_id", "last_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"))
    specialist_id: Mapped[str | None] = mapped_column(ForeignKey("specialists.id"))
    location: Mapped[str | None] = mapped_column(Text)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    parts: Mapped[int] = mapped_column(SmallInteger, default=0)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_booking: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DraftRow(Base):
    """Where a client's booking flow stands between taps, so a restart loses nothing."""

    __tablename__ = "drafts"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    service_id: Mapped[str | None] = mapped_column(String(64))
    specialist_id: Mapped[str | None] = mapped_column(String(64))  # "*" is any available
    rescheduling_id: Mapped[int | None] = mapped_column(Integer)
    location_id: Mapped[str | None] = mapped_column(String(64))  # "*" is any place
    lat: Mapped[float | None] = mapped_column(Float)  # the point the client shared
    lon: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxRow(Base):
    """A message the bot owes someone, written with the change that causes it.

    The delivery job claims due rows, sends them, and marks them; see notify/delivery.py.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    payload: Mapped[str] = mapped_column(Text, default="{}")  # JSON: what the text needs
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FloodWaitRow(Base):
    """A chat Telegram told to wait (a 429's retry_after): no sender writes to it before `until`."""

    __tablename__ = "flood_waits"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    until: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewRow(Base):
    """A client's review of one booking: a rating 1-5 and an optional comment."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AdminRow(Base):
    """Someone made an admin from the chat with /promote, besides BOOKBOT_ADMINS."""

    __tablename__ = "admins"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    promoted_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InviteRow(Base):
    """A one-time link that ties a specialist to the Telegram account that opens it."""

    __tablename__ = "invites"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    specialist_id: Mapped[str] = mapped_column(
        ForeignKey("specialists.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(BigInteger)


class PendingChangeRow(Base):
    """A schedule change that would cancel live bookings, waiting for Confirm or Keep."""

    __tablename__ = "pending_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger)  # who asked; only they may answer
    specialist_id: Mapped[str] = mapped_column(
        ForeignKey("specialists.id", ondelete="CASCADE"), index=True
    )
    change: Mapped[str] = mapped_column(Text)  # JSON: the change as asked for
    status: Mapped[str] = mapped_column(String(12), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReasonWaitRow(Base):
    """A specialist's Cancel tap: their next text message is the reason for that booking."""

    __tablename__ = "reason_waits"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MenuRow(Base):
    """The command menu last set in one staff member's chat (none: the clients' default).

    Telegram takes a chat's menu only once the person has opened the bot; this tells which
    chats still need theirs, so it is set at their first message and not on every start.
    """

    __tablename__ = "menus"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    signature: Mapped[str] = mapped_column(String(64))  # bot/menus.py: signature
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InboxRow(Base):
    """An update from Telegram, kept from its arrival until it is handled (see bot/inbox.py).

    The process that handles it claims it until `claimed_until` and renews the claim while
    it works; a claim left by a killed process runs out and another look takes it over.
    """

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_state", "handled_at", "claimed_until"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    body: Mapped[str] = mapped_column(Text)  # the update's JSON, as Telegram sent it
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DayRow(Base):
    """The day index: one specialist's local date with free time left, kept with every change.

    `holes` are the working windows minus busy time (blocks, held and confirmed bookings),
    before notice, as `start-end` UTC epoch seconds joined by `;`; the other columns sum
    them up for SQL to filter and sort on. A date in the specialist's span without a row
    has no free time. See store/dayindex/.
    """

    __tablename__ = "days"
    __table_args__ = (
        Index("ix_days_first_free", "first_free"),
        Index("ix_days_weekday", "weekday", "day"),
    )

    specialist_id: Mapped[str] = mapped_column(
        ForeignKey("specialists.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    free_minutes: Mapped[int] = mapped_column(Integer)
    longest_hole_minutes: Mapped[int] = mapped_column(Integer)
    free_slots: Mapped[int] = mapped_column(Integer)  # candidates free for their own slot
    first_free: Mapped[datetime | None] = mapped_column(UTCDateTime)
    holes: Mapped[str] = mapped_column(Text)
    # Which 30-minute buckets from free_base (first_free's) on hold a free start: see
    # DaySummary.start_mask. Null on rows kept before revision 0009: unknown until reindexed.
    free_base: Mapped[int | None] = mapped_column(Integer)
    free_mask: Mapped[int | None] = mapped_column(BigInteger)


class DaySpanRow(Base):
    """The local dates first..last the day index covers for one specialist; others are unknown."""

    __tablename__ = "day_spans"

    specialist_id: Mapped[str] = mapped_column(
        ForeignKey("specialists.id", ondelete="CASCADE"), primary_key=True
    )
    first: Mapped[date] = mapped_column(Date)
    last: Mapped[date] = mapped_column(Date)


class HolidayDatesRow(Base):
    """The dates of one holiday calendar in one year, as the holidays package gave them.

    `days` is ISO dates in order joined by `,` ("" for none). Kept for the calendars in
    use and the years questions reach (store/holiday_dates.py), so a query need not load
    the package; a calendar or year not here is computed as before.
    """

    __tablename__ = "holiday_dates"

    calendar: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    days: Mapped[str] = mapped_column(Text)


# A held booking (one run out and not yet marked expired included). The status is written in
# the statement, not bound: so a plan made for any call (PostgreSQL's generic one) can tell
# that the partial indexes of holds below cover it.
HELD_ONLY = BookingRow.status == literal_column("'held'")
# Holds that ran out but are not yet marked: questions answered from the day index look them
# up. Only holds are kept (migration 0023): an import's confirmed bookings add nothing to it.
# The status stays its first column: SQLite then searches it by equality, where a scan of an
# index without statistics is costed as a scan of the table.
Index(
    "ix_bookings_held",
    BookingRow.status,
    BookingRow.hold_until,
    sqlite_where=HELD_ONLY,
    postgresql_where=HELD_ONLY,
)
# At most one held booking (a live offer, or one run out and not yet expired) per waitlist entry.
Index(
    "bookings_one_offer",
    BookingRow.offer_of,
    unique=True,
    sqlite_where=HELD_ONLY,
    postgresql_where=HELD_ONLY,
)
# A client's no-shows, counted before every booking: few rows, so a small partial index.
NO_SHOWS = BookingRow.mark == "no_show"
Index(
    "ix_bookings_no_shows",
    BookingRow.client_id,
    BookingRow.start_at,
    sqlite_where=NO_SHOWS,
    postgresql_where=NO_SHOWS,
)
