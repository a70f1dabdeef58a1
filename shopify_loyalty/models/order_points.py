from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Numeric, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shopify_loyalty.db import Base, Id, Json, UTCDateTime, utcnow


class OrderPoints(Base):
    """What one order earned, and what its refunds and its cancellation took back.

    One row per (shop, order). Every order, refund or cancellation event locks it first, so
    the events of one order take turns and see each other's effects whatever their arrival
    order: a refund that comes before the earning event is kept in ``refunds`` and taken
    back when the order earns. The ledger rows stay the record of points; this row keeps
    what the ledger cannot: the amount the points were computed on, and the one refunds
    are measured against.
    """

    __tablename__ = "order_points"
    __table_args__ = (UniqueConstraint("shop_id", "order_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE")
    )
    # The amount the points were computed on, in the shop's currency (None until known).
    eligible_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # The order's subtotal (in the terms of its refund line items), set when the order
    # earns; None on rows older than revision 0006 (see services.orders.reversals).
    refund_basis: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    earned_points: Mapped[int] = mapped_column(BigInteger, default=0)
    reversed_points: Mapped[int] = mapped_column(BigInteger, default=0)
    # Set once the earning event was handled, with or without points: an order earns once.
    earn_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Refunds seen, in arrival order: [{"id": int, "amount": "12.50"}].
    refunds: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    refunded_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
