"""The event catalog: each change writes its event, in its own transaction, in the body shape
the merchant's tools receive; a rolled-back change writes none."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import (
    Customer,
    LimitInterval,
    LoyaltyEvent,
    RedeemRuleKind,
    Shop,
)
from shopify_loyalty.services.customers import privacy
from shopify_loyalty.services.rewards import admin as rewards_admin
from shopify_loyalty.services.rewards import attempts
from tests import factories
from tests import shopify_webhooks as hooks
from tests.conftest import auth
from tests.integration.webhook_setup import purchase_rule

URL = "/loyalty/cp/api/redeem-points"


def events(session: Session, shop: Shop) -> list[dict[str, Any]]:
    session.expire_all()
    return [e.body for e in session.scalars(
        select(LoyaltyEvent).where(LoyaltyEvent.shop_id == shop.id).order_by(LoyaltyEvent.id))]


def test_a_redemption_writes_points_redeemed_and_reward_created(
    client: FlaskClient, session: Session, shop: Shop,
) -> None:
    factories.customer(session, shop, 1001, points=800, email="ann@example.com")
    rule = factories.rule(session, shop)
    session.commit()
    before = len(events(session, shop))
    response = client.post(URL, json={"redeemRuleId": rule.id}, headers=auth(shop.domain, 1001))
    assert response.status_code == 200
    redeemed, created = events(session, shop)[before:]

    assert redeemed["id"].startswith("evt_") and redeemed["type"] == "points.redeemed"
    assert redeemed["shop"] == shop.domain and redeemed["createdAt"]
    assert redeemed["data"]["customer"] == {"id": 1001, "email": "ann@example.com"}
    assert redeemed["data"]["availablePoints"] == 300  # the balance after the debit
    assert redeemed["data"]["points"] == -500 and redeemed["data"]["kind"] == "REDEEMED"
    reward = response.json["rewards"][0]
    assert created["type"] == "reward.created"
    assert created["data"]["reward"] == {
        "id": reward["id"], "discountCode": reward["discountCode"],
        "rewardType": "DISCOUNT_CODE", "amount": "5.00", "expireDate": None,
    }


def test_a_rolled_back_redemption_writes_no_event(
    client: FlaskClient, session: Session, shop: Shop,
) -> None:
    factories.customer(session, shop, 1001, points=2000)
    rule = factories.rule(session, shop, limit_count=1, limit_interval=LimitInterval.DAY)
    session.commit()
    assert client.post(URL, json={"redeemRuleId": rule.id},
                       headers=auth(shop.domain, 1001)).status_code == 200
    before = events(session, shop)
    # The limit is checked after the debit: the debit and its event are rolled back together.
    refused = client.post(URL, json={"redeemRuleId": rule.id}, headers=auth(shop.domain, 1001))
    assert refused.json["code"] == "redeem_limit_reached"
    poor = factories.rule(session, shop, RedeemRuleKind.PERCENTAGE, points_cost=10**6)
    session.commit()
    assert client.post(URL, json={"redeemRuleId": poor.id},
                       headers=auth(shop.domain, 1001)).json["code"] == "insufficient_points"
    assert events(session, shop) == before


def test_a_paid_order_enrols_and_earns_with_the_rule_kind(
    client: FlaskClient, session: Session, shop: Shop,
) -> None:
    purchase_rule(session, shop, pending_days=14)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order(subtotal="42.00"))
    enrolled, earned = events(session, shop)
    assert enrolled["type"] == "customer.enrolled"
    assert enrolled["data"]["customer"]["id"] == hooks.CUSTOMER_ID
    assert earned["type"] == "points.earned"
    assert earned["data"] | {"transactionId": None} == {
        "customer": {"id": hooks.CUSTOMER_ID, "email": "john@example.com"},
        "availablePoints": 0,  # pending: not spendable yet
        "points": 42, "kind": "EARNED", "status": "PENDING", "transactionId": None,
        "source": {"type": "order", "id": str(hooks.ORDER_ID)},
        "note": f"Order #{hooks.ORDER_ID % 10000}", "ruleKind": "PURCHASE",
        "orderId": hooks.ORDER_ID,
    }


def test_fulfilment_use_and_refund_of_rewards_write_their_events(
    client: FlaskClient, session: Session, db: Database, shop: Shop,
) -> None:
    customer = factories.customer(session, shop, hooks.CUSTOMER_ID, points=2000)
    rule = factories.rule(session, shop)
    session.commit()
    headers = auth(shop.domain, hooks.CUSTOMER_ID)
    used = client.post(URL, json={"redeemRuleId": rule.id}, headers=headers).json["rewards"][0]
    kept = client.post(URL, json={"redeemRuleId": rule.id}, headers=headers).json["rewards"][0]
    terms = attempts.claim(db, used["id"], utcnow(), timedelta(seconds=90))
    assert not isinstance(terms, attempts.Outcome)
    attempts.record_done(db, terms, "gid://shopify/DiscountCodeNode/1")
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order(codes=(used["discountCode"],)))
    rewards_admin.refund_reward(session, shop, kept["id"])
    session.commit()

    kinds = [(e["type"], e["data"].get("reward", {}).get("id")) for e in events(session, shop)]
    assert ("reward.fulfilled", used["id"]) in kinds
    assert ("reward.used", used["id"]) in kinds
    assert ("reward.refunded", kept["id"]) in kinds
    refunded = next(e for e in events(session, shop) if e["type"] == "reward.refunded")
    assert refunded["data"]["availablePoints"] == session.get_one(
        Customer, customer.id).available_points


def test_a_customer_redaction_erases_their_email_from_the_events(
    session: Session, shop: Shop,
) -> None:
    factories.customer(session, shop, 1001, points=100, email="gone@example.com")
    session.commit()
    assert any(e["data"]["customer"]["email"] == "gone@example.com"
               for e in events(session, shop))
    privacy.redact_customer(session, shop, 1001, [])
    session.commit()
    assert all(e["data"]["customer"]["email"] is None for e in events(session, shop))
