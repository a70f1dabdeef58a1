from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from shopify_loyalty.db import Base, Id, Json, UTCDateTime, utcnow


class CustomerStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    EXCLUDED = "EXCLUDED"
    EXCLUDED_BY_CUSTOMER = "EXCLUDED_BY_CUSTOMER"


class Customer(Base):
    """A shop's customer in the program, with balances kept beside the ledger.

    ``available_points`` always equals the sum of the customer's approved ledger rows; it
    is changed only in the transaction that appends the row (services.points.ledger).
    """

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("shop_id", "shopify_customer_id"),
        CheckConstraint("available_points >= 0", name="available_points_not_negative"),
        CheckConstraint("pending_points >= 0", name="pending_points_not_negative"),
        Index(None, "shop_id", "email"),
        # The birthday job finds a day's birthdays of a set of shops.
        Index(None, "shop_id", "birth_month_day"),
        Index(None, "vip_tier_id"),
        # The tiers job's due customers (services.customers.tier_review): held tiers by expiry.
        Index("ix_customers_tier_review", "vip_tier_expires_at", "shop_id",
              postgresql_where=text("vip_tier_id IS NOT NULL"),
              sqlite_where=text("vip_tier_id IS NOT NULL")),
        # The dashboard's sums by status read this index only (migration 0012).
        Index(None, "shop_id", "status", postgresql_include=[
            "available_points", "pending_points", "credited_points", "spent_points"]),
        # Expiry after inactivity: customers with points, by their last activity.
        Index("ix_customers_active_balance", "shop_id", "last_activity_at",
              postgresql_where=text("available_points > 0"),
              sqlite_where=text("available_points > 0")),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    shopify_customer_id: Mapped[int] = mapped_column(BigInteger)
    email: Mapped[str | None] = mapped_column(String(320))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    dob: Mapped[date | None]
    # When the dob was first given: a birthday pays only for a dob given 30 days before it.
    dob_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # month * 100 + day of the dob (229 for 29 February), indexed for the birthday job.
    birth_month_day: Mapped[int | None] = mapped_column(SmallInteger)
    # The last calendar year whose birthday the job has dealt with (paid or not).
    birthday_year: Mapped[int | None]
    tags: Mapped[list[str]] = mapped_column(Json, default=list)
    status: Mapped[CustomerStatus] = mapped_column(
        Enum(CustomerStatus, native_enum=False, length=32), default=CustomerStatus.ACTIVE
    )
    available_points: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_points: Mapped[int] = mapped_column(BigInteger, default=0)
    credited_points: Mapped[int] = mapped_column(BigInteger, default=0)
    spent_points: Mapped[int] = mapped_column(BigInteger, default=0)
    # Lifetime tier progress (services.customers.progress): money of paid orders net of
    # refunds, points earned net of reversals, orders net of cancellations.
    spent_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    lifetime_earned_points: Mapped[int] = mapped_column(BigInteger, default=0)
    lifetime_orders: Mapped[int] = mapped_column(default=0)
    store_credit_balance: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    vip_tier_id: Mapped[int | None] = mapped_column(ForeignKey("vip_tiers.id"))
    # None while held for good (LIFETIME, or a manual tier without an end).
    vip_tier_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    referral_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    referred_completed: Mapped[int] = mapped_column(default=0)
    rewarded_for: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    signup_rewarded: Mapped[bool] = mapped_column(default=False)
    # The first paid order we saw of this customer: a referral pays for a first order only.
    first_paid_order_id: Mapped[int | None] = mapped_column(BigInteger)
    # Hashes of the customer's known postal addresses (services.customers.identity), so a
    # referral shipped to the referrer's own address is refused without keeping addresses.
    address_keys: Mapped[list[str]] = mapped_column(Json, default=list)
    # The last earning, redemption, positive adjustment or refund (services.points.ledger):
    # the clock of expiry after inactivity.
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Shopify's updated_at of the profile last copied (see services.customers.profiles).
    profile_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
