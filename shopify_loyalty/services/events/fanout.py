"""The fan-out of an event to the shop's endpoints, in the event's own transaction.

``catalog.emit`` calls ``fan_out`` for every event: one indexed query for the shop's enabled
endpoints (``ix_event_endpoints_shop_id_enabled``) a transaction (a redemption emits two
events: the second is answered from the first's read, forgotten when an endpoint of the
transaction is written), and nothing more when there is none. Otherwise one delivery row
per subscribed endpoint and one outbox row each, so a rolled-back change delivers nothing
and a committed one is delivered at least once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, event, insert, select
from sqlalchemy.orm import Session, object_session

from shopify_loyalty.db import utcnow
from shopify_loyalty.db_reuse import transaction_memo
from shopify_loyalty.models import DeliveryStatus, EventDelivery, EventEndpoint, LoyaltyEvent
from shopify_loyalty.services import outbox
from shopify_loyalty.services.program_cache import program_values

DELIVER_EVENT = "loyalty.deliver_event"


def fan_out(session: Session, event: LoyaltyEvent) -> list[int]:
    """The ids of the delivery rows made (none when no enabled endpoint wants the type)."""
    wanted = [endpoint_id for endpoint_id, types in _enabled_endpoints(session, event.shop_id)
              if types is None or event.type in types]
    if not wanted:
        return []
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


def _enabled_endpoints(session: Session, shop_id: int) -> list[tuple[int, list[str] | None]]:
    """The shop's enabled endpoints and their types, read once a transaction (and kept by
    the process while the shop's program is unchanged: services.program_cache)."""
    memo = transaction_memo(session, ENDPOINTS_MEMO)
    if shop_id not in memo:
        # Without a flush: what the caller has pending goes in with its next statement.
        with session.no_autoflush:
            memo[shop_id] = program_values(session, shop_id, "endpoints",
                                           lambda: _read_enabled(session, shop_id))
    found: list[tuple[int, list[str] | None]] = memo[shop_id]
    return found


def _read_enabled(session: Session, shop_id: int) -> list[tuple[int, list[str] | None]]:
    return [(row.id, row.event_types)
            for row in session.execute(_ENABLED_OF_SHOP, {"shop": shop_id})]


_ENABLED_OF_SHOP = (select(EventEndpoint.id, EventEndpoint.event_types)
                    .where(EventEndpoint.shop_id == bindparam("shop"),
                           EventEndpoint.enabled.is_(True)))


ENDPOINTS_MEMO = "enabled_endpoints"


@event.listens_for(EventEndpoint, "after_insert")
@event.listens_for(EventEndpoint, "after_update")
@event.listens_for(EventEndpoint, "after_delete")
def _endpoint_written(_mapper: Any, _connection: Any, endpoint: EventEndpoint) -> None:
    session = object_session(endpoint)
    if session is not None:
        transaction_memo(session, ENDPOINTS_MEMO).clear()
