"""The app proxy: the storefront API for Online Store themes, authenticated by Shopify's
signature of the forwarded query, with the same limits, idempotency and errors."""

from __future__ import annotations

import dataclasses
import time
import urllib.parse
from collections.abc import Callable, Sequence

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database
from shopify_loyalty.models import Customer, Shop
from shopify_loyalty.shopify.app_proxy import (
    ProxySignatureError,
    proxy_message,
    sign_proxy_query,
    verify_proxy_query,
)
from tests import factories
from tests.conftest import API_SECRET, OLD_SECRET
from tests.integration.referral_setup import referral_rule, referrals, referrer


def proxied(path: str, shop: str, customer: int | str | None = 1001,
            secret: str = API_SECRET, timestamp: int | None = None,
            extra: Sequence[tuple[str, str]] = ()) -> str:
    """The URL Shopify forwards ``/apps/loyalty/<path>`` to, signed as Shopify signs it."""
    params: list[tuple[str, str]] = [
        *extra, ("shop", shop),
        ("logged_in_customer_id", "" if customer is None else str(customer)),
        ("path_prefix", "/apps/loyalty"), ("timestamp", str(timestamp or int(time.time()))),
    ]
    grouped: dict[str, list[str]] = {}
    for key, value in params:
        grouped.setdefault(key, []).append(value)
    signature = sign_proxy_query(grouped.items(), secret)
    return f"/proxy/{path}?" + urllib.parse.urlencode([*params, ("signature", signature)])


@pytest.fixture
def customer(session: Session, shop: Shop) -> Customer:
    row = factories.customer(session, shop, 1001, points=1200)
    session.commit()
    return row


def test_the_message_is_the_sorted_parameters_joined_without_separators() -> None:
    params = [("shop", ["s.myshopify.com"]), ("extra", ["1", "2"]), ("signature", ["x"]),
              ("logged_in_customer_id", [""]), ("timestamp", ["1317327555"])]
    assert proxy_message(params) == ("extra=1,2logged_in_customer_id="
                                     "shop=s.myshopify.comtimestamp=1317327555")


def test_signed_loyalty_info_through_the_proxy(client: FlaskClient, shop: Shop,
                                              customer: Customer) -> None:
    response = client.get(proxied("cp/api/customer-loyalty", shop.domain))
    assert response.status_code == 200, response.json
    assert response.json["availablePoints"] == 1200


@pytest.mark.parametrize("secret,age", [
    ("shpss_not_ours_0123456789abcdef01234567", 0), (API_SECRET, 301), (API_SECRET, -301),
])
def test_a_bad_signature_or_an_old_or_future_timestamp_is_401(
    client: FlaskClient, shop: Shop, customer: Customer, secret: str, age: int,
) -> None:
    url = proxied("cp/api/customer-loyalty", shop.domain, secret=secret,
                  timestamp=int(time.time()) - age)
    response = client.get(url)
    assert response.status_code == 401 and response.json["code"] == "unauthorized"


def test_a_tampered_query_is_401(client: FlaskClient, shop: Shop, customer: Customer) -> None:
    url = proxied("cp/api/customer-loyalty", shop.domain).replace(
        "logged_in_customer_id=1001", "logged_in_customer_id=1002")
    assert client.get(url).status_code == 401


def test_the_old_secret_still_verifies_during_a_rotation(
    client: FlaskClient, shop: Shop, customer: Customer,
) -> None:
    assert client.get(proxied("cp/api/customer-loyalty", shop.domain,
                              secret=OLD_SECRET)).status_code == 200


def test_a_guest_gets_401_for_customer_calls(client: FlaskClient, shop: Shop) -> None:
    response = client.get(proxied("cp/api/customer-loyalty", shop.domain, customer=None))
    assert response.status_code == 401
    assert response.json["message"] == "Sign in to the shop to see your points."


