from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from shopify_loyalty.db import Base, Id, Json, UTCDateTime, utcnow


class OutboxMessage(Base):
    """A unit of work: a task to run, written in the business transaction that needs it.

    The row lives until the task has run to the end (``completed_at``). Until then ``due_at``
    is its deadline: when it passes, the task is taken to be lost (never sent, lost by the
    broker, or its worker died) and the relay sends it again (services.outbox).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The relay scans only open rows, soonest deadline first.
        Index(
            "ix_outbox_open_due",
            "due_at",
            postgresql_where=text("completed_at IS NULL"),
            sqlite_where=text("completed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    task_name: Mapped[str] = mapped_column(String(128))
    args: Mapped[list[Any]] = mapped_column(Json, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Last handed to the broker.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Runs started (a worker claimed the row); a task that keeps failing is given up.
    attempts: Mapped[int] = mapped_column(default=0)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set with completed_at when the task was given up after too many runs.
    abandoned: Mapped[bool] = mapped_column(default=False)
    # The request (or task) that queued it: its logs carry the same id (telemetry.context).
    request_id: Mapped[str | None] = mapped_column(String(64))
