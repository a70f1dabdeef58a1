"""Outbound webhooks: the merchant's endpoints, and one delivery record per event and endpoint."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from shopify_loyalty.db import Base, Id, Json, UTCDateTime, utcnow


class EventEndpoint(Base):
    """A URL of the merchant's that receives the shop's events (Standard Webhooks).

    ``event_types`` NULL means every type. ``secret_enc`` is the ``whsec_…`` signing secret,
    encrypted like the shop tokens (token_cipher); it is shown once, when the endpoint is made.
    ``failing_since`` is the first failed attempt since the last success: five days of it
    disable the endpoint (``disabled_reason`` says so).
    """

    __tablename__ = "event_endpoints"
    __table_args__ = (
        # The fan-out on every event: the shop's enabled endpoints, one index lookup.
        Index(None, "shop_id", "enabled"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str] | None] = mapped_column(Json)
    secret_enc: Mapped[str] = mapped_column(String(512))
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryStatus(enum.StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class EventDelivery(Base):
    """One event to one endpoint: its attempts so far and how the last one went.

    PENDING until a 2xx (DELIVERED) or the last retry of the schedule (FAILED).
    ``sending_until`` is set while an attempt is in flight (the per-endpoint bound counts
    these; it outlives the 10 s send, so a worker killed mid-send frees its slot by itself).
    ``replays`` counts the operator's replays: a task queued before the last replay is stale.
    """

    __tablename__ = "event_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        # The listing: a shop's deliveries newest first, or an endpoint's.
        Index(None, "shop_id", "id"),
        Index(None, "endpoint_id", "id"),
        # "--failed": those waiting for a retry and those FAILED.
        Index(None, "shop_id", "status", "attempts"),
        # The per-endpoint in-flight count.
        Index("ix_event_deliveries_in_flight", "endpoint_id", "sending_until",
              postgresql_where=text("sending_until IS NOT NULL"),
              sqlite_where=text("sending_until IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("event_endpoints.id", ondelete="CASCADE"))
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=16),
        default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    replays: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sending_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(255))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
