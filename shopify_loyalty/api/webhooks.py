"""``POST /webhooks``: Shopify's deliveries, every topic, verified over the raw body.

A plain Flask blueprint, not flask-smorest: the signature covers the exact bytes Shopify
sent, so the body must be read raw before anything parses it.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from shopify_loyalty.api.context import database, settings
from shopify_loyalty.errors import InvalidJsonError, UnauthorizedError, ValidationError
from shopify_loyalty.services.orders import receipt, webhooks
from shopify_loyalty.shopify.webhook_hmac import verify_webhook
from shopify_loyalty.telemetry import metrics

log = logging.getLogger(__name__)
blp = Blueprint("webhooks", __name__)

# Shopify's largest payloads (orders with hundreds of lines) stay well below this; the
# app-wide limit (1 MB) is for the JSON API and would refuse some real orders.
MAX_WEBHOOK_BYTES = 10 * 1024 * 1024
_SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9.-]{0,250}$")
_HEADER_VALUE = re.compile(r"^[\x21-\x7e]{1,128}$")


def _required(name: str) -> str:
    value = request.headers.get(name, "").strip()
    if not _HEADER_VALUE.match(value):
        raise ValidationError(errors={name: ["Missing or malformed."]})
    return value


def _timestamp(value: str | None) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def _without_nul(value: Any) -> Any:
    """The payload with each NUL character replaced by U+FFFD: PostgreSQL's JSONB cannot hold
    one, and a delivery Shopify signed is stored rather than refused (it would be retried for
    hours, then lost)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def _utf8(body: bytes) -> str | None:
    """The body as text, without a byte order mark (json.loads reads UTF-16 and UTF-32 too:
    those payloads are encoded again)."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


@blp.post("/webhooks")
def receive() -> Response:
    """200 once stored (or a duplicate, or for a shop we do not serve); 401 bad signature.

    Errors: 401 `unauthorized`, 413 body over 10 MB, 400 `invalid_json`, 422
    `validation_error` (a missing Shopify header).
    """
    request.max_content_length = MAX_WEBHOOK_BYTES
    body = request.get_data(cache=False)
    if not verify_webhook(body, request.headers.get("X-Shopify-Hmac-Sha256"),
                          settings().api_secrets):
        raise UnauthorizedError("Webhook signature does not match.")
    try:
        payload = json.loads(body)
        if b"\\u0000" in body:
            payload = _without_nul(payload)
    except (ValueError, RecursionError) as exc:
        raise InvalidJsonError() from exc
    domain = _required("X-Shopify-Shop-Domain").lower()
    if not _SHOP_DOMAIN.match(domain):
        raise ValidationError(errors={"X-Shopify-Shop-Domain": ["Not a shop domain."]})
    delivery = webhooks.Delivery(
        topic=_required("X-Shopify-Topic").lower(),
        shop_domain=domain,
        webhook_id=_required("X-Shopify-Webhook-Id"),
        event_id=request.headers.get("X-Shopify-Event-Id", "")[:128] or None,
        triggered_at=_timestamp(request.headers.get("X-Shopify-Triggered-At")),
        payload=payload,
        body=None if b"\\u0000" in body else _utf8(body),
    )
    event_id = receipt.store_delivery(database(), delivery)
    metrics.WEBHOOKS_RECEIVED.labels(metrics.topic_label(delivery.topic),
                                     "stored" if event_id else "ignored").inc()
    return Response(status=200)
