from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shopify_loyalty.db import Base, Id, Json, UTCDateTime, utcnow


class LoyaltyEvent(Base):
    """Something that happened in the program, as the merchant's other tools receive it.

    Written in the transaction that made it happen (services.events.catalog), so a rolled-back
    change has no event. ``body`` is exactly what is delivered: ``{"id", "type", "createdAt",
    "shop", "data"}``.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index(None, "shop_id", "id"),
        Index(None, "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # "evt_…": the id the body carries, and the Standard Webhooks ``webhook-id``.
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(40))
    body: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
