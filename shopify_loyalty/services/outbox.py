"""Tasks queued in the business transaction (the transactional outbox)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Update, insert, select, update
from sqlalchemy.orm import Session

from shopify_loyalty.db import QueuedTask, queue_after_commit, utcnow
from shopify_loyalty.models import OutboxMessage

FULFIL_REWARD = "loyalty.fulfil_reward"
DEACTIVATE_DISCOUNT = "loyalty.deactivate_discount"


def enqueue(session: Session, shop_id: int | None, task_name: str, *args: Any) -> int:
    """Write the task to the outbox (its id is returned); it is sent after the commit."""
    outbox_id: int = session.execute(
        insert(OutboxMessage)
        .values(shop_id=shop_id, task_name=task_name, args=list(args), created_at=utcnow())
        .returning(OutboxMessage.id)
    ).scalar_one()
    queue_after_commit(session, QueuedTask(outbox_id, task_name, list(args)))
    return outbox_id


def mark_sent_statement(outbox_ids: Sequence[int]) -> Update:
    """Marks rows sent; rows already marked (by the relay) are left as they are."""
    return (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.sent_at.is_(None))
        .values(sent_at=utcnow())
    )


def claim_unsent(session: Session, created_before: datetime, limit: int) -> list[OutboxMessage]:
    """The oldest unsent rows created before ``created_before``, locked for this transaction.

    ``SKIP LOCKED`` lets several relays run at once without sending a row twice: each takes
    rows no other holds. (SQLite has no row locks; there one relay runs at a time anyway.)
    """
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.created_at < created_before)
            .order_by(OutboxMessage.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
