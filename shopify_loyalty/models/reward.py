from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shopify_loyalty.db import Base, Id, UTCDateTime, utcnow


class RewardType(enum.StrEnum):
    DISCOUNT_CODE = "DISCOUNT_CODE"
    STORE_CREDIT = "STORE_CREDIT"
    POINTS = "POINTS"


class RewardStatus(enum.StrEnum):
    UNUSED = "UNUSED"
    USED = "USED"
    REFUNDED = "REFUNDED"
    EXPIRED = "EXPIRED"


class FulfillmentStatus(enum.StrEnum):
    PENDING = "PENDING"
    DONE = "DONE"
    FAILED = "FAILED"


class Reward(Base):
    """What a redemption bought. The Shopify side is created later by the fulfilment task."""

    __tablename__ = "rewards"
    __table_args__ = (
        # Codes are generated upper-case and matched upper-case (services.rewards.codes).
        Index(None, "shop_id", "discount_code", unique=True),
        Index(None, "customer_id", "status", "id"),
        Index(None, "fulfillment_status", "created_at"),
        # The dashboard's rewards by status and rule (migration 0012).
        Index(None, "shop_id", "status", "redeem_rule_id", postgresql_include=["points"]),
        # Expiry and its reminders look at unused rewards only, soonest first.
        Index("ix_rewards_unused_expiry", "shop_id", "expires_at",
              postgresql_where=text("status = 'UNUSED'"), sqlite_where=text("status = 'UNUSED'")),
        Index("ix_rewards_unused_due", "expires_at",
              postgresql_where=text("status = 'UNUSED'"), sqlite_where=text("status = 'UNUSED'")),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    # None for a referred friend's code: the friend is usually not a customer yet.
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE")
    )
    redeem_rule_id: Mapped[int | None] = mapped_column(ForeignKey("redeem_rules.id"))
    point_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("point_transactions.id")
    )
    reward_type: Mapped[RewardType] = mapped_column(Enum(RewardType, native_enum=False, length=16))
    # The discount of a reward no redeem rule describes (a referred friend's code): a
    # RedeemRuleKind value, FIXED_AMOUNT or PERCENTAGE.
    discount_kind: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    points: Mapped[int] = mapped_column(BigInteger)
    discount_code: Mapped[str | None] = mapped_column(String(64))
    # Shopify GID of the discount node (or of the store-credit transaction).
    discount_code_id: Mapped[str | None] = mapped_column(String(128))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    status: Mapped[RewardStatus] = mapped_column(
        Enum(RewardStatus, native_enum=False, length=16), default=RewardStatus.UNUSED
    )
    fulfillment_status: Mapped[FulfillmentStatus] = mapped_column(
        Enum(FulfillmentStatus, native_enum=False, length=16), default=FulfillmentStatus.PENDING
    )
    # Fulfilment attempts that failed on a 5xx or timeout (throttling does not count).
    attempts: Mapped[int] = mapped_column(default=0)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    # Set just before the first call to Shopify: a lost store-credit answer is looked for
    # among the credits made since then (services.rewards.fulfilment).
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A worker is fulfilling the reward until then; another one leaves it alone.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last ``reward.expiring`` reminder: its offset in days (offsets are sent from the
    # largest down, so "once per offset" is: only ever a smaller one) and when it went out.
    expiry_reminder_days: Mapped[int | None]
    last_expiry_reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    order_name: Mapped[str | None] = mapped_column(String(64))
    variant_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
