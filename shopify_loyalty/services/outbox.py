"""Tasks queued in the business transaction (the transactional outbox)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Update, update
from sqlalchemy.orm import Session

from shopify_loyalty.db import QueuedTask, queue_after_commit, utcnow
from shopify_loyalty.models import OutboxMessage

FULFIL_REWARD = "loyalty.fulfil_reward"


def enqueue(session: Session, shop_id: int | None, task_name: str, *args: Any) -> OutboxMessage:
    """Write the task to the outbox; it is sent after the transaction commits."""
    message = OutboxMessage(shop_id=shop_id, task_name=task_name, args=list(args))
    session.add(message)
    session.flush()
    queue_after_commit(session, QueuedTask(message.id, task_name, list(args)))
    return message


def mark_sent_statement(outbox_ids: Sequence[int]) -> Update:
    """Marks rows sent; rows already marked (by the relay) are left as they are."""
    return (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.sent_at.is_(None))
        .values(sent_at=utcnow())
    )

