"""What the Shopify customer sync owes each customer, and what it last wrote."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shopify_loyalty.db import Base, UTCDateTime

DIRTY = text("due_at IS NOT NULL")


class CustomerSync(Base):
    """One row per customer the sync has seen (services.events.sync).

    ``due_at`` set: the customer changed and their balance, tier and referral link must be
    written to Shopify by then (the coalescing window); while a worker writes them it is
    that worker's lease. ``changes`` counts the marks: a worker clears the row only if it
    still holds the count it read, so a change made during the write is written next.
    ``synced_tag`` is the tier tag last written (None: no tier tag), so that the old tag
    is removed and an unchanged tier costs no tag call.
    """

    __tablename__ = "customer_syncs"
    __table_args__ = (
        # The scheduler's shops with due customers, and each shop's due customers.
        Index("ix_customer_syncs_due", "due_at", postgresql_where=DIRTY, sqlite_where=DIRTY),
        Index("ix_customer_syncs_shop_due", "shop_id", "due_at",
              postgresql_where=DIRTY, sqlite_where=DIRTY),
    )

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changes: Mapped[int] = mapped_column(default=0)
    # Failed writes in a row (throttling is not a failure); reset by a write.
    failures: Mapped[int] = mapped_column(default=0)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_tag: Mapped[str | None] = mapped_column(String(300))
    last_error: Mapped[str | None] = mapped_column(Text)
