"""Referral links and claims: the link, the redirect, the friend's code made in Shopify for
any buyer, the refusals (nothing stored), the rate limits, and the lists."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopify_loyalty.config import Settings
from shopify_loyalty.models import FulfillmentStatus, Referral, Reward, Shop
from shopify_loyalty.services.customers.identity import email_key
from tests import factories
from tests.api.test_admin import admin
from tests.conftest import auth
from tests.fake_shopify import FakeShopify
from tests.integration.conftest import last_variables
from tests.integration.referral_setup import (
    REFERRER,
    REFERRER_EMAIL,
    claim,
    referral_rule,
    referrals,
    referrer,
)


def stored(session: Session) -> tuple[int, int]:
    return (session.scalar(select(func.count()).select_from(Referral)) or 0,
            session.scalar(select(func.count()).select_from(Reward)) or 0)


def test_a_claim_answers_a_code_that_the_worker_makes_for_any_buyer(
    client: FlaskClient, session: Session, token_shop: Shop, shopify: FakeShopify
) -> None:
    referral_rule(session, token_shop, value="10.00")
    code = referrer(session, token_shop).referral_code
    answer = claim(client, token_shop, code, "Friend@Example.org")
    assert answer.status_code == 200, answer.json
    assert set(answer.json) == {"discountCode", "kind", "value", "expireDate"}
    assert (answer.json["kind"], answer.json["value"]) == ("FIXED_AMOUNT", 10.0)
    assert answer.json["discountCode"].lower() in shopify.codes
    sent = last_variables(shopify)["basicCodeDiscount"]
    assert sent["context"] == {"all": "ALL"} and sent["usageLimit"] == 1
    assert sent["customerGets"]["value"] == {
        "discountAmount": {"amount": "10.00", "appliesOnEachItem": False}}
    reward = session.scalars(select(Reward)).one()
    assert (reward.customer_id, reward.fulfillment_status) == (None, FulfillmentStatus.DONE)
    [row] = referrals(session, token_shop)
    assert (row.state.value, row.friend_email, row.reward_id) == (
        "CLAIMED", "friend@example.org", reward.id)


def test_the_link_redirects_to_the_storefront(client: FlaskClient, session: Session,
                                              shop: Shop, settings: Settings) -> None:
    code = referrer(session, shop).referral_code
    assert code is not None and len(code) == 8
    info = client.get("/loyalty/cp/api/customer-loyalty", headers=auth(shop.domain, REFERRER))
    assert info.json["referralLink"] == f"{settings.app_url}/r/{shop.domain}/{code}"
    followed = client.get(f"/r/{shop.domain}/{code.lower()}")
    assert followed.status_code == 302
    assert followed.location == f"https://{shop.domain}/?loyalty_ref={code}"
    other = factories.shop(session)
    session.commit()
    for path in (f"/r/{other.domain}/{code}", f"/r/{shop.domain}/NOSUCHCD",
                 f"/r/evil.example.com/{code}", f"/r/{shop.domain}/{code}%27--"):
        assert client.get(path).status_code == 404, path


def test_refused_claims_store_nothing(client: FlaskClient, session: Session,
                                      shop: Shop) -> None:
    code = referrer(session, shop).referral_code
    assert claim(client, shop, code, "friend@example.org").json["code"] == "earn_rule_not_found"
    referral_rule(session, shop)
    factories.customer(session, shop, 7001, email="ordered@example.org",
                       first_paid_order_id=123)
    other = factories.shop(session)
    session.commit()
    before = stored(session)
    for email, status, error in (
        (REFERRER_EMAIL.upper(), 422, "referral_not_allowed"),
        ("Ann.Smith+friend@googlemail.com", 422, "referral_not_allowed"),  # the same mailbox
        ("ordered@example.org", 422, "referral_not_allowed"),  # a friend who already ordered
        ("not-an-email", 422, "validation_error"),
        ("friend@", 422, "validation_error"),
        (12345, 422, "validation_error"),
        ("x" * 330 + "@example.org", 422, "validation_error"),
    ):
        answer = claim(client, shop, code, email)
        assert (answer.status_code, answer.json["code"]) == (status, error), email
    assert stored(session) == before
    for domain, the_code in ((other.domain, code), (shop.domain, "ZZZZZZZZ"),
                             ("not a shop", code)):
        answer = client.post(f"/loyalty/referrals/{domain}/{the_code}/claim",
                             json={"email": "friend@example.org"})
        assert (answer.status_code, answer.json["code"]) == (404, "referral_not_found")
    assert stored(session) == before


def test_one_email_claims_once(client: FlaskClient, session: Session, shop: Shop) -> None:
    referral_rule(session, shop)
    first_code = referrer(session, shop).referral_code
    second_code = referrer(session, shop, 5002, "bob@example.org").referral_code
    assert claim(client, shop, first_code, "friend@example.org").status_code == 200
    before = stored(session)
    for code, email in ((first_code, "FRIEND@example.org"), (second_code, "friend@Example.ORG"),
                        (second_code, "friend+again@example.org")):
        answer = claim(client, shop, code, email)
        assert (answer.status_code, answer.json["code"]) == (422, "referral_not_allowed")
    assert stored(session) == before
    row = session.scalars(select(Referral)).one()
    assert row.friend_email_key == email_key("friend@example.org")


MakeApp = Callable[[Settings], Flask]


def test_claims_are_limited_per_address_and_per_code(settings: Settings,
                                                     make_app: MakeApp) -> None:
    app = make_app(dataclasses.replace(settings, ratelimit_enabled=True))
    client = app.test_client()

    def post(code: str, address: str) -> int:
        return client.post(f"/loyalty/referrals/limits.myshopify.com/{code}/claim",
                           json={"email": "friend@example.org"},
                           environ_base={"REMOTE_ADDR": address}).status_code

    # Nothing exists in that shop: every answer is a 404 until the limit answers 429.
    # A browser's preflight before each claim does not count.
    for _ in range(20):
        assert client.options("/loyalty/referrals/limits.myshopify.com/CODE0000/claim",
                              environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 204
    assert [post(f"CODE{n:04d}", "10.0.0.1") for n in range(11)] == [404] * 10 + [429]
    assert post("CODE9999", "10.0.0.2") == 404  # another address has its own budget
    by_code = [post("SAMECODE", f"10.1.{n // 250}.{n % 250}") for n in range(51)]
    assert by_code == [404] * 50 + [429]
    assert post("OTHERCOD", "10.2.0.1") == 404


def test_the_lists_mask_emails_for_the_referrer_and_are_per_shop(
    client: FlaskClient, session: Session
) -> None:
    shop = factories.shop(session, access_token_enc="x", settings={})
    other = factories.shop(session, access_token_enc="x", settings={})
    referral_rule(session, shop)
    referral_rule(session, other)
    code = referrer(session, shop).referral_code
    for email in ("first@example.org", "second@example.org"):
        assert claim(client, shop, code, email).status_code == 200
    mine = client.get("/loyalty/cp/api/referrals?size=1", headers=auth(shop.domain, REFERRER))
    assert mine.status_code == 200 and mine.headers["X-Total-Count"] == "2"
    assert mine.json["referralCode"] == code and mine.json["referredCompleted"] == 0
    assert [(r["email"], r["state"], r["paid"]) for r in mine.json["referrals"]] == [
        ("s***@example.org", "CLAIMED", False)]
    elsewhere = client.get("/loyalty/cp/api/referrals", headers=auth(other.domain, REFERRER))
    assert elsewhere.json["referrals"] == [] and elsewhere.json["referralCode"] != code

    listed = client.get("/api/admin/referrals", headers=admin(shop.domain))
    assert listed.headers["X-Total-Count"] == "2"
    assert [(r["friendEmail"], r["referrerId"], r["state"]) for r in listed.json] == [
        ("second@example.org", REFERRER, "CLAIMED"), ("first@example.org", REFERRER, "CLAIMED")]
    assert all(r["discountCode"] for r in listed.json)
    assert client.get("/api/admin/referrals", headers=admin(other.domain)).json == []
    assert client.get("/api/admin/referrals?state=COMPLETED",
                      headers=admin(shop.domain)).json == []
    bad = client.get("/api/admin/referrals?state=WON", headers=admin(shop.domain))
    assert bad.status_code == 422
    assert client.get("/api/admin/referrals").status_code == 401


def test_earn_rules_of_every_kind_are_validated(client: FlaskClient, session: Session) -> None:
    shop = factories.shop(session, access_token_enc="x", settings={})
    session.commit()
    headers = admin(shop.domain)
    for body, field in (
        ({"kind": "REFERRAL", "points": 500}, "refereeKind"),
        ({"kind": "REFERRAL", "points": 500, "refereeKind": "PERCENTAGE",
          "refereeValue": "150"}, "refereeValue"),
        ({"kind": "SOCIAL_FOLLOW", "points": 10, "network": "myspace"}, "network"),
        ({"kind": "SOCIAL_SHARE", "points": 10, "network": "instagram"}, "network"),
        ({"kind": "BIRTHDAY", "points": 10, "network": "facebook"}, "network"),
        ({"kind": "NEWSLETTER"}, "points"),
        ({"kind": "SMS", "points": 10, "pointsPerUnit": 2}, "pointsPerUnit"),
        ({"kind": "BIRTHDAY", "points": 10, "refereeValue": "5.00"}, "refereeValue"),
    ):
        answer = client.post("/api/admin/earn-rules", json=body, headers=headers)
        assert answer.status_code == 422 and field in answer.json["errors"], (body, answer.json)
    made = client.post("/api/admin/earn-rules", headers=headers, json={
        "kind": "REFERRAL", "points": 500, "refereeKind": "PERCENTAGE", "refereeValue": "15",
        "pendingDays": 14})
    assert made.status_code == 201
    assert (made.json["refereeKind"], made.json["refereeValue"]) == ("PERCENTAGE", 15.0)
    share = client.post("/api/admin/earn-rules", headers=headers, json={
        "kind": "SOCIAL_SHARE", "points": 5, "network": "X"})
    assert share.json["network"] == "x"
