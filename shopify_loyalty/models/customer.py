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
    tags: Mapped[list[str]] = mapped_column(Json, default=list)
    status: Mapped[CustomerStatus] = mapped_column(
        Enum(CustomerStatus, native_enum=False, length=32), default=CustomerStatus.ACTIVE
    )
    available_points: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_points: Mapped[int] = mapped_column(BigInteger, default=0)
    credited_points: Mapped[int] = mapped_column(BigInteger, default=0)
    spent_points: Mapped[int] = mapped_column(BigInteger, default=0)
    spent_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    store_credit_balance: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    vip_tier_id: Mapped[int | None] = mapped_column(ForeignKey("vip_tiers.id"))
    vip_tier_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    referral_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    referred_completed: Mapped[int] = mapped_column(default=0)
    rewarded_for: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    signup_rewarded: Mapped[bool] = mapped_column(default=False)
    # The last earning, redemption, positive adjustment or refund (services.points.ledger):
    # the clock of expiry after inactivity.
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Shopify's updated_at of the profile last copied (see services.customers.profiles).
    profile_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
