"""Shopify webhooks: receive (store once, queue), process by topic, record failures.

Receiving does as little as it can, so Shopify gets its answer within milliseconds (it
waits 5 s, then retries): one insert that skips a duplicate ``X-Shopify-Webhook-Id`` and
one outbox row. ``loyalty.process_webhook`` does the work later, idempotent on the business
keys (order, refund, customer), so a delivery Shopify sends again with a new id, or the same
order under three topics, has one effect. See https://shopify.dev/docs/apps/build/webhooks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from shopify_loyalty.db import backend_insert
from shopify_loyalty.db_reuse import per_backend, table_of
from shopify_loyalty.errors import NotFoundError, ValidationError
from shopify_loyalty.models import Shop, WebhookEvent, WebhookStatus
from shopify_loyalty.services import outbox
from shopify_loyalty.services.customers import actions, privacy
from shopify_loyalty.services.customers.enrolment import enrol, find_customer
from shopify_loyalty.services.customers.profiles import apply_profile, apply_tag_change
from shopify_loyalty.services.orders import earning, reversals
from shopify_loyalty.services.rewards import usage as reward_usage
from shopify_loyalty.services.shops import installation
from shopify_loyalty.shopify import consent_payloads, tag_payloads
from shopify_loyalty.shopify import webhook_payloads as payloads

log = logging.getLogger(__name__)

PROCESS_WEBHOOK = "loyalty.process_webhook"
# Many events' rows in one message, each applied as PROCESS_WEBHOOK would (jobs.batching).
PROCESS_WEBHOOKS = "loyalty.process_webhooks"
# Shopify sends these after an uninstall (shop/redact 48 hours later); the law wants them
# honoured, so they are the only topics an uninstalled shop's deliveries are stored for.
PRIVACY_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/paid", "orders/fulfilled"})
# What each ``earn_on`` setting waits for: the topic, or an order state seen in any topic
# (so a lost orders/paid is made up by the next orders/updated).
EARNING_TOPIC = {"created": "orders/create", "paid": "orders/paid",
                 "fulfilled": "orders/fulfilled"}
PAID_STATES = frozenset({"paid", "partially_refunded", "refunded"})
# An error message kept for the operator, not a log file.
MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class Delivery:
    topic: str
    shop_domain: str
    webhook_id: str
    event_id: str | None
    triggered_at: datetime | None
    payload: Any
    # The payload's JSON as Shopify sent it, when it can be stored as it is (it holds no NUL
    # escape, which JSONB refuses): stored without being encoded again (receipt.py).
    body: str | None = None


def receive(session: Session, delivery: Delivery) -> int | None:
    """Store the delivery and queue its processing; its event id, or None when ignored.

    Nothing is stored for a duplicate webhook id, an unknown shop, or an uninstalled shop
    (except the privacy topics). A topic we do not handle is stored as PROCESSED.
    """
    shop = session.execute(_SHOP_OF_DOMAIN, {"domain": delivery.shop_domain}).first()
    if shop is None or (shop.uninstalled_at is not None
                        and delivery.topic not in PRIVACY_TOPICS):
        log.info("webhook %s %s for unknown or uninstalled shop %s: ignored",
                 delivery.topic, delivery.webhook_id, delivery.shop_domain)
        return None
    handled = is_handled(delivery.topic)
    event_id = session.execute(_store_statement(session), {
        "shop_id": shop.id, "shop_domain": delivery.shop_domain, "topic": delivery.topic,
        "webhook_id": delivery.webhook_id, "event_id": delivery.event_id,
        "triggered_at": delivery.triggered_at, "payload": delivery.payload,
        "status": WebhookStatus.RECEIVED if handled else WebhookStatus.PROCESSED,
    }).scalar()
    if event_id is None:
        log.info("webhook %s delivered again: ignored", delivery.webhook_id)
        return None
    if handled:
        outbox.enqueue(session, shop.id, PROCESS_WEBHOOK, event_id)
    return int(event_id)


# Built once (db.table_of, db.per_backend): every delivery runs both.
_SHOPS = table_of(Shop)
_SHOP_OF_DOMAIN = (select(_SHOPS.c.id, _SHOPS.c.uninstalled_at)
                   .where(_SHOPS.c.domain == bindparam("domain")))


@per_backend
def _store_statement(dialect: str) -> Any:
    events = table_of(WebhookEvent)
    return (backend_insert(dialect, events)
            .on_conflict_do_nothing(index_elements=["webhook_id"])
            .returning(events.c.id))


def is_handled(topic: str) -> bool:
    """Whether a topic's deliveries are processed (the others are stored PROCESSED)."""
    return topic in HANDLERS or topic == "shop/redact"


def process_event(session: Session, event_id: int, now: datetime) -> WebhookEvent | None:
    """Apply a stored event once; the event, when this call processed it.

    Raises WebhookPayloadError for a payload we cannot use; any other error is worth a retry
    (the caller's transaction rolls back).
    """
    row = session.execute(
        select(WebhookEvent, Shop).outerjoin(Shop, Shop.id == WebhookEvent.shop_id)
        .where(WebhookEvent.id == event_id).with_for_update(of=WebhookEvent)
    ).first()
    if row is None or row[0].status is WebhookStatus.PROCESSED or row[1] is None:
        return None
    event, shop = row
    if event.topic == "shop/redact":
        # Deletes this event too: nothing is left to mark processed.
        privacy.redact_shop(session, shop)
        return None
    HANDLERS[event.topic](session, shop, event.topic, event.payload, now)
    event.status = WebhookStatus.PROCESSED
    event.attempts += 1
    event.error = None
    event.processed_at = now
    return event


