"""The merchant's program: redeem rules and earn rules (VIP tiers: models.tier)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopify_loyalty.db import Base, Id, Json, UTCDateTime, utcnow
from shopify_loyalty.models.reward import RewardType


class RedeemRuleKind(enum.StrEnum):
    FIXED_AMOUNT = "FIXED_AMOUNT"
    PERCENTAGE = "PERCENTAGE"
    FREE_SHIPPING = "FREE_SHIPPING"
    FREE_PRODUCT = "FREE_PRODUCT"
    STORE_CREDIT = "STORE_CREDIT"
    VARIABLE_AMOUNT = "VARIABLE_AMOUNT"


class LimitInterval(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    LIFETIME = "lifetime"


class EarnRuleKind(enum.StrEnum):
    PURCHASE = "PURCHASE"
    SIGNUP = "SIGNUP"
    BIRTHDAY = "BIRTHDAY"
    NEWSLETTER = "NEWSLETTER"
    SMS = "SMS"
    SOCIAL_FOLLOW = "SOCIAL_FOLLOW"
    SOCIAL_SHARE = "SOCIAL_SHARE"
    REFERRAL = "REFERRAL"


class RedeemRule(Base):
    """What a customer can buy with points."""

    __tablename__ = "redeem_rules"
    __table_args__ = (
        Index(None, "shop_id", "active"),
        CheckConstraint("points_cost IS NULL OR points_cost > 0", name="points_cost_positive"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[RedeemRuleKind] = mapped_column(
        Enum(RedeemRuleKind, native_enum=False, length=32)
    )
    # Fixed-cost kinds; None for VARIABLE_AMOUNT.
    points_cost: Mapped[int | None] = mapped_column(BigInteger)
    # Amount off, percent off, or store credit, by kind.
    value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    max_shipping: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    variant_ids: Mapped[list[int]] = mapped_column(Json, default=list)
    product_ids: Mapped[list[int]] = mapped_column(Json, default=list)
    collection_ids: Mapped[list[int]] = mapped_column(Json, default=list)
    # VARIABLE_AMOUNT: points that buy one currency unit, and the range the customer picks in.
    points_per_unit: Mapped[int | None] = mapped_column(BigInteger)
    min_points: Mapped[int | None] = mapped_column(BigInteger)
    max_points: Mapped[int | None] = mapped_column(BigInteger)
    increment: Mapped[int | None] = mapped_column(BigInteger)
    min_subtotal: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    expires_in_days: Mapped[int | None]
    combines_with: Mapped[list[str]] = mapped_column(Json, default=list)
    limit_count: Mapped[int | None]
    limit_interval: Mapped[LimitInterval | None] = mapped_column(
        Enum(LimitInterval, native_enum=False, length=16, values_callable=lambda e: [
            m.value for m in e
        ])
    )
    required_tier_id: Mapped[int | None] = mapped_column(ForeignKey("vip_tiers.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def reward_type(self) -> RewardType:
        """Store credit is credited; every other kind is a discount code."""
        if self.kind is RedeemRuleKind.STORE_CREDIT:
            return RewardType.STORE_CREDIT
        return RewardType.DISCOUNT_CODE


class EarnRule(Base):
    """How customers earn points: a purchase, signing up, an action, a referral."""

    __tablename__ = "earn_rules"
    __table_args__ = (Index(None, "shop_id", "kind", "active"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    kind: Mapped[EarnRuleKind] = mapped_column(Enum(EarnRuleKind, native_enum=False, length=32))
    name: Mapped[str | None] = mapped_column(String(255))
    points: Mapped[int | None] = mapped_column(BigInteger)
    points_per_unit: Mapped[int | None] = mapped_column(BigInteger)
    min_order: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    include_shipping: Mapped[bool] = mapped_column(default=False)
    include_tax: Mapped[bool] = mapped_column(default=False)
    pending_days: Mapped[int] = mapped_column(default=0)
    # SOCIAL_FOLLOW / SOCIAL_SHARE: the network the rule pays for (one rule per network).
    network: Mapped[str | None] = mapped_column(String(16))
    # REFERRAL: what the referred friend's single-use code gives (points go to the referrer).
    referee_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    referee_kind: Mapped[RedeemRuleKind | None] = mapped_column(
        Enum(RedeemRuleKind, native_enum=False, length=32)
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
