"""The fan-out of an event to the shop's endpoints, in the event's own transaction.

``catalog.emit`` calls ``fan_out`` for every event: one indexed query for the shop's enabled
endpoints (``ix_event_endpoints_shop_id_enabled``), and nothing more when there is none (the
redemption path). Otherwise one delivery row per subscribed endpoint and one outbox row each,
so a rolled-back change delivers nothing and a committed one is delivered at least once.
"""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.models import DeliveryStatus, EventDelivery, EventEndpoint, LoyaltyEvent
from shopify_loyalty.services import outbox

DELIVER_EVENT = "loyalty.deliver_event"


def fan_out(session: Session, event: LoyaltyEvent) -> list[int]:
    """The ids of the delivery rows made (none when no enabled endpoint wants the type)."""
    rows = session.execute(
        select(EventEndpoint.id, EventEndpoint.event_types)
        .where(EventEndpoint.shop_id == event.shop_id, EventEndpoint.enabled.is_(True))
    ).all()
    wanted = [row.id for row in rows if row.event_types is None or event.type in row.event_types]
    if not wanted:
        return []
    session.flush()
    now = utcnow()
    delivery_ids = list(session.scalars(
        insert(EventDelivery).returning(EventDelivery.id, sort_by_parameter_order=True),
        [{"shop_id": event.shop_id, "event_id": event.id, "endpoint_id": endpoint_id,
          "status": DeliveryStatus.PENDING, "attempts": 0, "replays": 0,
          "next_attempt_at": now, "created_at": now} for endpoint_id in wanted],
    ))
    for delivery_id in delivery_ids:
        outbox.enqueue(session, event.shop_id, DELIVER_EVENT, delivery_id, 0)
    return delivery_ids
