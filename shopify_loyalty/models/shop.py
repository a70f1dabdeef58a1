from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopify_loyalty.db import Base, Id, Json, UTCDateTime, utcnow

DEFAULT_SETTINGS: dict[str, Any] = {
    "code_prefix": "LOY-",
    "exclusion_tags": [],
    "earn_on": "paid",
    "referral_weekly_cap": 10,
    "tier_metric": "SPENT",
    "tier_period": "LIFETIME",
    "point_value": None,  # None: the best rate of the active rules (services.customers.dashboard)
    "points_expiry": "NONE",
    "points_expiry_days": 365,
    "expiry_reminder_days": [30, 7],
    "reward_reminder_days": [7, 1],
    "refund_expired_rewards": False,
    # Balance, tier and referral link written to the Shopify customer (services.events.sync).
    "shopify_sync": True,
}


class Shop(Base):
    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    # Fernet ciphertexts; never the tokens themselves (see shopify_loyalty.token_cipher).
    access_token_enc: Mapped[str | None] = mapped_column(Text)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    needs_reauth: Mapped[bool] = mapped_column(default=False)
    scopes: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # Shopify's ianaTimezone (read at install); None: the shop's days are UTC days.
    iana_timezone: Mapped[str | None] = mapped_column(String(64))
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settings: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # When the points expiry policy last changed in a way that could bring a deadline closer:
    # points earned before it count as earned then (services.points.expiry).
    points_expiry_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Moved by the database whenever the shop's tiers, rules or endpoints change (migration
    # 0019's triggers): what services.program_cache checks its copies against.
    program_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    @property
    def installed(self) -> bool:
        return self.uninstalled_at is None

    def setting(self, name: str) -> Any:
        return (self.settings or {}).get(name, DEFAULT_SETTINGS.get(name))


class ApiKey(Base):
    """A merchant's key for the external API; only its SHA-256 is stored."""

    __tablename__ = "api_keys"
    __table_args__ = (Index(None, "shop_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(255))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
