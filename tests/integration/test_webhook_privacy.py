"""app/uninstalled and the privacy topics: export, redact a customer, redact a shop."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopify_loyalty.models import (
    Customer,
    DataExport,
    OrderPoints,
    PointTransaction,
    Shop,
    WebhookEvent,
)
from tests import factories
from tests import shopify_webhooks as hooks
from tests.conftest import auth
from tests.integration.webhook_setup import assert_balanced, customer, purchase_rule


def _privacy_payload(shop: Any, **fields: Any) -> dict[str, Any]:
    return {"shop_id": 954889, "shop_domain": shop.domain,
            "customer": {"id": hooks.CUSTOMER_ID, "email": "john@example.com",
                         "phone": "555-625-1199"}, **fields}


def test_uninstall_forgets_tokens_and_locks_the_storefront_out(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    shop.access_token_enc, shop.refresh_token_enc = "enc-access", "enc-refresh"
    session.commit()
    hooks.deliver(client, shop.domain, "app/uninstalled",
                  {"id": 954889, "domain": shop.domain, "name": "Shop"})
    session.expire_all()
    assert shop.access_token_enc is None and shop.refresh_token_enc is None
    assert shop.uninstalled_at is not None
    response = client.get("/loyalty/cp/api/customer-loyalty",
                          headers=auth(shop.domain, hooks.CUSTOMER_ID))
    assert response.status_code == 401


def test_data_request_keeps_an_export_the_cli_prints(
    app: Flask, client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order())
    hooks.deliver(client, shop.domain, "customers/data_request", _privacy_payload(
        shop, orders_requested=[hooks.ORDER_ID], data_request={"id": 9999}))
    [export] = session.scalars(select(DataExport)).all()
    assert export.data_request_id == 9999
    result = app.test_cli_runner().invoke(
        args=["privacy", "export", shop.domain, str(hooks.CUSTOMER_ID)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["dataRequestId"] == 9999
    assert printed["data"]["email"] == "john@example.com"
    assert printed["data"]["availablePoints"] == 100
    assert [t["points"] for t in printed["data"]["transactions"]] == [100]


def test_customer_redact_erases_personal_data_and_keeps_the_ledger_whole(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop)
    hooks.deliver(client, shop.domain, "customers/create", hooks.customer(tags="vip"))
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order(subtotal="80.00"))
    hooks.deliver(client, shop.domain, "refunds/create", hooks.refund(subtotals=("20.00",)))
    hooks.deliver(client, shop.domain, "customers/redact",
                  _privacy_payload(shop, orders_to_redact=[hooks.ORDER_ID]))
    row = customer(session, shop)
    assert row is not None
    assert (row.email, row.first_name, row.last_name, row.dob, row.tags) == (
        None, None, None, None, [])
    assert row.available_points == 60
    assert_balanced(session, row)
    payloads = [e.payload for e in session.scalars(select(WebhookEvent)).all()]
    assert all("john@example.com" not in json.dumps(p) for p in payloads)


def test_shop_redact_deletes_every_row_of_the_shop_after_uninstall(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    other = factories.shop(session)
    factories.customer(session, other, 42, points=10)
    session.commit()
    domain, other_id = shop.domain, other.id
    purchase_rule(session, shop)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order())
    hooks.deliver(client, shop.domain, "app/uninstalled", {"id": 954889})
    # Shopify sends shop/redact 48 hours after the uninstall.
    response = hooks.deliver(client, shop.domain, "shop/redact",
                             {"shop_id": 954889, "shop_domain": shop.domain})
    assert response.status_code == 200
    session.expunge_all()
    assert session.scalar(select(func.count(Shop.id)).where(Shop.domain == domain)) == 0
    for model in (Customer, PointTransaction, OrderPoints, WebhookEvent):
        remaining = session.scalars(select(model)).all()
        assert all(r.shop_id == other_id for r in remaining), model
    assert session.scalar(select(func.count(Customer.id))) == 1
