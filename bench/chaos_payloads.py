"""Webhook bodies for the chaos run, in the shapes Shopify sends (the fields the app reads,
ids exact 64-bit integers): orders with line items, refunds of a line, customers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def _money(amount: Decimal | str) -> dict[str, Any]:
    return {kind: {"amount": str(amount), "currency_code": "USD"}
            for kind in ("shop_money", "presentment_money")}


def customer_body(customer_id: int, email: str) -> dict[str, Any]:
    return {"id": customer_id, "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
            "email": email, "first_name": "Chaos", "last_name": str(customer_id % 1000),
            "state": "enabled", "tags": "", "currency": "USD",
            "created_at": "2026-11-22T10:00:00-05:00",
            "updated_at": "2026-11-22T10:00:00-05:00",
            "email_marketing_consent": None, "sms_marketing_consent": None}


def order_body(order_id: int, customer_id: int, lines: list[Decimal]) -> dict[str, Any]:
    subtotal = sum(lines, Decimal("0"))
    return {
        "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#C{order_id % 1_000_000}", "financial_status": "paid",
        "fulfillment_status": None, "cancelled_at": None, "cancel_reason": None,
        "created_at": "2026-11-22T10:00:00-05:00", "processed_at": "2026-11-22T10:00:00-05:00",
        "currency": "USD", "taxes_included": False, "discount_codes": [],
        "email": f"c{customer_id}@example.com",
        "subtotal_price": str(subtotal), "subtotal_price_set": _money(subtotal),
        "total_tax": "0.00", "total_tax_set": _money("0.00"),
        "total_price": str(subtotal + Decimal("5.00")),
        "shipping_lines": [{"id": order_id + 7, "price": "5.00", "discounted_price": "5.00",
                            "discounted_price_set": _money("5.00")}],
        "customer": customer_body(customer_id, f"c{customer_id}@example.com"),
        "line_items": [{"id": order_id + n + 1, "price": str(price), "price_set": _money(price),
                        "quantity": 1, "current_quantity": 1}
                       for n, price in enumerate(lines)],
    }


def refund_body(refund_id: int, order_id: int, line: Decimal) -> dict[str, Any]:
    return {
        "id": refund_id, "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
        "order_id": order_id, "created_at": "2026-11-23T10:00:00-05:00",
        "processed_at": "2026-11-23T10:00:00-05:00",
        "refund_line_items": [{"id": refund_id + 1, "line_item_id": order_id + 1,
                               "quantity": 1, "subtotal": float(line),
                               "subtotal_set": _money(line)}],
        "transactions": [],
    }
