"""Input that once answered 500, on every surface: each is a 4xx in the error shape, and
nothing changes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
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
from tests.api.test_app_proxy import proxied
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


# Each class of bad input, on each JSON surface: a 4xx in the error shape, nothing changed.
HUGE_DIGITS = b'{"redeemRuleId": 1, "customerId": 1001, "points": 1' + b"0" * 5000 + b"}"
BAD_BODIES = {
    "deep": DEEP,
    "nul": b'{"redeemRuleId": 1, "customerId": 1001, "points": 5, "reason": "a\\u0000b"}',
    "too-many-digits": HUGE_DIGITS,
    "out-of-range": json.dumps({"redeemRuleId": 2**70, "customerId": 2**64, "points": 10**30,
                                "reason": "x"}).encode(),
    "infinite": b'{"redeemRuleId": 1e400, "customerId": 1e400, "points": 1e400, "reason": "x"}',
    "wrong-types": json.dumps({"redeemRuleId": "1", "customerId": True, "points": [5],
                               "reason": {"a": 1}, "variantId": {}}).encode(),
    "invalid-utf8": b'{"redeemRuleId": 1, "customerId": 1001, "points": 5, "reason": "\xff\xfe"}',
    "lone-surrogate": b'{"redeemRuleId": 1, "customerId": 1001, "points": 5, '
                      b'"reason": "\\ud800", "customerEmail": "a\\udc00@example.com"}',
    "not-an-object": b"[1, 2]",
    "not-json": b"{{{",
}


def surfaces(shop: Shop, key: dict[str, str]) -> dict[str, tuple[str, dict[str, str]]]:
    """A state-changing POST of each JSON surface, with valid credentials."""
    return {
        "storefront": ("/loyalty/cp/api/redeem-points", auth(shop.domain, 1001)),
        "proxy": (proxied("cp/api/redeem-points", shop.domain), {}),
        "admin": ("/api/admin/customers/1001/adjust-points", admin(shop.domain)),
        "external": ("/api/external/add-points", key),
    }


@pytest.mark.parametrize("kind", list(BAD_BODIES))
def test_each_bad_body_is_a_4xx_on_every_surface(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer,
    key: dict[str, str], kind: str,
) -> None:
    factories.rule(session, shop)
    session.commit()
    for surface, (url, headers) in surfaces(shop, key).items():
        response = client.post(url, data=BAD_BODIES[kind],
                               headers={**headers, "Content-Type": "application/json"})
        assert 400 <= response.status_code < 500, (surface, response.get_data(as_text=True))
        assert set(response.json) >= {"code", "message", "status"}, surface
        assert response.json["status"] == response.status_code
    assert balance(session, customer) == 900


def test_a_number_too_long_to_read_is_invalid_input_not_a_500(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer,
    key: dict[str, str],
) -> None:
    for _surface, (url, headers) in surfaces(shop, key).items():
        assert_refused(client.post(url, data=HUGE_DIGITS,
                                   headers={**headers, "Content-Type": "application/json"}))
    assert balance(session, customer) == 900


@pytest.mark.parametrize("path", [
    "/api/admin/customers/0", "/api/admin/customers/-1",
    "/api/admin/customers/99999999999999999999", "/api/admin/redeem-rules/%FF",
    "/api/admin/customers/%C3%A9", "/api/admin/vip-tiers/9223372036854775808",
])
def test_ids_in_the_path_that_name_nothing_are_404(
    client: FlaskClient, shop: Shop, path: str,
) -> None:
    assert_refused(client.get(path, headers=admin(shop.domain)), 404, "not_found")


@pytest.mark.parametrize("query", ["page=%FF", "page=99999999999999999999999", "size=-1",
                                   "status=%C3", "page=1e5", "customerId=%C2%B2"])
def test_bad_query_parameters_are_422_on_every_surface(
    client: FlaskClient, shop: Shop, customer: Customer, key: dict[str, str], query: str,
) -> None:
    signed = proxied("cp/api/transactions", shop.domain,
                     extra=urllib.parse.parse_qsl(query))  # the proxy signs what it forwards
    for url, headers in [(f"/loyalty/cp/api/transactions?{query}", auth(shop.domain, 1001)),
                         (signed, {}), (f"/api/admin/customers?{query}", admin(shop.domain)),
                         (f"/api/external/customer-loyalty?{query}", key)]:
        response = client.get(url, headers=headers)
        assert response.status_code in (200, 422), (url, query, response.json)
        if response.status_code == 422:
            assert response.json["code"] == "validation_error"


@pytest.mark.parametrize("credential", [
    {"Authorization": "Bearer"}, {"Authorization": "Bearer a.b.c"},
    {"Authorization": "Basic eDp5"}, {"Authorization": "Bearer " + "a" * 10_000},
    {"Authorization": "Bearer \xff\xfe"},
])
def test_bad_bearer_tokens_are_401_on_storefront_and_admin(
    client: FlaskClient, shop: Shop, credential: dict[str, str],
) -> None:
    for url in ("/loyalty/cp/api/customer-loyalty", "/api/admin/settings"):
        assert_refused(client.get(url, headers=credential), 401, "unauthorized")


@pytest.mark.parametrize("dest", ["https://[::1", "https://shop:99999999", 42])
def test_a_storefront_token_whose_dest_is_not_a_plain_url_is_401(
    client: FlaskClient, shop: Shop, dest: Any,
) -> None:
    now = int(time.time())
    token = _hs256({"iss": f"https://{shop.domain}/account", "dest": dest, "aud": API_KEY,
                    "sub": "gid://shopify/Customer/1001", "exp": now + 60, "nbf": now,
                    "iat": now})
    assert_refused(client.get("/loyalty/cp/api/customer-loyalty",
                              headers={"Authorization": f"Bearer {token}"}), 401, "unauthorized")


@pytest.mark.parametrize("api_key", ["", "x", "\xff\xfe", "lk_" + "a" * 5000])
def test_bad_api_keys_are_401(client: FlaskClient, shop: Shop, api_key: str) -> None:
    response = client.get("/api/external/point-redeem-rules", headers={"X-API-Key": api_key})
    assert_refused(response, 401, "unauthorized")


@pytest.mark.parametrize("logged_in", ["²", "-1", "99999999999999999999", "1e5", " 1"])
def test_a_signed_proxy_request_with_a_customer_id_that_is_not_one_is_401(
    client: FlaskClient, shop: Shop, customer: Customer, logged_in: str,
) -> None:
    response = client.get(proxied("cp/api/customer-loyalty", shop.domain, customer=logged_in))
    assert_refused(response, 401, "unauthorized")


def test_a_proxy_request_badly_signed_or_old_is_401(
    client: FlaskClient, shop: Shop, customer: Customer,
) -> None:
    for url in (proxied("cp/api/customer-loyalty", shop.domain, secret="wrong"),
                proxied("cp/api/customer-loyalty", shop.domain, timestamp=10**30),
                proxied("cp/api/customer-loyalty", "[::1]"),
                proxied("cp/api/customer-loyalty", "x" * 300),
                "/proxy/cp/api/customer-loyalty?shop=a&signature=%FF"):
        assert_refused(client.get(url), 401, "unauthorized")


def test_unknown_tier_ids_are_422_wherever_the_admin_names_one(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer,
) -> None:
    rule = factories.rule(session, shop)
    session.commit()
    headers = admin(shop.domain)
    for method, url, body in [
        ("post", "/api/admin/redeem-rules", {"name": "Gold only", "kind": "FIXED_AMOUNT",
                                             "pointsCost": 5, "value": 5,
                                             "requiredTierId": 987654321}),
        ("patch", f"/api/admin/redeem-rules/{rule.id}", {"requiredTierId": 987654321}),
        ("post", "/api/admin/customers/1001/tier", {"tierId": 987654321}),
    ]:
        response = getattr(client, method)(url, headers=headers, json=body)
        assert response.status_code == 422, (url, response.json)
        assert response.json["errors"] in ({"requiredTierId": ["No such VIP tier in this shop."]},
                                           {"tierId": ["No such VIP tier in this shop."]})
    assert client.get("/api/admin/redeem-rules", headers=headers).json == [
        client.get(f"/api/admin/redeem-rules/{rule.id}", headers=headers).json]


@pytest.mark.parametrize("kind", ["deep", "nul", "too-many-digits", "infinite", "invalid-utf8",
                                  "not-an-object", "wrong-types", "out-of-range"])
def test_signed_webhooks_with_bad_bodies_are_never_a_500(
    client: FlaskClient, shop: Shop, kind: str,
) -> None:
    for topic in ("orders/paid", "customers/update", "app/uninstalled", "customers/redact"):
        response = hooks.deliver(client, shop.domain, topic, None, body=BAD_BODIES[kind])
        assert response.status_code in (200, 400, 422), (topic, response.get_data(as_text=True))
        if response.status_code != 200:
            assert response.json["status"] == response.status_code


@pytest.mark.parametrize("header", [
    {"X_Shopify_Shop_Domain": "\xff"}, {"X_Shopify_Shop_Domain": "[::1]"},
    {"X_Shopify_Topic": "x" * 500}, {"X_Shopify_Webhook_Id": ""},
    {"X_Shopify_Triggered_At": "9999999-01-01"},
])
def test_signed_webhooks_with_bad_headers_are_never_a_500(
    client: FlaskClient, shop: Shop, header: dict[str, str],
) -> None:
    response = hooks.deliver(client, shop.domain, "orders/paid", hooks.order(), **header)
    assert response.status_code in (200, 422), response.get_data(as_text=True)
