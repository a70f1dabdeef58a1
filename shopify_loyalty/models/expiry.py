from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from shopify_loyalty.db import Base, Id, UTCDateTime, utcnow

# Partial indexes hold only the batches that still have points: a batch spent or expired
# leaves them, so the expiry job and FIFO spending never walk past dead batches.
LIVE = text("remaining > 0")


class PointBatch(Base):
    """What is left of one approved credit of points (an earning, a positive adjustment or
    import, a refund of a reward), so that spending can use the oldest points first and
    expiry per earning knows what each batch still holds.

    One row per approved positive ledger row, written in the same transaction; every debit
    lowers ``remaining`` oldest first (services.points.batches). The sum of a customer's
    ``remaining`` equals their ``available_points``. ``earned_at`` is when the points became
    spendable (an approval, for points that were pending): the batch's expiry clock.
    """

    __tablename__ = "point_batches"
    __table_args__ = (
        Index("ix_point_batches_live_customer", "customer_id", "earned_at", "id",
              postgresql_where=LIVE, sqlite_where=LIVE),
        Index("ix_point_batches_live_shop", "shop_id", "earned_at",
              postgresql_where=LIVE, sqlite_where=LIVE),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # The ledger row that credited the points (None for balances carried over by migration
    # 0010 from before batches were kept).
    transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("point_transactions.id", ondelete="CASCADE"), unique=True
    )
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    earned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointsReminder(Base):
    """A ``points.expiring`` reminder sent: at most one per customer, offset and deadline.

    The unique key is what makes "once" hold under a re-run and under two jobs at once: a
    second insert of the same reminder does nothing (services.points.reminders).
    """

    __tablename__ = "points_reminders"
    __table_args__ = (UniqueConstraint("customer_id", "days_before", "expires_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    days_before: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    points: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReminderRun(Base):
    """How far one run of ``expiry-reminders`` (one ``as_of``) has got through the shops.

    Reminder candidates do not stop matching once reminded (their points are still there), so
    each batch goes on from this cursor instead of scanning from the start: the run is linear
    in the number of customers. A batch locks the row with SKIP LOCKED, so of two chains of
    the same run one works and the other stops.
    """

    __tablename__ = "reminder_runs"

    as_of: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    shop_id: Mapped[int] = mapped_column(BigInteger, default=0)
    # "points" (customers by id) then "rewards" (rewards by id), for each shop in id order.
    phase: Mapped[str] = mapped_column(String(16), default="points")
    after_id: Mapped[int] = mapped_column(BigInteger, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
