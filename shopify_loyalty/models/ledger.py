from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shopify_loyalty.db import Base, Id, UTCDateTime, utcnow


class LedgerKind(enum.StrEnum):
    EARNED = "EARNED"
    REDEEMED = "REDEEMED"
    REFUNDED = "REFUNDED"
    ADJUSTED = "ADJUSTED"
    EXPIRED = "EXPIRED"
    REVERSED = "REVERSED"


class LedgerStatus(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class PointTransaction(Base):
    """One row of the append-only points ledger.

    ``points`` is signed. ``(shop, kind, source_type, source_id)`` is unique, so a replayed
    order, refund or reward can never post twice. Corrections are new rows: on PostgreSQL a
    trigger (migration 0001) refuses any UPDATE of the amounts, kind, owner or source.
    """

    __tablename__ = "point_transactions"
    __table_args__ = (
        UniqueConstraint("shop_id", "kind", "source_type", "source_id"),
        Index(None, "customer_id", "id"),
        Index(None, "status", "approve_after"),
        # The dashboard's points per day (migration 0012).
        Index(None, "shop_id", "created_at", postgresql_include=["kind", "status", "points"]),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[LedgerKind] = mapped_column(Enum(LedgerKind, native_enum=False, length=16))
    status: Mapped[LedgerStatus] = mapped_column(
        Enum(LedgerStatus, native_enum=False, length=16), default=LedgerStatus.APPROVED
    )
    points: Mapped[int] = mapped_column(BigInteger)
    # The customer's available points right after this row was applied (None while pending).
    available_after: Mapped[int | None] = mapped_column(BigInteger)
    source_type: Mapped[str | None] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    approve_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
