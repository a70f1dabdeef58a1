"""VIP tiers: the merchant's ladder, and each customer's progress up it, by day."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopify_loyalty.db import Base, Id, UTCDateTime, utcnow


class TierMetric(enum.StrEnum):
    """What progress counts (shop setting ``tier_metric``)."""

    SPENT = "SPENT"  # money of paid orders, net of refunds
    POINTS_EARNED = "POINTS_EARNED"  # points earned by orders and earn rules, net of reversals
    ORDERS = "ORDERS"  # paid orders, net of cancelled ones


class TierPeriod(enum.StrEnum):
    """Over which time progress counts, and how long a tier is held (``tier_period``)."""

    LIFETIME = "LIFETIME"
    CALENDAR_YEAR = "CALENDAR_YEAR"
    ROLLING_12_MONTHS = "ROLLING_12_MONTHS"


class VipTier(Base):
    """A step of the shop's ladder, reached when progress reaches ``threshold``.

    Tiers are ranked by threshold (no two active tiers of a shop share one) and never
    deleted: customers and redeem rules refer to them; a tier no longer offered is inactive.
    """

    __tablename__ = "vip_tiers"
    __table_args__ = (
        Index(None, "shop_id"),
        CheckConstraint("threshold >= 0", name="threshold_not_negative"),
        CheckConstraint("earn_multiplier >= 1", name="earn_multiplier_at_least_one"),
        CheckConstraint("entry_points >= 0", name="entry_points_not_negative"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    # In the shop's metric: money (SPENT), points (POINTS_EARNED) or a count (ORDERS).
    threshold: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    earn_multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=Decimal("1"))
    # Paid once per customer and tier, ever, the first time progress places them in it.
    entry_points: Mapped[int] = mapped_column(BigInteger, default=0)
    perks: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TierProgressDay(Base):
    """What one customer's orders and earnings added to their progress on one UTC day.

    Every metric is kept whatever the shop counts today, so that changing ``tier_metric``
    needs no history. An order adds on its own day (``processed_at``), a refund or a
    cancellation takes back on its own day, so a day can be negative. A period's progress
    is the sum of its days: at most 731 rows over the customer's primary key, whatever the
    length of their history (LIFETIME reads the running totals on the customer instead).
    """

    __tablename__ = "tier_progress_days"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    # For scoping, without a foreign key: the rows go with their customer (who goes with
    # the shop), and a key on shops would make deleting a shop scan this whole table.
    shop_id: Mapped[int] = mapped_column(Id)
    spent: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    orders: Mapped[int] = mapped_column(default=0)
