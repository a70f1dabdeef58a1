from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from shopify_loyalty.cli.output import emit, transaction
from shopify_loyalty.models import WebhookEvent
from shopify_loyalty.services.orders import webhooks as service


def event_json(event: WebhookEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "shop": event.shop_domain,
        "topic": event.topic,
        "webhookId": event.webhook_id,
        "status": event.status.value,
        "attempts": event.attempts,
        "error": event.error,
        "receivedAt": event.received_at,
        "processedAt": event.processed_at,
    }


@click.group(help="Shopify webhook deliveries.", cls=AppGroup)
def webhooks() -> None:
    pass


@webhooks.command("failed")
@click.argument("domain", required=False)
def failed(domain: str | None) -> None:
    """Events whose processing failed for good, oldest first (of DOMAIN, or of every shop)."""
    with transaction() as session:
        shop_domain = domain.strip().lower() if domain else None
        emit([event_json(e) for e in service.failed_events(session, shop_domain)])


@webhooks.command("retry")
@click.argument("event_id", type=click.IntRange(min=1))
def retry(event_id: int) -> None:
    """Process EVENT_ID again (after the cause of its failure was fixed)."""
    with transaction() as session:
        service.retry_event(session, event_id)
    # Without a broker the retry ran right after the commit: show how it ended.
    with transaction() as session:
        event = session.get_one(WebhookEvent, event_id)
        emit(event_json(event))
