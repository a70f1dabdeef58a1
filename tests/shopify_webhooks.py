"""Shopify webhook deliveries for tests: real payload shapes, exact ids, signed bodies.

The published samples (tests/data) lost their ids' precision (JavaScript numbers), so every
builder sets its ids explicitly; these are exact 64-bit values, beyond 2**53.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from shopify_loyalty.shopify.webhook_hmac import sign_webhook
from tests.conftest import API_SECRET

DATA = Path(__file__).parent / "data"
ORDER_ID = 820982911946154508
CUSTOMER_ID = 115310627314723954
REFUND_ID = 890088186047892319


@cache
def _sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


def _money(amount: str) -> dict[str, Any]:
    return {kind: {"amount": amount, "currency_code": "USD"}
            for kind in ("shop_money", "presentment_money")}


def customer(customer_id: int = CUSTOMER_ID, email: str = "john@example.com",
             tags: str = "", first_name: str = "John", last_name: str = "Smith") -> dict[str, Any]:
    data = copy.deepcopy(_sample("orders_create_sample.json")["customer"])
    data.update(id=customer_id, admin_graphql_api_id=f"gid://shopify/Customer/{customer_id}",
                email=email, tags=tags, first_name=first_name, last_name=last_name)
    data["default_address"]["customer_id"] = customer_id
    return data


def order(order_id: int = ORDER_ID, customer_id: int | None = CUSTOMER_ID,
          subtotal: str = "100.00", shipping: str = "10.00", tax: str = "0.00",
          codes: tuple[str, ...] = (), financial_status: str = "paid",
          **fields: Any) -> dict[str, Any]:
    data = copy.deepcopy(_sample("orders_create_sample.json"))
    data.update(
        id=order_id, admin_graphql_api_id=f"gid://shopify/Order/{order_id}",
        name=f"#{order_id % 10000}", cancelled_at=None, cancel_reason=None,
        financial_status=financial_status, fulfillment_status=None,
        customer=customer(customer_id) if customer_id else None,
        discount_codes=[{"code": code, "amount": "5.00", "type": "fixed_amount"}
                        for code in codes],
        subtotal_price=subtotal, subtotal_price_set=_money(subtotal),
        total_tax=tax, total_tax_set=_money(tax),
        total_price=str(Decimal(subtotal) + Decimal(shipping) + Decimal(tax)),
    )
    data["shipping_lines"][0].update(discounted_price=shipping,
                                     discounted_price_set=_money(shipping))
    data.update(fields)
    return data


def line_order(lines: Sequence[tuple[str, int]], **fields: Any) -> dict[str, Any]:
    """An order of ``lines`` (unit price, quantity), its subtotal what the lines add up to
    (with ``taxes_included=True`` the prices hold the tax, and so does the subtotal)."""
    subtotal = sum((Decimal(price) * quantity for price, quantity in lines), Decimal("0"))
    data = order(subtotal=str(subtotal), **fields)
    template = data["line_items"][0]
    data["line_items"] = []
    for n, (price, quantity) in enumerate(lines):
        line = copy.deepcopy(template)
        line.update(id=data["id"] + n + 1, price=price, price_set=_money(price),
                    quantity=quantity, current_quantity=quantity, fulfillable_quantity=quantity)
        data["line_items"].append(line)
    data["total_line_items_price"] = str(subtotal)
    data["total_line_items_price_set"] = _money(str(subtotal))
    return data


def unit_refund(units: Sequence[tuple[str, int]], **fields: Any) -> dict[str, Any]:
    """A refund of ``units`` (unit price, quantity): one refund line item per entry."""
    data = refund(subtotals=tuple(str(Decimal(price) * quantity) for price, quantity in units),
                  **fields)
    for line, (_, quantity) in zip(data["refund_line_items"], units, strict=True):
        line["quantity"] = quantity
    return data


def refund(order_id: int = ORDER_ID, refund_id: int = REFUND_ID,
           subtotals: tuple[str, ...] = ("50.00",)) -> dict[str, Any]:
    data = copy.deepcopy(_sample("refunds_create_sample.json"))
    template = data["refund_line_items"][0]
    lines = []
    for n, amount in enumerate(subtotals):
        line = copy.deepcopy(template)
        line.update(id=refund_id + n + 1, subtotal=float(amount), subtotal_set=_money(amount))
        lines.append(line)
    data.update(id=refund_id, admin_graphql_api_id=f"gid://shopify/Refund/{refund_id}",
                order_id=order_id, refund_line_items=lines)
    for transaction in data["transactions"]:
        transaction["order_id"] = order_id
    return data


def deliver(client: FlaskClient, shop_domain: str, topic: str, payload: Any, *,
            webhook_id: str | None = None, secret: str | None = API_SECRET,
            body: bytes | None = None, **headers: str) -> TestResponse:
    """POST a delivery as Shopify sends it: the raw JSON body signed with ``secret``."""
    raw = body if body is not None else json.dumps(payload).encode()
    sent = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop_domain,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-11-22T10:00:00.123456Z",
        "X-Shopify-API-Version": "2026-10",
    }
    if secret is not None:
        sent["X-Shopify-Hmac-Sha256"] = sign_webhook(raw, secret)
    sent.update({name.replace("_", "-"): value for name, value in headers.items()})
    return client.post("/webhooks", data=raw, headers=sent)


def _consent(state: str | None, **fields: Any) -> dict[str, Any] | None:
    if state is None:
        return None
    return {"state": state, "opt_in_level": "single_opt_in",
            "consent_updated_at": "2026-11-22T10:00:00-05:00", **fields}


def customer_created(customer_id: int = CUSTOMER_ID, email: str = "bob@biller.com",
                     email_marketing: str | None = None, sms_marketing: str | None = None,
                     updated_at: str = "2026-11-22T10:00:00-05:00",
                     **fields: Any) -> dict[str, Any]:
    """A customers/create|update body with the given consent states (None: no consent)."""
    data = copy.deepcopy(_sample("customers_create_sample.json"))
    data.update(
        id=customer_id, admin_graphql_api_id=f"gid://shopify/Customer/{customer_id}",
        email=email, updated_at=updated_at,
        email_marketing_consent=_consent(email_marketing),
        sms_marketing_consent=_consent(sms_marketing, consent_collected_from="OTHER"),
    )
    data.update(fields)
    return data


def email_consent(state: str, customer_id: int = CUSTOMER_ID,
                  email: str = "bob@biller.com") -> dict[str, Any]:
    """A customers_email_marketing_consent/update body."""
    data = copy.deepcopy(_sample("customers_email_marketing_consent_update_sample.json"))
    data.update(customer_id=customer_id, email_address=email)
    data["email_marketing_consent"].update(state=state, opt_in_level="single_opt_in")
    return data


def sms_consent(state: str, customer_id: int = CUSTOMER_ID,
                phone: str = "+16135550101") -> dict[str, Any]:
    """A customers_marketing_consent/update body (SMS)."""
    data = copy.deepcopy(_sample("customers_marketing_consent_update_sample.json"))
    data.update(id=customer_id, phone=phone)
    data["sms_marketing_consent"].update(state=state, opt_in_level="single_opt_in")
    return data


def address(address1: str = "123 Shipping Street", zip_code: str = "40003",
            country_code: str = "US", **fields: Any) -> dict[str, Any]:
    """A shipping address in the orders sample's shape."""
    data = copy.deepcopy(_sample("orders_create_sample.json")["shipping_address"])
    data.update(address1=address1, zip=zip_code, country_code=country_code, **fields)
    return data
