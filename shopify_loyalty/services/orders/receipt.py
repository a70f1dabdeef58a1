"""Storing a Shopify delivery while Shopify waits for the answer: the acknowledgement's path.

``webhooks.receive`` says what is stored (a duplicate webhook id, an unknown shop and an
uninstalled one, but for the privacy topics, store nothing; a topic we do not handle is
stored PROCESSED with nothing queued). On PostgreSQL ``store_delivery`` does the same in one
autocommitted statement: the shop's check, the event row and its outbox row are one
``INSERT … SELECT`` chain of data-modifying CTEs, so the acknowledgement costs one round trip
instead of five (BEGIN, the shop, the event, the outbox row, COMMIT) and no ORM session,
and the two rows still commit together or not at all. Elsewhere (the embedded SQLite
default) it is ``receive`` in a unit of work. ``tests/integration/test_webhook_receipt.py``
holds both backends to the same answers.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import Boolean, Select, Text, bindparam, cast, func, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

from shopify_loyalty.db import Database, QueuedTask, utcnow
from shopify_loyalty.db_driver import DriverStatement, first_on_driver
from shopify_loyalty.db_reuse import table_of
from shopify_loyalty.models import OutboxMessage, Shop, WebhookEvent, WebhookStatus
from shopify_loyalty.services import outbox
from shopify_loyalty.services.orders import webhooks

log = logging.getLogger(__name__)


def store_delivery(db: Database, delivery: webhooks.Delivery) -> int | None:
    """Store the delivery and queue its processing, committed; its event id, or None when
    it was ignored. The processing is handed to the dispatcher after the commit, as a unit
    of work's tasks are."""
    if not db.is_postgres:
        with db.unit_of_work() as session:
            return webhooks.receive(session, delivery)
    handled = webhooks.is_handled(delivery.topic)
    now = utcnow()
    lease = db.send_lease if db.dispatcher is not None else None
    row = first_on_driver(db, _STORE_AND_QUEUE_SQL, {
        "domain": delivery.shop_domain,
        "privacy": delivery.topic in webhooks.PRIVACY_TOPICS,
        "topic": delivery.topic, "webhook_id": delivery.webhook_id,
        "event_id": delivery.event_id, "triggered_at": delivery.triggered_at,
        "payload": delivery.body if delivery.body is not None else json.dumps(delivery.payload),
        "received_at": now,
        "status": (WebhookStatus.RECEIVED if handled else WebhookStatus.PROCESSED).value,
        "handled": handled,
        **{f"outbox_{name}": value for name, value in outbox.row_values(
            None, webhooks.PROCESS_WEBHOOK, now, lease).items() if name != "shop_id"},
    })
    if row is None:
        log.info("webhook %s %s for shop %s: ignored (delivered again, or the shop is unknown "
                 "or uninstalled)", delivery.topic, delivery.webhook_id, delivery.shop_domain)
        return None
    event_id, shop_id, outbox_id = row
    if outbox_id is not None and db.dispatcher is not None:
        db.dispatcher([QueuedTask(outbox_id, webhooks.PROCESS_WEBHOOK, [event_id], shop_id,
                                  leased=lease is not None)])
    return int(event_id)


def _typed(name: str, column: Any) -> Any:
    return bindparam(name, type_=column.type)


def _store_and_queue() -> Select[Any]:
    """(event id, shop id, outbox id or NULL), or no row when nothing was stored."""
    shops, events, rows = table_of(Shop), table_of(WebhookEvent), table_of(OutboxMessage)
    shop = (
        select(shops.c.id, shops.c.domain)
        .where(shops.c.domain == bindparam("domain"),
               or_(shops.c.uninstalled_at.is_(None), bindparam("privacy", type_=Boolean)))
        .cte("shop")
    )
    e = events.c
    stored = (
        postgresql.insert(events)
        .from_select(
            ["shop_id", "shop_domain", "topic", "webhook_id", "event_id", "triggered_at",
             "payload", "status", "attempts", "received_at"],
            select(shop.c.id, shop.c.domain, _typed("topic", e.topic),
                   _typed("webhook_id", e.webhook_id), _typed("event_id", e.event_id),
                   _typed("triggered_at", e.triggered_at),
                   # The JSON text as it came: the server parses it, nothing encodes it again.
                   cast(bindparam("payload", type_=Text), JSONB),
                   _typed("status", e.status), bindparam("attempts", 0),
                   _typed("received_at", e.received_at)),
            include_defaults=False)
        .on_conflict_do_nothing(index_elements=["webhook_id"])
        .returning(e.id, e.shop_id)
        .cte("stored")
    )
    o = rows.c
    queued = (
        postgresql.insert(rows)
        .from_select(
            ["shop_id", "task_name", "args", "created_at", "due_at", "request_id", "sent_at",
             "attempts", "abandoned"],
            select(stored.c.shop_id, _typed("outbox_task_name", o.task_name),
                   func.jsonb_build_array(stored.c.id),
                   _typed("outbox_created_at", o.created_at), _typed("outbox_due_at", o.due_at),
                   _typed("outbox_request_id", o.request_id),
                   _typed("outbox_sent_at", o.sent_at), bindparam("outbox_attempts", 0),
                   bindparam("outbox_abandoned", False))
            .where(bindparam("handled", type_=Boolean)),
            include_defaults=False)
        .returning(o.id)
        .cte("queued")
    )
    return select(stored.c.id, stored.c.shop_id, select(queued.c.id).scalar_subquery())


# Compiled once: every acknowledgement on PostgreSQL runs it on the driver's connection.
_STORE_AND_QUEUE_SQL = DriverStatement(_store_and_queue())
