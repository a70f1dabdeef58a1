"""The merchant's event endpoints: add (the secret shown once), list, change, enable, remove.

Every function is scoped by the shop: another shop's endpoint is a NotFoundError (404).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.errors import NotFoundError, ValidationError
from shopify_loyalty.models import EventEndpoint, Shop
from shopify_loyalty.services.events import catalog, signing, urls
from shopify_loyalty.services.paging import Page, page_of
from shopify_loyalty.token_cipher import TokenCipher

# A shop's endpoints are few (a CRM, a flow tool, a warehouse); the bound keeps the fan-out
# on every event small.
MAX_ENDPOINTS_PER_SHOP = 20


class UnknownEventTypeError(ValidationError):
    code = "unknown_event_type"
    message = "Not an event type of the catalog."


@dataclass(frozen=True)
class EndpointPolicy:
    """What the edge knows from the settings: the cipher of secrets, and the SSRF rule."""

    cipher: TokenCipher
    allow_private: bool


def event_types(types: Iterable[str] | None) -> list[str] | None:
    """The subscription as stored: None for every type, else the catalog's types given."""
    if types is None:
        return None
    chosen = list(dict.fromkeys(t.strip() for t in types if t.strip()))
    unknown = [t for t in chosen if t not in catalog.TYPES]
    if unknown:
        raise UnknownEventTypeError(
            f"Unknown event types: {', '.join(unknown)}.",
            errors={"eventTypes": [f"one of {', '.join(catalog.TYPES)}"]})
    if not chosen:
        raise UnknownEventTypeError("Subscribe to at least one event type, or to all (null).")
    return chosen


def add_endpoint(session: Session, shop: Shop, url: str, types: Iterable[str] | None,
                 policy: EndpointPolicy) -> tuple[EventEndpoint, str]:
    """A new enabled endpoint and its ``whsec_…`` secret (returned now, never again)."""
    subscribed = event_types(types)
    urls.check(url, policy.allow_private)
    count = len(session.scalars(
        select(EventEndpoint.id).where(EventEndpoint.shop_id == shop.id)).all())
    if count >= MAX_ENDPOINTS_PER_SHOP:
        raise ValidationError(f"A shop has at most {MAX_ENDPOINTS_PER_SHOP} endpoints.")
    secret = signing.new_secret()
    endpoint = EventEndpoint(shop_id=shop.id, url=url.strip(), event_types=subscribed,
                             secret_enc=policy.cipher.encrypt(secret), enabled=True,
                             created_at=utcnow())
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def endpoints(session: Session, shop: Shop, page: int, size: int) -> Page[EventEndpoint]:
    query = select(EventEndpoint).where(EventEndpoint.shop_id == shop.id)
    return page_of(session, query.order_by(EventEndpoint.id), page, size)


def endpoint(session: Session, shop: Shop, endpoint_id: int) -> EventEndpoint:
    row = session.get(EventEndpoint, endpoint_id)
    if row is None or row.shop_id != shop.id:
        raise NotFoundError("No such event endpoint.")
    return row


def update_endpoint(session: Session, shop: Shop, endpoint_id: int,
                    changes: Mapping[str, Any], policy: EndpointPolicy) -> EventEndpoint:
    """``changes`` may hold ``url``, ``event_types`` (None: every type) and ``enabled``."""
    row = endpoint(session, shop, endpoint_id)
    if "url" in changes:
        urls.check(changes["url"], policy.allow_private)
        row.url = str(changes["url"]).strip()
    if "event_types" in changes:
        row.event_types = event_types(changes["event_types"])
    if "enabled" in changes:
        set_enabled(row, bool(changes["enabled"]), "disabled by the merchant", utcnow())
    return row


def set_enabled(row: EventEndpoint, enabled: bool, reason: str, now: datetime) -> None:
    """Enabling starts afresh (no failing_since); disabling records why."""
    if enabled and not row.enabled:
        row.enabled, row.disabled_at, row.disabled_reason = True, None, None
        row.failing_since = None
    elif not enabled and row.enabled:
        row.enabled, row.disabled_at, row.disabled_reason = False, now, reason[:255]


def delete_endpoint(session: Session, shop: Shop, endpoint_id: int) -> None:
    """Its deliveries go with it (a queued attempt finds nothing and ends)."""
    session.delete(endpoint(session, shop, endpoint_id))


def describe(row: EventEndpoint) -> dict[str, Any]:
    """The endpoint as the admin API and the CLI show it (never its secret)."""
    return {
        "id": row.id,
        "url": row.url,
        "eventTypes": row.event_types,
        "enabled": row.enabled,
        "disabledReason": row.disabled_reason,
        "failingSince": row.failing_since,
        "createdAt": row.created_at,
    }
