"""The customer tag topics: tags added to or removed from a customer.

From Admin API 2025-01 on, the customer payloads no longer carry ``tags``; Shopify sends
``customer.tags_added`` and ``customer.tags_removed`` instead
(https://shopify.dev/changelog/new-customer-s-webhook-and-changes-to-existing-customer-s-webhooks-payload;
topics CUSTOMER_TAGS_ADDED and CUSTOMER_TAGS_REMOVED in the Admin schema). Their body names the
customer and the tags. We could not check a captured body here, so the parser takes the
customer as ``customerId`` (a GID or a number), ``customer_id`` or ``id``, and the tags as a
list or a comma-separated string: whichever of these the body has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shopify_loyalty.shopify.webhook_payloads import MAX_ID, WebhookPayloadError, tag_list

TAGS_ADDED_TOPIC = "customer.tags_added"
TAGS_REMOVED_TOPIC = "customer.tags_removed"
_CUSTOMER_GID = re.compile(r"^gid://shopify/Customer/(\d{1,19})$")


@dataclass(frozen=True)
class TagChange:
    shopify_customer_id: int
    tags: list[str]
    added: bool


def tag_change(topic: str, payload: Any) -> TagChange:
    """Raises WebhookPayloadError for a body that names no customer."""
    if not isinstance(payload, dict):
        raise WebhookPayloadError("payload is not a JSON object.")
    customer_id = next((_customer_id(payload.get(name))
                        for name in ("customerId", "customer_id", "id")
                        if _customer_id(payload.get(name)) is not None), None)
    if customer_id is None:
        raise WebhookPayloadError("The tag change names no customer.")
    return TagChange(customer_id, tag_list(payload.get("tags")), topic == TAGS_ADDED_TOPIC)


def _customer_id(value: Any) -> int | None:
    if isinstance(value, str):
        found = _CUSTOMER_GID.match(value)
        value = int(found[1]) if found else (int(value) if value.isdigit() else None)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        return None
    return value
