"""The parts of Shopify's webhook payloads we use, read strictly into small records.

Payloads are Shopify's REST shapes (https://shopify.dev/docs/api/webhooks). Amounts are read
from the ``*_set.shop_money`` fields when present: points are earned per unit of the shop's
currency, and an order paid in another presentment currency must earn the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shopify_loyalty.errors import LoyaltyError

MAX_ID = 2**63 - 1


class WebhookPayloadError(LoyaltyError):
    """The payload lacks a field we need or has one of the wrong type: retrying won't help."""

    status = 422
    code = "invalid_webhook_payload"
    message = "The webhook payload is not what this topic carries."


@dataclass(frozen=True)
class PostalAddress:
    address1: str | None
    address2: str | None
    city: str | None
    zip: str | None
    country_code: str | None


@dataclass(frozen=True)
class CustomerProfile:
    shopify_customer_id: int
    email: str | None
    first_name: str | None
    last_name: str | None
    tags: list[str] | None
    # Shopify's updated_at: an older profile arriving late must not undo a newer one.
    updated_at: datetime | None = None
    # ``email_marketing_consent.state`` / ``sms_marketing_consent.state`` ("subscribed", …),
    # None when the payload has none (API versions from 2025-01 send them in their own
    # topics: shopify.consent_payloads).
    email_marketing: str | None = None
    sms_marketing: str | None = None
    default_address: PostalAddress | None = None


@dataclass(frozen=True)
class OrderFacts:
    id: int
    name: str | None
    customer: CustomerProfile | None
    discount_codes: list[str]
    subtotal: Decimal  # after discounts, before shipping and tax (tax included if prices are)
    shipping: Decimal
    tax: Decimal
    taxes_included: bool
    financial_status: str | None
    fulfillment_status: str | None
    cancelled: bool
    created_at: datetime | None
    email: str | None = None
    shipping_address: PostalAddress | None = None
    # When Shopify processed the order (an imported order keeps its own, older date): the
    # instant it counts at for tier progress.
    processed_at: datetime | None = None
    cancelled_at: datetime | None = None


@dataclass(frozen=True)
class RefundFacts:
    id: int
    order_id: int
    subtotal: Decimal  # the refunded line items' subtotals
    processed_at: datetime | None = None  # processed_at, else created_at


def _object(payload: Any, what: str = "payload") -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise WebhookPayloadError(f"{what} is not a JSON object.")
    return payload


def shopify_id(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise WebhookPayloadError(f"{name} is missing or not a Shopify id.")
    return value


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) else None


def _money(data: Mapping[str, Any], name: str, required: bool = False) -> Decimal:
    """``name_set.shop_money.amount`` if present, else ``name``; 0 when both are absent."""
    money_set = data.get(f"{name}_set")
    value: Any = data.get(name)
    if isinstance(money_set, Mapping) and isinstance(money_set.get("shop_money"), Mapping):
        value = money_set["shop_money"].get("amount")
    if value is None and not required:
        return Decimal("0")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise WebhookPayloadError(f"{name} is not an amount.")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise WebhookPayloadError(f"{name} is not an amount.") from exc
    if not amount.is_finite() or amount < 0:
        raise WebhookPayloadError(f"{name} is not an amount.")
    return amount


def _timestamp(data: Mapping[str, Any], name: str) -> datetime | None:
    value = data.get(name)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def tag_list(value: Any) -> list[str]:
    """Shopify sends a customer's tags as one comma-separated string."""
    if isinstance(value, list):
        return [str(tag).strip() for tag in value if str(tag).strip()]
    if isinstance(value, str):
        return [tag.strip() for tag in value.split(",") if tag.strip()]
    return []


def consent_state(data: Mapping[str, Any], name: str) -> str | None:
    """``name.state`` lower-cased (Shopify's REST payloads send "subscribed", …), or None."""
    consent = data.get(name)
    state = consent.get("state") if isinstance(consent, Mapping) else None
    return state.strip().lower() if isinstance(state, str) else None


def postal_address(value: Any) -> PostalAddress | None:
    if not isinstance(value, Mapping):
        return None
    return PostalAddress(_text(value, "address1"), _text(value, "address2"),
                         _text(value, "city"), _text(value, "zip"), _text(value, "country_code"))


def customer_profile(payload: Any) -> CustomerProfile:
    data = _object(payload, "customer")
    return CustomerProfile(
        shopify_customer_id=shopify_id(data, "id"),
        email=_text(data, "email"),
        first_name=_text(data, "first_name"),
        last_name=_text(data, "last_name"),
        # Absent since API 2025-01 (tag_payloads): None leaves the customer's tags alone.
        tags=tag_list(data["tags"]) if "tags" in data else None,
        updated_at=_timestamp(data, "updated_at"),
        email_marketing=consent_state(data, "email_marketing_consent"),
        sms_marketing=consent_state(data, "sms_marketing_consent"),
        default_address=postal_address(data.get("default_address")),
    )


def order_facts(payload: Any) -> OrderFacts:
    data = _object(payload)
    customer = data.get("customer")
    codes = data.get("discount_codes") or []
    if not isinstance(codes, list):
        raise WebhookPayloadError("discount_codes is not a list.")
    shipping_lines = data.get("shipping_lines") or []
    if not isinstance(shipping_lines, list):
        raise WebhookPayloadError("shipping_lines is not a list.")
    return OrderFacts(
        id=shopify_id(data, "id"),
        name=_text(data, "name"),
        # A guest checkout has no customer (null, or absent in older versions).
        customer=customer_profile(customer) if customer else None,
        discount_codes=[c["code"] for c in codes
                        if isinstance(c, Mapping) and isinstance(c.get("code"), str)],
        subtotal=_money(data, "subtotal_price", required=True),
        # The price of each shipping line after its own discounts.
        shipping=sum((_money(_object(line, "shipping line"), "discounted_price")
                      for line in shipping_lines), Decimal("0")),
        tax=_money(data, "total_tax"),
        taxes_included=data.get("taxes_included") is True,
        financial_status=_text(data, "financial_status"),
        fulfillment_status=_text(data, "fulfillment_status"),
        cancelled=data.get("cancelled_at") is not None,
        created_at=_timestamp(data, "created_at"),
        email=_text(data, "email") or _text(data, "contact_email"),
        shipping_address=postal_address(data.get("shipping_address")),
        processed_at=_timestamp(data, "processed_at"),
        cancelled_at=_timestamp(data, "cancelled_at"),
    )


def refund_facts(payload: Any) -> RefundFacts:
    data = _object(payload)
    lines = data.get("refund_line_items") or []
    if not isinstance(lines, list):
        raise WebhookPayloadError("refund_line_items is not a list.")
    subtotal = sum((_money(_object(line, "refund line item"), "subtotal") for line in lines),
                   Decimal("0"))
    return RefundFacts(
        id=shopify_id(data, "id"), order_id=shopify_id(data, "order_id"), subtotal=subtotal,
        processed_at=_timestamp(data, "processed_at") or _timestamp(data, "created_at"),
    )


def redacted_customer_id(payload: Any) -> int:
    """The customer named by a ``customers/redact`` or ``customers/data_request`` payload."""
    return shopify_id(_object(_object(payload).get("customer"), "customer"), "id")


def data_request_id(payload: Any) -> int | None:
    request = _object(payload).get("data_request")
    if isinstance(request, Mapping) and isinstance(request.get("id"), int):
        return int(request["id"])
    return None
