"""Input that once answered 500, on every surface: each is a 4xx in the error shape, and
nothing changes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.models import Customer, Shop, WebhookEvent
from shopify_loyalty.services.shops import api_keys
from tests import factories
from tests import shopify_webhooks as hooks
from tests.api.test_admin import admin
from tests.conftest import API_KEY, API_SECRET, auth

DEEP = ("[" * 100_000 + "]" * 100_000).encode()
DEEP_OBJECT = json.dumps({"redeemRuleId": 1, "points": None}).replace(
    "null", "[" * 40 + "]" * 40).encode()


@pytest.fixture
def shop(session: Session) -> Shop:
    """Installed with a token, so admin requests need no token exchange."""
    row = factories.shop(session, access_token_enc="not-used-here", settings={})
    session.commit()
    return row


@pytest.fixture
def customer(session: Session, shop: Shop) -> Customer:
    row = factories.customer(session, shop, 1001, points=900, email="ann@example.com")
    session.commit()
    return row


@pytest.fixture
def key(session: Session, shop: Shop) -> dict[str, str]:
    _row, secret = api_keys.create_key(session, shop, "erp")
    session.commit()
    return {"X-API-Key": secret}


def assert_refused(response: Any, status: int = 400, code: str = "invalid_input") -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.json["code"] == code and response.json["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)


def balance(session: Session, customer: Customer) -> int:
    session.expire_all()
    return session.get_one(Customer, customer.id).available_points


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["deep-array", "deep-in-object"])
def test_deeply_nested_json_is_refused_on_every_json_api(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer,
    key: dict[str, str], body: bytes,
) -> None:
    json_type = {"Content-Type": "application/json"}
    calls = [
        ("/loyalty/cp/api/redeem-points", auth(shop.domain, 1001)),
        ("/api/admin/redeem-rules", admin(shop.domain)),
        ("/api/external/add-points", key),
    ]
    for url, headers in calls:
        assert_refused(client.post(url, data=body, headers={**headers, **json_type}))
    assert balance(session, customer) == 900


def test_nul_characters_are_refused_in_bodies_queries_and_headers(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer,
    key: dict[str, str],
) -> None:
    storefront = auth(shop.domain, 1001)
    assert_refused(client.post("/loyalty/cp/api/redeem-points", headers=storefront,
                               json={"redeemRuleId": 1, "customerEmail": "ann\x00@example.com"}))
    assert_refused(client.get("/loyalty/cp/api/rewards?status=UN%00USED", headers=storefront))
    assert_refused(client.get("/api/admin/customers?q=ann%00", headers=admin(shop.domain)))
    assert_refused(client.post("/api/external/add-points", headers=key, json={
        "customerId": 1001, "points": 5, "reason": "nul\x00here"}))
    assert_refused(client.post("/loyalty/cp/api/redeem-points",
                               headers={**storefront, "Idempotency-Key": "k\x00"},
                               json={"redeemRuleId": 1}))
    assert balance(session, customer) == 900


def test_an_admin_request_naming_a_tier_that_does_not_exist_is_a_4xx(
    client: FlaskClient, session: Session, shop: Shop,
) -> None:
    rule = factories.rule(session, shop)
    session.commit()
    response = client.patch(f"/api/admin/redeem-rules/{rule.id}", headers=admin(shop.domain),
                            json={"requiredTierId": 987654321})
    assert response.status_code in (404, 422), response.json
    assert response.json["code"] in ("validation_error", "not_found")
    session.expire_all()
    assert session.get_one(type(rule), rule.id).required_tier_id is None


@pytest.mark.parametrize("claim,value", [
    ("iss", "https://[::1/admin"), ("dest", "https://[::1"), ("dest", "https://shop:99999999"),
    ("iss", 42),
])
def test_an_admin_token_whose_iss_or_dest_is_not_a_plain_url_is_401(
    client: FlaskClient, shop: Shop, claim: str, value: Any,
) -> None:
    now = int(time.time())
    claims = {"iss": f"https://{shop.domain}/admin", "dest": f"https://{shop.domain}",
              "aud": API_KEY, "sub": "42", "exp": now + 60, "nbf": now, "iat": now,
              claim: value}
    token = _hs256(claims)
    assert_refused(client.get("/api/admin/settings", headers={"Authorization": f"Bearer {token}"}),
                   401, "unauthorized")


def _hs256(claims: dict[str, Any]) -> str:
    """Signed by hand: PyJWT will not even encode some of these claims."""
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}"
    mac = hmac.new(API_SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def test_webhooks_after_the_signature_never_answer_500(
    client: FlaskClient, session: Session, shop: Shop,
) -> None:
    assert_refused(hooks.deliver(client, shop.domain, "orders/paid", None, body=DEEP),
                   400, "invalid_json")
    customer = hooks.customer(first_name="Ann\x00Marie")
    delivered = hooks.deliver(client, shop.domain, "customers/update", customer)
    assert delivered.status_code == 200
    stored = session.scalars(select(WebhookEvent).where(
        WebhookEvent.topic == "customers/update")).one()
    assert stored.payload["first_name"] == "Ann\ufffdMarie"