def test_a_redemption_through_the_proxy_is_idempotent(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer,
) -> None:
    rule = factories.rule(session, shop)
    session.commit()
    url = proxied("cp/api/redeem-points", shop.domain)
    first = client.post(url, json={"redeemRuleId": rule.id}, headers={"Idempotency-Key": "k1"})
    again = client.post(url, json={"redeemRuleId": rule.id}, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 200 and first.json["availablePoints"] == 700
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == first.json
    refused = client.post(url, json={"redeemRuleId": 10**9})
    assert refused.status_code == 404 and refused.json["code"] == "redeem_rule_not_found"


def test_the_proxy_has_the_storefront_rate_limit(
    make_app: Callable[[Settings], Flask], settings: Settings, committed_db: Database,
) -> None:
    with committed_db.unit_of_work() as session:
        domain = factories.shop(session).domain
    limited = make_app(dataclasses.replace(settings, ratelimit_enabled=True))
    client = limited.test_client()
    statuses = [client.get(proxied("cp/api/customer-loyalty", domain)).status_code
                for _ in range(61)]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429


def test_verify_refuses_a_shop_that_is_not_a_shop() -> None:
    params = [("shop", ["evil.com"]), ("timestamp", [str(int(time.time()))]),
              ("logged_in_customer_id", ["1"])]
    signed = [*params, ("signature", [sign_proxy_query(params, API_SECRET)])]
    with pytest.raises(ProxySignatureError, match="names no shop"):
        verify_proxy_query(signed, [API_SECRET], time.time())


def test_a_guest_claims_a_referral_through_the_proxy_in_the_signed_shop(
    client: FlaskClient, session: Session, shop: Shop,
) -> None:
    referral_rule(session, shop, value="10.00")
    code = referrer(session, shop).referral_code
    other = factories.shop(session)
    session.commit()
    url = proxied(f"referrals/{code}/claim", shop.domain, customer=None)
    answer = client.post(url, json={"email": "friend@example.org"})
    assert answer.status_code == 200, answer.json
    assert (answer.json["kind"], answer.json["value"]) == ("FIXED_AMOUNT", 10.0)
    assert [r.friend_email for r in referrals(session, shop)] == ["friend@example.org"]
    # The code names no referrer in the shop Shopify signed for: as if it did not exist.
    elsewhere = client.post(proxied(f"referrals/{code}/claim", other.domain, customer=None),
                            json={"email": "someone@example.org"})
    assert elsewhere.status_code == 404 and elsewhere.json["code"] == "referral_not_found"
    again = client.post(proxied(f"referrals/{code}/claim", shop.domain),
                        json={"email": "friend@example.org"})
    assert again.status_code == 422 and again.json["code"] == "referral_not_allowed"


def test_an_unsigned_or_bad_referral_claim_through_the_proxy_is_refused(
    client: FlaskClient, session: Session, shop: Shop,
) -> None:
    referral_rule(session, shop)
    code = referrer(session, shop).referral_code
    unsigned = client.post(f"/proxy/referrals/{code}/claim?shop={shop.domain}",
                           json={"email": "friend@example.org"})
    assert unsigned.status_code == 401 and unsigned.json["code"] == "unauthorized"
    bad = client.post(proxied(f"referrals/{code}/claim", shop.domain), json={"email": "x"})
    assert bad.status_code == 422 and bad.json["code"] == "validation_error"
    assert referrals(session, shop) == []


def test_proxied_claims_are_limited_per_visitor_address_and_per_code(
    make_app: Callable[[Settings], Flask], settings: Settings,
) -> None:
    """Every proxied request comes from Shopify: the visitor is Shopify's X-Forwarded-For."""
    client = make_app(dataclasses.replace(settings, ratelimit_enabled=True)).test_client()
    domain = "proxy-limits.myshopify.com"

    def post(code: str, visitor: str) -> int:
        return client.post(proxied(f"referrals/{code}/claim", domain, customer=None),
                           json={"email": "friend@example.org"},
                           headers={"X-Forwarded-For": visitor},
                           environ_base={"REMOTE_ADDR": "23.227.38.1"}).status_code

    # No such shop: every answer is a 404 until a limit answers 429.
    assert [post(f"CODE{n:04d}", "203.0.113.7") for n in range(11)] == [404] * 10 + [429]
    assert post("CODE9999", "203.0.113.8") == 404  # another visitor, through the same Shopify
    by_code = [post("SAMECODE", f"198.51.{n // 250}.{n % 250}") for n in range(51)]
    assert by_code == [404] * 50 + [429]
