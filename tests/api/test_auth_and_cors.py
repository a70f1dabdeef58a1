"""Who may call the storefront API, and how it answers browsers."""

from __future__ import annotations

import time

import jwt
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from tests import factories
from tests.conftest import API_KEY, API_SECRET, OLD_SECRET, auth, customer_token

PATHS = [
    ("GET", "/loyalty/cp/api/customer-loyalty"),
    ("GET", "/loyalty/cp/api/point-redeem-rules"),
    ("GET", "/loyalty/cp/api/transactions"),
    ("GET", "/loyalty/cp/api/rewards"),
    ("POST", "/loyalty/cp/api/redeem-points"),
]


def _call(client: FlaskClient, method: str, path: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.open(path, method=method, headers=headers, json={"redeemRuleId": 1})


def _assert_unauthorized(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401
    assert response.json["code"] == "unauthorized"
    assert response.json["status"] == 401
    assert response.json["message"]


def test_every_endpoint_needs_a_token(client: FlaskClient, shop) -> None:  # type: ignore[no-untyped-def]
    for method, path in PATHS:
        _assert_unauthorized(_call(client, method, path, {}))
        _assert_unauthorized(_call(client, method, path, {"Authorization": "Basic abc"}))
        _assert_unauthorized(_call(client, method, path, {"Authorization": "Bearer "}))


def test_forged_expired_and_unsigned_tokens_are_refused(client: FlaskClient, shop) -> None:  # type: ignore[no-untyped-def]
    now = int(time.time())
    base = {"dest": shop.domain, "aud": API_KEY, "sub": "gid://shopify/Customer/5",
            "exp": now + 60, "nbf": now}
    tokens = [
        jwt.encode(base, "shpss_forged_secret_0123456789abcdef0", algorithm="HS256"),
        jwt.encode({**base, "exp": now - 60}, API_SECRET, algorithm="HS256"),
        jwt.encode(base, None, algorithm="none"),
        jwt.encode({k: v for k, v in base.items() if k != "sub"}, API_SECRET, algorithm="HS256"),
    ]
    for token in tokens:
        for method, path in PATHS:
            _assert_unauthorized(_call(client, method, path, {"Authorization": f"Bearer {token}"}))


def test_the_old_secret_signs_valid_tokens_during_rotation(client: FlaskClient, shop) -> None:  # type: ignore[no-untyped-def]
    token = customer_token(shop.domain, 5, secret=OLD_SECRET)
    response = client.get("/loyalty/cp/api/customer-loyalty",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_unknown_and_uninstalled_shops_are_refused(client: FlaskClient, session: Session) -> None:
    gone = factories.shop(session, uninstalled_at=utcnow())
    session.commit()
    for domain in ("nobody.myshopify.com", gone.domain):
        for method, path in PATHS:
            _assert_unauthorized(_call(client, method, path, auth(domain, 5)))


def test_cors_preflight_is_an_empty_204(client: FlaskClient) -> None:
    for _method, path in PATHS:
        response = client.options(path, headers={
            "Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
        })
        assert response.status_code == 204
        assert response.data == b""
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Idempotency-Key" in response.headers["Access-Control-Allow-Headers"]


def test_answers_carry_cors_headers_even_when_refused(client: FlaskClient) -> None:
    response = client.get("/loyalty/cp/api/customer-loyalty")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Total-Count" in response.headers["Access-Control-Expose-Headers"]


def test_unknown_routes_and_methods_answer_json(client: FlaskClient) -> None:
    missing = client.get("/loyalty/cp/api/nothing-here")
    assert missing.status_code == 404 and missing.json["code"] == "not_found"
    wrong = client.delete("/loyalty/cp/api/redeem-points")
    assert wrong.status_code == 405 and wrong.json["status"] == 405
