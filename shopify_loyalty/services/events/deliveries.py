"""The merchant's and the operator's view of deliveries: listing, and replaying one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from shopify_loyalty.errors import ConflictError, NotFoundError
from shopify_loyalty.models import DeliveryStatus, EventDelivery, EventEndpoint, LoyaltyEvent, Shop
from shopify_loyalty.services import outbox
from shopify_loyalty.services.events.fanout import DELIVER_EVENT
from shopify_loyalty.services.paging import Page, page_of


def deliveries(session: Session, shop: Shop, page: int, size: int, *,
               endpoint_id: int | None = None, status: DeliveryStatus | None = None,
               failed: bool = False) -> Page[EventDelivery]:
    """Newest first. ``failed``: those waiting for a retry (PENDING after an attempt) and
    those FAILED."""
    query = select(EventDelivery).where(EventDelivery.shop_id == shop.id)
    if endpoint_id is not None:
        query = query.where(EventDelivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(EventDelivery.status == status)
    if failed:
        query = query.where(or_(
            EventDelivery.status == DeliveryStatus.FAILED,
            and_(EventDelivery.status == DeliveryStatus.PENDING, EventDelivery.attempts > 0)))
    return page_of(session, query.order_by(EventDelivery.id.desc()), page, size)


def delivery(session: Session, shop: Shop, delivery_id: int) -> EventDelivery:
    row = session.get(EventDelivery, delivery_id)
    if row is None or row.shop_id != shop.id:
        raise NotFoundError("No such event delivery.")
    return row


def delivery_any_shop(session: Session, delivery_id: int) -> EventDelivery:
    """The operator's look-up (the CLI names a delivery by its id alone)."""
    row = session.get(EventDelivery, delivery_id)
    if row is None:
        raise NotFoundError("No such event delivery.")
    return row


def replay(session: Session, delivery_id: int, now: datetime,
           shop: Shop | None = None) -> EventDelivery:
    """Send the delivery again at once (same ``webhook-id``, a fresh timestamp and signature
    at the send). A run queued before this replay finds itself stale and ends. A replayed
    delivery whose retries were spent gets this one attempt; one that still had retries keeps
    its schedule. ``shop`` None: the operator's CLI, any shop.
    Raises NotFoundError, ConflictError (its endpoint is disabled)."""
    row = session.get(EventDelivery, delivery_id, with_for_update=True)
    if row is None or (shop is not None and row.shop_id != shop.id):
        raise NotFoundError("No such event delivery.")
    endpoint = session.get_one(EventEndpoint, row.endpoint_id)
    if not endpoint.enabled:
        raise ConflictError("The delivery's endpoint is disabled: enable it first.")
    row.replays += 1
    row.status, row.next_attempt_at = DeliveryStatus.PENDING, now
    outbox.enqueue(session, row.shop_id, DELIVER_EVENT, row.id, row.replays)
    return row


def describe(rows: Sequence[EventDelivery], session: Session) -> list[dict[str, Any]]:
    """The deliveries as the admin API and the CLI show them (with their event's id, type)."""
    events = {e.id: (e.public_id, e.type) for e in session.execute(
        select(LoyaltyEvent.id, LoyaltyEvent.public_id, LoyaltyEvent.type)
        .where(LoyaltyEvent.id.in_({r.event_id for r in rows})))} if rows else {}
    return [{
        "id": r.id,
        "endpointId": r.endpoint_id,
        "eventId": events[r.event_id][0],
        "eventType": events[r.event_id][1],
        "status": r.status.value,
        "attempts": r.attempts,
        "lastStatusCode": r.last_status_code,
        "lastError": r.last_error,
        "lastAttemptAt": r.last_attempt_at,
        "nextAttemptAt": r.next_attempt_at,
        "deliveredAt": r.delivered_at,
        "createdAt": r.created_at,
    } for r in rows]
