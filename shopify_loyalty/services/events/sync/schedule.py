"""The beat's tick: one sync task per shop with due customers, through the outbox.

A shop that has a sync task open (queued, running, or waiting out a throttle) gets no
second one: its run takes every due customer anyway. The tick reads committed marks only,
so a mark can never be missed the way a task queued by the change itself could race the
end of a run; and the task it queues is an outbox unit of work, recovered by the relay if
lost. Two ticks at once (two beats) may queue a shop twice: claims keep the runs apart.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.models import CustomerSync, OutboxMessage
from shopify_loyalty.services import outbox

SYNC_CUSTOMERS = "loyalty.sync_customers"
# Shops queued per tick; the next tick, seconds later, takes the rest.
SHOPS_PER_TICK = 500


def queue_due_shops(session: Session, now: datetime) -> list[int]:
    """Queue a sync task for each shop with customers due by ``now``; their ids."""
    due = set(session.scalars(
        select(CustomerSync.shop_id).where(CustomerSync.due_at <= now)
        .distinct().limit(SHOPS_PER_TICK)))
    if not due:
        return []
    busy = set(session.scalars(select(OutboxMessage.shop_id).where(
        OutboxMessage.task_name == SYNC_CUSTOMERS, OutboxMessage.completed_at.is_(None),
        OutboxMessage.shop_id.in_(due))))
    queued = sorted(due - busy)
    for shop_id in queued:
        outbox.enqueue(session, shop_id, SYNC_CUSTOMERS, shop_id)
    return queued