def record_failure(session: Session, event_id: int, error: str, final: bool) -> None:
    """Count a failed attempt and keep its error; the last one leaves the event FAILED."""
    event = session.get(WebhookEvent, event_id)
    if event is None:
        return
    event.attempts += 1
    event.error = error[:MAX_ERROR_LENGTH]
    if final:
        event.status = WebhookStatus.FAILED


def failed_events(session: Session, shop_domain: str | None = None) -> Sequence[WebhookEvent]:
    query = select(WebhookEvent).where(WebhookEvent.status == WebhookStatus.FAILED)
    if shop_domain is not None:
        query = query.where(WebhookEvent.shop_domain == shop_domain)
    return session.scalars(query.order_by(WebhookEvent.id)).all()


def retry_event(session: Session, event_id: int) -> WebhookEvent:
    """Queue a FAILED (or stuck RECEIVED) event again.

    Raises NotFoundError, ValidationError for an event already processed.
    """
    event = session.get(WebhookEvent, event_id, with_for_update=True)
    if event is None:
        raise NotFoundError(f"No webhook event {event_id}.")
    if event.status is WebhookStatus.PROCESSED:
        raise ValidationError(errors={"eventId": ["Already processed."]})
    event.status = WebhookStatus.RECEIVED
    event.error = None
    outbox.enqueue(session, event.shop_id, PROCESS_WEBHOOK, event.id)
    return event


def _order(session: Session, shop: Shop, topic: str, payload: Any, now: datetime) -> None:
    order = payloads.order_facts(payload)
    reward_usage.mark_used(session, shop, order, now)
    earn_on = shop.setting("earn_on")
    earns = topic == EARNING_TOPIC.get(earn_on) or (
        earn_on == "created"
        or (earn_on == "paid" and order.financial_status in PAID_STATES)
        or (earn_on == "fulfilled" and order.fulfillment_status == "fulfilled")
    )
    if earns:
        earning.earn_for_order(session, shop, order, now)
    if topic == "orders/paid" or order.financial_status in PAID_STATES:
        earning.on_paid(session, shop, order, now)


def _cancelled(session: Session, shop: Shop, topic: str, payload: Any, now: datetime) -> None:
    order = payloads.order_facts(payload)
    reversals.reverse_for_cancel(session, shop, order.id, now, order.cancelled_at)


def _refund(session: Session, shop: Shop, topic: str, payload: Any, now: datetime) -> None:
    reversals.reverse_for_refund(session, shop, payloads.refund_facts(payload), now)


def _customer(session: Session, shop: Shop, topic: str, payload: Any, now: datetime) -> None:
    profile = payloads.customer_profile(payload)
    customer = enrol(session, shop, profile.shopify_customer_id, profile)
    apply_profile(shop, customer, profile)
    actions.apply_consent(session, shop, customer, profile.email_marketing,
                          profile.sms_marketing, now)


def _consent(session: Session, shop: Shop, topic: str, payload: Any, now: datetime) -> None:
    update = consent_payloads.consent_update(topic, payload)
    customer = enrol(session, shop, update.shopify_customer_id)
    actions.apply_consent(session, shop, customer, update.email_marketing,
                          update.sms_marketing, now)


def _tags(session: Session, shop: Shop, topic: str, payload: Any, now: datetime) -> None:
    change = tag_payloads.tag_change(topic, payload)
    customer = enrol(session, shop, change.shopify_customer_id)
    apply_tag_change(shop, customer, change.tags, change.added)


def _uninstalled(session: Session, shop: Shop, topic: str, payload: Any, now: datetime) -> None:
    installation.uninstall(shop, now)


def _data_request(session: Session, shop: Shop, topic: str, payload: Any, now: datetime) -> None:
    customer_id = payloads.redacted_customer_id(payload)
    privacy.store_export(session, shop, customer_id, payloads.data_request_id(payload))


def _redact(session: Session, shop: Shop, topic: str, payload: Any, now: datetime) -> None:
    customer_id = payloads.redacted_customer_id(payload)
    orders = payload.get("orders_to_redact") or []
    order_ids = [i for i in orders if isinstance(i, int)] if isinstance(orders, list) else []
    if find_customer(session, shop, customer_id) is None and not order_ids:
        return
    privacy.redact_customer(session, shop, customer_id, order_ids)


Handler = Callable[[Session, Shop, str, Any, datetime], None]
HANDLERS: dict[str, Handler] = {
    **dict.fromkeys(ORDER_TOPICS, _order),
    "orders/cancelled": _cancelled,
    "refunds/create": _refund,
    "customers/create": _customer,
    "customers/update": _customer,
    consent_payloads.EMAIL_CONSENT_TOPIC: _consent,
    consent_payloads.SMS_CONSENT_TOPIC: _consent,
    tag_payloads.TAGS_ADDED_TOPIC: _tags,
    tag_payloads.TAGS_REMOVED_TOPIC: _tags,
    "app/uninstalled": _uninstalled,
    "customers/data_request": _data_request,
    "customers/redact": _redact,
}
