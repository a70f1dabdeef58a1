"""``events endpoints add|list|disable|enable``, ``events deliveries``, ``events replay``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from shopify_loyalty.cli.output import emit, transaction, word_list
from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.services.events import deliveries, endpoints
from shopify_loyalty.services.shops import tokens as shop_tokens
from shopify_loyalty.services.shops.lookup import shop_by_domain

LIST_LIMIT = 100


def _policy() -> endpoints.EndpointPolicy:
    db: Database = current_app.extensions["loyalty_db"]
    settings: Settings = current_app.extensions["loyalty_settings"]
    return endpoints.EndpointPolicy(shop_tokens.context_of(db).cipher,
                                    settings.event_endpoints_allow_private)


@click.group(help="Outbound webhooks: the shop's event endpoints and deliveries.", cls=AppGroup)
def events() -> None:
    pass


@events.group("endpoints", help="Endpoints that receive the shop's events.", cls=AppGroup)
def endpoints_group() -> None:
    pass


@endpoints_group.command("add")
@click.argument("domain")
@click.argument("url")
@click.option("--events", "types", default=None,
              help="Comma-separated event types (default: every type).")
def add(domain: str, url: str, types: str | None) -> None:
    """Add URL for DOMAIN's events; prints its id and its secret (shown this once only)."""
    with transaction() as session:
        row, secret = endpoints.add_endpoint(session, shop_by_domain(session, domain), url,
                                             word_list(types) if types else None, _policy())
        emit({"id": row.id, "secret": secret})


@endpoints_group.command("list")
@click.argument("domain")
def list_endpoints(domain: str) -> None:
    """DOMAIN's endpoints, oldest first."""
    with transaction() as session:
        page = endpoints.endpoints(session, shop_by_domain(session, domain), 0, LIST_LIMIT)
        emit([endpoints.describe(row) for row in page.items])


def _set_enabled(domain: str, endpoint_id: int, enabled: bool) -> None:
    with transaction() as session:
        shop = shop_by_domain(session, domain)
        row = endpoints.endpoint(session, shop, endpoint_id)
        endpoints.set_enabled(row, enabled, "disabled by the operator", utcnow())
        emit(endpoints.describe(row))


@endpoints_group.command("disable")
@click.argument("domain")
@click.argument("endpoint_id", type=click.IntRange(min=1))
def disable(domain: str, endpoint_id: int) -> None:
    """Stop sending to ENDPOINT_ID (its waiting deliveries end FAILED)."""
    _set_enabled(domain, endpoint_id, False)


@endpoints_group.command("enable")
@click.argument("domain")
@click.argument("endpoint_id", type=click.IntRange(min=1))
def enable(domain: str, endpoint_id: int) -> None:
    """Send to ENDPOINT_ID again (new events; replay the ones it missed)."""
    _set_enabled(domain, endpoint_id, True)


@events.command("deliveries")
@click.argument("domain")
@click.option("--failed", is_flag=True, help="Only those waiting for a retry and those FAILED.")
@click.option("--limit", type=click.IntRange(1, 1000), default=LIST_LIMIT, show_default=True)
def list_deliveries(domain: str, failed: bool, limit: int) -> None:
    """DOMAIN's deliveries, newest first, with their last status and response code."""
    with transaction() as session:
        page = deliveries.deliveries(session, shop_by_domain(session, domain), 0, limit,
                                     failed=failed)
        emit(deliveries.describe(list(page.items), session))


@events.command("replay")
@click.argument("delivery_id", type=click.IntRange(min=1))
def replay(delivery_id: int) -> None:
    """Send DELIVERY_ID again now: the same webhook-id, a fresh timestamp and signature."""
    with transaction() as session:
        deliveries.replay(session, delivery_id, utcnow())
    # Without a broker the attempt ran right after the commit: show how it went.
    with transaction() as session:
        row = deliveries.delivery_any_shop(session, delivery_id)
        emit(deliveries.describe([row], session)[0])
