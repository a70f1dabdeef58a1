"""The marketing-consent topics: a customer's email or SMS consent changed.

From Admin API 2025-01 on, ``customers/create|update`` no longer carry
``email_marketing_consent`` and ``sms_marketing_consent``; Shopify sends them in
``customers_email_marketing_consent/update`` (``customer_id``, ``email_address``,
``email_marketing_consent``) and ``customers_marketing_consent/update`` (``id``, ``phone``,
``sms_marketing_consent``) instead
(https://shopify.dev/changelog/new-customer-s-webhook-and-changes-to-existing-customer-s-webhooks-payload).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopify_loyalty.shopify.webhook_payloads import (
    WebhookPayloadError,
    consent_state,
    shopify_id,
)

EMAIL_CONSENT_TOPIC = "customers_email_marketing_consent/update"
SMS_CONSENT_TOPIC = "customers_marketing_consent/update"


@dataclass(frozen=True)
class ConsentUpdate:
    shopify_customer_id: int
    email_marketing: str | None = None
    sms_marketing: str | None = None


def consent_update(topic: str, payload: Any) -> ConsentUpdate:
    """Raises WebhookPayloadError for a payload without a customer id."""
    if not isinstance(payload, dict):
        raise WebhookPayloadError("payload is not a JSON object.")
    if topic == EMAIL_CONSENT_TOPIC:
        return ConsentUpdate(shopify_id(payload, "customer_id"),
                             email_marketing=consent_state(payload, "email_marketing_consent"))
    return ConsentUpdate(shopify_id(payload, "id"),
                         sms_marketing=consent_state(payload, "sms_marketing_consent"))
