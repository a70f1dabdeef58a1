"""Ways to earn: newsletter and SMS consent from Shopify, social follows and shares from the
storefront; each paid once per customer, whatever the replays, toggles and races."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import (
    Customer,
    EarnRule,
    EarnRuleKind,
    LedgerKind,
    LoyaltyEvent,
    PointTransaction,
    Shop,
)
from shopify_loyalty.services.customers import actions
from shopify_loyalty.services.program import earn_rules, tiers
from shopify_loyalty.services.program import settings as shop_settings
from tests import factories
from tests import shopify_webhooks as hooks
from tests.conftest import auth
from tests.integration.webhook_setup import assert_balanced, customer, rows

CUSTOMER = hooks.CUSTOMER_ID


def rule(session: Session, shop: Shop, kind: EarnRuleKind, points: int = 100,
         **fields: Any) -> EarnRule:
    made = earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
        kind=kind, points=points, **fields))
    session.commit()
    return made


def earned(session: Session, customer_id: int) -> list[tuple[str | None, int]]:
    return [(r.source_type, r.points) for r in rows(session, customer_id, LedgerKind.EARNED)]


def loyalty(client: FlaskClient, shop: Shop) -> Any:
    return client.get("/loyalty/cp/api/customer-loyalty", headers=auth(shop.domain, CUSTOMER)).json


def test_newsletter_and_sms_pay_once_under_replays_and_toggles(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    rule(session, shop, EarnRuleKind.NEWSLETTER, 100)
    rule(session, shop, EarnRuleKind.SMS, 40)
    rule(session, shop, EarnRuleKind.SIGNUP, 10)
    body = hooks.customer_created(email_marketing="subscribed", sms_marketing="not_subscribed")
    hooks.deliver(client, shop.domain, "customers/create", body, webhook_id="same")
    hooks.deliver(client, shop.domain, "customers/create", body, webhook_id="same")
    hooks.deliver(client, shop.domain, "customers/update", body)  # a new id, the same facts
    row = customer(session, shop)
    assert row is not None
    assert earned(session, row.id) == [("signup", 10), ("newsletter", 100)]
    info = loyalty(client, shop)
    assert (info["rewardedForNewsLetter"], info["rewardedForSms"],
            info["rewardedForCreatingAccount"]) == (True, False, True)

    for state in ("unsubscribed", "subscribed", "unsubscribed", "subscribed"):
        hooks.deliver(client, shop.domain, "customers/update",
                      hooks.customer_created(email_marketing=state, sms_marketing=state))
    assert earned(session, row.id) == [("signup", 10), ("newsletter", 100), ("sms", 40)]
    info = loyalty(client, shop)
    assert (info["availablePoints"], info["rewardedForSms"]) == (150, True)
    events = session.scalars(select(LoyaltyEvent.body).where(
        LoyaltyEvent.type == "points.earned")).all()
    assert [e["data"]["ruleKind"] for e in events] == ["SIGNUP", "NEWSLETTER", "SMS"]
    assert_balanced(session, row)


def test_the_consent_topics_of_api_2025_01_pay_too(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    rule(session, shop, EarnRuleKind.NEWSLETTER, 100)
    rule(session, shop, EarnRuleKind.SMS, 40)
    topic_email, topic_sms = ("customers_email_marketing_consent/update",
                              "customers_marketing_consent/update")
    hooks.deliver(client, shop.domain, topic_email, hooks.email_consent("pending"))
    hooks.deliver(client, shop.domain, topic_sms, hooks.sms_consent("not_subscribed"))
    row = customer(session, shop)
    assert row is not None and earned(session, row.id) == []  # pending is not subscribed
    for _ in range(2):
        hooks.deliver(client, shop.domain, topic_email, hooks.email_consent("subscribed"))
        hooks.deliver(client, shop.domain, topic_sms, hooks.sms_consent("subscribed"))
    # And the customer topic saying the same later pays nothing more.
    hooks.deliver(client, shop.domain, "customers/update",
                  hooks.customer_created(email_marketing="subscribed", sms_marketing="subscribed"))
    assert earned(session, row.id) == [("newsletter", 100), ("sms", 40)]


def test_no_rule_or_an_excluded_customer_earns_nothing_until_eligible(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    hooks.deliver(client, shop.domain, "customers/create",
                  hooks.customer_created(email_marketing="subscribed"))
    row = customer(session, shop)
    assert row is not None and earned(session, row.id) == []
    rule(session, shop, EarnRuleKind.NEWSLETTER, 100)
    shop.settings = {"exclusion_tags": ["staff"]}
    session.commit()
    hooks.deliver(client, shop.domain, "customers/update",
                  hooks.customer_created(email_marketing="subscribed", tags="staff"))
    assert earned(session, row.id) == [] and not loyalty(client, shop)["rewardedForNewsLetter"]
    hooks.deliver(client, shop.domain, "customers/update",
                  hooks.customer_created(email_marketing="subscribed", tags="",
                                         updated_at="2026-11-23T10:00:00-05:00"))
    assert earned(session, row.id) == [("newsletter", 100)]


def social(client: FlaskClient, shop: Shop, body: Any, customer_id: int = CUSTOMER) -> Any:
    return client.post("/loyalty/cp/api/social-actions", json=body,
                       headers=auth(shop.domain, customer_id))


def test_social_follow_and_share_pay_once_and_set_their_flags(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    rule(session, shop, EarnRuleKind.SOCIAL_FOLLOW, 20, network="instagram")
    rule(session, shop, EarnRuleKind.SOCIAL_FOLLOW, 25, network="x")  # twitter's new name
    rule(session, shop, EarnRuleKind.SOCIAL_SHARE, 30, network="x")
    first = social(client, shop, {"network": "instagram", "action": "follow"})
    assert first.status_code == 200 and first.json["availablePoints"] == 20
    again = social(client, shop, {"network": "Instagram", "action": "follow"})
    assert again.status_code == 200 and again.json["availablePoints"] == 20
    assert social(client, shop, {"network": "twitter", "action": "follow"}).status_code == 200
    shared = social(client, shop, {"network": "x", "action": "share"}).json
    assert shared["availablePoints"] == 75
    flags = {k: v for k, v in shared.items() if k.startswith("rewardedFor") and v}
    assert flags == {"rewardedForInstagram": True, "rewardedForTwitter": True,
                     "rewardedForSharingOnX": True}
    row = customer(session, shop)
    assert row is not None
    assert [r.source_id for r in rows(session, row.id)] == [
        f"instagram:{CUSTOMER}", f"twitter:{CUSTOMER}", f"x:{CUSTOMER}"]
    listed = client.get("/loyalty/cp/api/point-earn-rules", headers=auth(shop.domain, CUSTOMER))
    assert [(r["kind"], r["network"], r["points"]) for r in listed.json] == [
        ("SOCIAL_FOLLOW", "instagram", 20), ("SOCIAL_FOLLOW", "twitter", 25),
        ("SOCIAL_SHARE", "x", 30)]
    other = factories.shop(session)
    session.commit()
    assert client.get("/loyalty/cp/api/point-earn-rules",
                      headers=auth(other.domain, CUSTOMER)).json == []


def test_bad_social_claims_are_4xx_and_store_nothing(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    rule(session, shop, EarnRuleKind.SOCIAL_FOLLOW, 20, network="facebook")
    for body, status, code in (
        ({"network": "myspace", "action": "follow"}, 422, "validation_error"),
        ({"network": "instagram", "action": "share"}, 422, "validation_error"),
        ({"network": "facebook"}, 422, "validation_error"),
        ({"action": "follow"}, 422, "validation_error"),
        ({"network": "facebook", "action": "like"}, 422, "validation_error"),
        ({"network": "facebook", "action": "follow", "extra": 1}, 422, "validation_error"),
        ({"network": "tiktok", "action": "follow"}, 404, "earn_rule_not_found"),
        ({"network": "facebook", "action": "share"}, 404, "earn_rule_not_found"),
    ):
        response = social(client, shop, body)
        assert (response.status_code, response.json["code"]) == (status, code), body
    bad_json = client.post("/loyalty/cp/api/social-actions", data="{", headers={
        **auth(shop.domain, CUSTOMER), "Content-Type": "application/json"})
    assert bad_json.status_code == 400
    assert social(client, shop, {"network": "facebook", "action": "follow"},
                  customer_id=CUSTOMER + 1).status_code == 200
    assert session.scalar(select(func.count()).select_from(PointTransaction)) == 1
    assert client.post("/loyalty/cp/api/social-actions",
                       json={"network": "facebook", "action": "follow"}).status_code == 401


def test_an_excluded_customer_cannot_claim(client: FlaskClient, session: Session,
                                           shop: Shop) -> None:
    rule(session, shop, EarnRuleKind.SOCIAL_FOLLOW, 20, network="facebook")
    factories.customer(session, shop, CUSTOMER, status="EXCLUDED")
    session.commit()
    response = social(client, shop, {"network": "facebook", "action": "follow"})
    assert (response.status_code, response.json["code"]) == (403, "customer_not_eligible")


def _together(count: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = work()
        except Exception as exc:  # a failure is a result the test looks at
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_ten_concurrent_claims_of_each_kind_pay_once(committed_db: Database) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        for kind, network in ((EarnRuleKind.SOCIAL_FOLLOW, "facebook"),
                              (EarnRuleKind.SOCIAL_SHARE, "facebook"),
                              (EarnRuleKind.NEWSLETTER, None), (EarnRuleKind.SMS, None)):
            earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
                kind=kind, points=10, network=network))
        shop_id, customer_id = shop.id, factories.customer(session, shop, CUSTOMER).id

    def claim(action: str) -> bool:
        with committed_db.unit_of_work() as session:
            shop = session.get_one(Shop, shop_id)
            return actions.claim_social(session, shop, session.get_one(Customer, customer_id),
                                        "facebook", action, utcnow())

    def consent() -> None:
        with committed_db.unit_of_work() as session:
            actions.apply_consent(session, session.get_one(Shop, shop_id),
                                  session.get_one(Customer, customer_id), "subscribed",
                                  "subscribed", utcnow())

    assert sorted(_together(10, lambda: claim("follow"))) == [False] * 9 + [True]
    assert sorted(_together(10, lambda: claim("share"))) == [False] * 9 + [True]
    assert _together(10, consent) == [None] * 10
    with committed_db.unit_of_work() as session:
        sources = session.scalars(select(PointTransaction.source_type)).all()
        assert sorted(sources) == ["newsletter", "sms", "social_follow", "social_share"]
        row = session.get_one(Customer, customer_id)
        assert row.available_points == 40 == factories.ledger_sum(session, customer_id)


def test_points_from_an_action_count_towards_a_points_earned_tier(
    client: FlaskClient, session: Session, shop: Shop,
) -> None:
    shop_settings.update_settings(shop, tier_metric="POINTS_EARNED", tier_period="LIFETIME")
    tiers.create_tier(session, shop, tiers.TierSpec(name="Gold", threshold=Decimal("150")))
    rule(session, shop, EarnRuleKind.SOCIAL_FOLLOW, points=200, network="instagram")
    loyalty(client, shop)
    session.commit()
    assert social(client, shop, {"network": "instagram", "action": "follow"}).status_code == 200
    info = loyalty(client, shop)
    assert info["currentVipTier"] == "Gold"
    assert info["tierProgress"]["current"] == 200
