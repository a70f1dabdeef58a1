"""The external API with per-shop API keys, and the api-keys CLI."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shopify_loyalty.models import ApiKey, RedeemRuleKind, Shop
from shopify_loyalty.services.program import earn_rules
from shopify_loyalty.services.shops import api_keys
from tests import factories


@pytest.fixture
def shop_key(session: Session) -> tuple[Shop, dict[str, str]]:
    shop = factories.shop(session, settings={})
    _row, key = api_keys.create_key(session, shop, "erp")
    session.commit()
    return shop, {"X-API-Key": key}


def test_keys_are_stored_hashed(session: Session, shop_key: tuple[Shop, dict[str, str]]
                                ) -> None:
    _shop, headers = shop_key
    row = session.query(ApiKey).one()
    assert headers["X-API-Key"] not in (row.key_hash, row.key_hint)


@pytest.mark.parametrize("key", [None, "", "lk_wrong"])
def test_a_missing_or_wrong_key_is_401(client: FlaskClient, key: str | None) -> None:
    headers = {"X-API-Key": key} if key is not None else {}
    response = client.get("/api/external/point-earn-rules", headers=headers)
    assert response.status_code == 401
    assert response.json["code"] == "unauthorized"


def test_points_and_loyalty(client: FlaskClient, session: Session,
                            shop_key: tuple[Shop, dict[str, str]]) -> None:
    shop, headers = shop_key
    factories.customer(session, shop, 9001, email="cat@example.com")
    session.commit()
    added = client.post("/api/external/add-points", headers={**headers, "Idempotency-Key": "a1"},
                        json={"customerId": 9001, "points": 700, "reason": "import"})
    assert added.status_code == 200, added.json
    again = client.post("/api/external/add-points", headers={**headers, "Idempotency-Key": "a1"},
                        json={"customerId": 9001, "points": 700, "reason": "import"})
    assert again.json["availablePoints"] == 700
    removed = client.post("/api/external/remove-points", headers=headers,
                          json={"customerEmail": "CAT@example.com", "points": 100})
    assert removed.json["availablePoints"] == 600
    too_much = client.post("/api/external/remove-points", headers=headers,
                           json={"customerId": 9001, "points": 10_000})
    assert too_much.status_code == 422
    info = client.get("/api/external/customer-loyalty?customerEmail=cat@example.com",
                      headers=headers)
    assert info.json["availablePoints"] == 600


@pytest.mark.parametrize("query", ["", "?customerId=1&customerEmail=a@b.co", "?customerId=x",
                                   "?customerEmail=not-an-email"])
def test_a_customer_must_be_named_once(client: FlaskClient,
                                       shop_key: tuple[Shop, dict[str, str]],
                                       query: str) -> None:
    response = client.get(f"/api/external/customer-loyalty{query}", headers=shop_key[1])
    assert response.status_code == 422


def test_redeem_on_behalf_and_rule_lists(client: FlaskClient, session: Session,
                                         shop_key: tuple[Shop, dict[str, str]]) -> None:
    shop, headers = shop_key
    factories.customer(session, shop, 9002, points=600)
    rule = factories.rule(session, shop, RedeemRuleKind.FIXED_AMOUNT)
    factories.rule(session, shop, RedeemRuleKind.PERCENTAGE, active=False)
    earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
        kind=earn_rules.EarnRuleKind.PURCHASE, points_per_unit=1))
    session.commit()
    redeemed = client.post("/api/external/redeem-points", headers=headers,
                           json={"customerId": 9002, "redeemRuleId": rule.id})
    assert redeemed.status_code == 200, redeemed.json
    assert redeemed.json["availablePoints"] == 100
    assert redeemed.json["rewards"][0]["discountCode"].startswith("LOY-")
    assert [r["id"] for r in client.get("/api/external/point-redeem-rules",
                                        headers=headers).json] == [rule.id]
    assert [r["kind"] for r in client.get("/api/external/point-earn-rules",
                                          headers=headers).json] == ["PURCHASE"]


def test_every_external_endpoint_hides_another_shops_customers(
    client: FlaskClient, session: Session, shop_key: tuple[Shop, dict[str, str]]
) -> None:
    shop, _headers = shop_key
    factories.customer(session, shop, 9100, points=1000, email="dog@example.com")
    rule = factories.rule(session, shop)
    intruder_shop = factories.shop(session, settings={})
    _row, intruder_key = api_keys.create_key(session, intruder_shop, None)
    session.commit()
    intruder = {"X-API-Key": intruder_key}
    for ref in ({"customerId": 9100}, {"customerEmail": "dog@example.com"}):
        query = "&".join(f"{k}={v}" for k, v in ref.items())
        assert client.get(f"/api/external/customer-loyalty?{query}",
                          headers=intruder).status_code == 404
        for path in ("add-points", "remove-points"):
            response = client.post(f"/api/external/{path}", headers=intruder,
                                   json={**ref, "points": 1})
            assert response.status_code == 404, path
        response = client.post("/api/external/redeem-points", headers=intruder,
                               json={**ref, "redeemRuleId": rule.id})
        assert response.status_code == 404
    assert client.get("/api/external/point-redeem-rules", headers=intruder).json == []


def test_the_cli_creates_and_revokes_keys(app: Flask, client: FlaskClient, session: Session
                                          ) -> None:
    shop = factories.shop(session, settings={})
    session.commit()
    runner = app.test_cli_runner()
    context = app.app_context()
    context.push()
    created = runner.invoke(args=["api-keys", "create", shop.domain, "--name", "pos"])
    assert created.exit_code == 0, created.output
    body: dict[str, Any] = json.loads(created.output)
    headers = {"X-API-Key": body["key"]}
    assert client.get("/api/external/point-earn-rules", headers=headers).status_code == 200
    revoked = runner.invoke(args=["api-keys", "revoke", shop.domain, str(body["id"])])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/external/point-earn-rules", headers=headers).status_code == 401
    other = factories.shop(session, settings={})
    session.commit()
    wrong = runner.invoke(args=["api-keys", "revoke", other.domain, str(body["id"])])
    context.pop()
    assert wrong.exit_code == 1
