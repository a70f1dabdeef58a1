"""Refer-a-friend: one row per friend's claim, from the claim to its outcome."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from shopify_loyalty.db import Base, Id, UTCDateTime, utcnow


class ReferralState(enum.StrEnum):
    CLAIMED = "CLAIMED"  # the friend has their code; no paid order with it yet
    COMPLETED = "COMPLETED"  # a first paid order used the code (``paid``: the referrer earned)
    REJECTED = "REJECTED"  # the order was refused, or refunded or cancelled (``reason``)


class Referral(Base):
    """A friend's claim of a referrer's link, and what became of it.

    ``friend_email_key`` (a hash of the canonical email, services.customers.identity) is
    unique per shop: one email, one claim, whatever its case, dots or ``+tag``. The friend's
    single-use code is the reward ``reward_id`` (a reward with no customer until the friend
    orders). The referrer's points are the ledger row EARNED ("referral", id): once per
    referral.
    """

    __tablename__ = "referrals"
    __table_args__ = (
        Index(None, "shop_id", "friend_email_key", unique=True),
        Index(None, "shop_id", "id"),
        Index(None, "referrer_id", "state", "completed_at"),
        Index(None, "shop_id", "order_id"),
        Index(None, "reward_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    referrer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # As the friend typed it (lower-cased); None once erased by a redaction.
    friend_email: Mapped[str | None] = mapped_column(String(320))
    friend_email_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[ReferralState] = mapped_column(
        Enum(ReferralState, native_enum=False, length=16), default=ReferralState.CLAIMED
    )
    reason: Mapped[str | None] = mapped_column(String(64))
    paid: Mapped[bool] = mapped_column(default=False)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("rewards.id", ondelete="SET NULL"))
    friend_customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL")
    )
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    # The order's subtotal: refunds adding up to it undo the referral.
    order_subtotal: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
