from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shopify_loyalty.db import Base, Id, UTCDateTime, utcnow


class AdminSession(Base):
    """A merchant signed in to the standalone admin by a one-time link (self-hosted shops).

    The browser holds the session token in an HttpOnly cookie; only its SHA-256 is stored,
    as for API keys. Signing out deletes the row (services.shops.admin_sessions).
    """

    __tablename__ = "admin_sessions"
    __table_args__ = (Index(None, "shop_id", "expires_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Sent back by the page on every state-changing call (X-CSRF-Token); not a credential alone.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
