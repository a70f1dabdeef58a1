"""POST /loyalty/cp/api/redeem-points: every rule kind, every refusal, nothing half-done."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.models import (
    Customer,
    CustomerStatus,
    LedgerKind,
    LimitInterval,
    OutboxMessage,
    PointTransaction,
    RedeemRuleKind,
    Reward,
    RewardStatus,
    Shop,
    VipTier,
)
from shopify_loyalty.services.rewards.codes import CODE_ALPHABET, CODE_LENGTH
from tests import factories
from tests.conftest import SentTasks, auth

URL = "/loyalty/cp/api/redeem-points"
CUSTOMER = 1001


def redeem(client: FlaskClient, shop: Shop, body: Any, customer: int = CUSTOMER,
           **headers: str) -> Any:
    return client.post(URL, json=body, headers={**auth(shop.domain, customer), **headers})


def counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count(Reward.id))) or 0,
        session.scalar(select(func.count(PointTransaction.id)).where(
            PointTransaction.kind == LedgerKind.REDEEMED)) or 0,
        session.scalar(select(func.count(OutboxMessage.id))) or 0,
    )


@pytest.fixture
def customer(session: Session, shop: Shop) -> Customer:
    row = factories.customer(session, shop, CUSTOMER, points=2000)
    session.commit()
    return row


def test_a_fixed_amount_reward_debits_logs_and_queues_once(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer, sent_tasks: SentTasks
) -> None:
    rule = factories.rule(session, shop, expires_in_days=30, min_subtotal=Decimal("20"))
    session.commit()
    response = redeem(client, shop, {"redeemRuleId": rule.id})

    assert response.status_code == 200, response.json
    body = response.json
    assert body["availablePoints"] == 1500
    assert body["spentPoints"] == 500
    reward = body["rewards"][0]
    assert reward["status"] == "UNUSED"
    assert reward["rewardType"] == "DISCOUNT_CODE"
    assert reward["fulfillmentStatus"] == "PENDING"
    assert reward["amount"] == 5.0
    assert reward["pointRedeemRuleId"] == rule.id
    assert reward["customerId"] == CUSTOMER and reward["shop"] == shop.domain
    code = reward["discountCode"]
    assert code.startswith("LOY-") and len(code) == len("LOY-") + CODE_LENGTH
    assert set(code[4:]) <= set(CODE_ALPHABET)
    assert reward["expireDate"] is not None

    row = session.get_one(PointTransaction, reward["pointTransactionId"])
    assert (row.kind, row.points, row.available_after) == (LedgerKind.REDEEMED, -500, 1500)
    assert (row.source_type, row.source_id) == ("reward", str(reward["id"]))
    assert sent_tasks.names() == [("loyalty.fulfil_reward", [reward["id"]])]
    outbox = session.scalars(select(OutboxMessage)).one()
    assert outbox.sent_at is not None
    assert factories.ledger_sum(session, customer.id) == 1500


def test_codes_use_the_shop_prefix_and_differ(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer
) -> None:
    shop.settings = {"code_prefix": "VIP_"}
    rule = factories.rule(session, shop, points_cost=100)
    session.commit()
    codes = {redeem(client, shop, {"redeemRuleId": rule.id}).json["rewards"][0]["discountCode"]
             for _ in range(5)}
    assert len(codes) == 5 and all(c.startswith("VIP_") for c in codes)


@pytest.mark.parametrize(
    ("kind", "extra", "amount", "points_spent"),
    [
        (RedeemRuleKind.PERCENTAGE, {}, 10.0, 800),
        (RedeemRuleKind.FREE_SHIPPING, {}, 15.0, 300),
        (RedeemRuleKind.FREE_PRODUCT, {"variantId": 4402}, None, 1000),
        (RedeemRuleKind.VARIABLE_AMOUNT, {"points": 1300}, 13.0, 1300),
    ],
)
def test_each_discount_kind(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer,
    kind: RedeemRuleKind, extra: dict[str, int], amount: float | None, points_spent: int,
) -> None:
    rule = factories.rule(session, shop, kind)
    session.commit()
    response = redeem(client, shop, {"redeemRuleId": rule.id, **extra})
    assert response.status_code == 200, response.json
    reward = response.json["rewards"][0]
    assert reward["amount"] == amount
    assert reward["points"] == points_spent
    assert reward["discountCode"]
    assert response.json["availablePoints"] == 2000 - points_spent
    assert reward["variantId"] == extra.get("variantId")


def test_store_credit_adds_to_the_local_balance_without_a_code(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer
) -> None:
    rule = factories.rule(session, shop, RedeemRuleKind.STORE_CREDIT)
    session.commit()
    response = redeem(client, shop, {"redeemRuleId": rule.id})
    assert response.status_code == 200
    assert response.json["storeCreditBalance"] == 10.0
    reward = response.json["rewards"][0]
    assert reward["rewardType"] == "STORE_CREDIT" and reward["discountCode"] is None


def test_a_single_variant_free_product_needs_no_choice(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer
) -> None:
    rule = factories.rule(session, shop, RedeemRuleKind.FREE_PRODUCT, variant_ids=[77])
    session.commit()
    response = redeem(client, shop, {"redeemRuleId": rule.id})
    assert response.json["rewards"][0]["variantId"] == 77


@pytest.mark.parametrize(
    ("kind", "body", "field"),
    [
        (RedeemRuleKind.FREE_PRODUCT, {}, "variantId"),
        (RedeemRuleKind.FREE_PRODUCT, {"variantId": 999}, "variantId"),
        (RedeemRuleKind.FIXED_AMOUNT, {"variantId": 4401}, "variantId"),
        (RedeemRuleKind.VARIABLE_AMOUNT, {}, "points"),
        (RedeemRuleKind.VARIABLE_AMOUNT, {"points": 50}, "points"),
        (RedeemRuleKind.VARIABLE_AMOUNT, {"points": 5100}, "points"),
        (RedeemRuleKind.VARIABLE_AMOUNT, {"points": 150}, "points"),
        (RedeemRuleKind.FIXED_AMOUNT, {"points": 1}, "points"),
    ],
)
def test_rule_specific_choices_are_validated(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer,
    kind: RedeemRuleKind, body: dict[str, int], field: str,
) -> None:
    rule = factories.rule(session, shop, kind)
    session.commit()
    response = redeem(client, shop, {"redeemRuleId": rule.id, **body})
    assert response.status_code == 422
    assert response.json["code"] == "validation_error"
    assert field in response.json["errors"]
    assert counts(session) == (0, 0, 0)


def test_a_fixed_rule_accepts_its_own_price_as_points(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer
) -> None:
    rule = factories.rule(session, shop)
    session.commit()
    assert redeem(client, shop, {"redeemRuleId": rule.id, "points": 500.0}).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"redeemRuleId": "1"},
        {"redeemRuleId": True},
        {"redeemRuleId": 1.5},
        {"redeemRuleId": None},
        {"redeemRuleId": -3},
        {"redeemRuleId": 0},
        {"redeemRuleId": 10**30},
        {"redeemRuleId": 1, "points": -100},
        {"redeemRuleId": 1, "points": 10**20},
        {"redeemRuleId": 1, "points": "lots"},
        {"redeemRuleId": 1, "surprise": "field"},
        {"redeemRuleId": 1, "customerEmail": "not-an-email"},
        {"redeemRuleId": 1, "customerEmail": "ü" * 400 + "@example.com"},
        {"redeemRuleId": "🎁"},
        [1, 2, 3],
        "just a string",
        None,
    ],
)
def test_malformed_bodies_are_422_and_change_nothing(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer, body: Any
) -> None:
    response = redeem(client, shop, body)
    assert response.status_code == 422, response.json
    assert response.json["code"] == "validation_error"
    assert response.json["errors"]
    assert counts(session) == (0, 0, 0)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"redeemRuleId=1", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
    ],
)
def test_non_json_bodies_are_a_4xx_json_error(
    client: FlaskClient, shop: Shop, customer: Customer, data: bytes, content_type: str
) -> None:
    response = client.post(URL, data=data, content_type=content_type,
                           headers=auth(shop.domain, CUSTOMER))
    assert 400 <= response.status_code < 500
    assert response.json["code"] in ("invalid_json", "validation_error")
    assert response.json["status"] == response.status_code


def test_not_enough_points(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer, sent_tasks: SentTasks
) -> None:
    rule = factories.rule(session, shop, points_cost=2001)
    session.commit()
    response = redeem(client, shop, {"redeemRuleId": rule.id})
    assert (response.status_code, response.json["code"]) == (422, "insufficient_points")
    assert counts(session) == (0, 0, 0)
    assert sent_tasks == []
    session.refresh(customer)
    assert customer.available_points == 2000


def test_missing_inactive_and_other_shops_rules_are_not_found(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer
) -> None:
    other = factories.shop(session)
    theirs = factories.rule(session, other)
    inactive = factories.rule(session, shop, active=False)
    session.commit()
    for rule_id in (theirs.id, inactive.id, 987654):
        response = redeem(client, shop, {"redeemRuleId": rule_id})
        assert (response.status_code, response.json["code"]) == (404, "redeem_rule_not_found")
    assert counts(session) == (0, 0, 0)


def test_the_body_may_only_name_the_signed_in_customer(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer
) -> None:
    customer.email = "ada@example.com"
    rule = factories.rule(session, shop)
    session.commit()
    for body in ({"customerId": 2002}, {"customerEmail": "eve@example.com"}):
        response = redeem(client, shop, {"redeemRuleId": rule.id, **body})
        assert (response.status_code, response.json["code"]) == (403, "forbidden")
    for body in ({"customerId": CUSTOMER}, {"customerEmail": "ADA@example.com"}):
        assert redeem(client, shop, {"redeemRuleId": rule.id, **body}).status_code == 200


@pytest.mark.parametrize("status", [CustomerStatus.EXCLUDED, CustomerStatus.INACTIVE,
                                    CustomerStatus.EXCLUDED_BY_CUSTOMER])
def test_only_active_customers_redeem(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer, status: CustomerStatus
) -> None:
    customer.status = status
    rule = factories.rule(session, shop)
    session.commit()
    response = redeem(client, shop, {"redeemRuleId": rule.id})
    assert (response.status_code, response.json["code"]) == (403, "customer_not_eligible")
    assert counts(session) == (0, 0, 0)


def test_a_tier_rule_needs_that_tier_or_a_higher_one(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer
) -> None:
    silver = VipTier(shop_id=shop.id, name="Silver", threshold=Decimal("100"))
    gold = VipTier(shop_id=shop.id, name="Gold", threshold=Decimal("500"))
    session.add_all([silver, gold])
    session.flush()
    rule = factories.rule(session, shop, required_tier_id=silver.id, points_cost=100)
    session.commit()
    refused = redeem(client, shop, {"redeemRuleId": rule.id})
    assert (refused.status_code, refused.json["code"]) == (403, "customer_not_eligible")
    customer.vip_tier_id = gold.id
    session.commit()
    accepted = redeem(client, shop, {"redeemRuleId": rule.id})
    assert accepted.status_code == 200
    assert accepted.json["currentVipTier"] == "Gold"


def test_claim_limits_count_unrefunded_rewards_in_the_window(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer
) -> None:
    rule = factories.rule(session, shop, points_cost=100, limit_count=2,
                          limit_interval=LimitInterval.WEEK)
    session.commit()
    assert redeem(client, shop, {"redeemRuleId": rule.id}).status_code == 200
    assert redeem(client, shop, {"redeemRuleId": rule.id}).status_code == 200
    third = redeem(client, shop, {"redeemRuleId": rule.id})
    assert (third.status_code, third.json["code"]) == (422, "redeem_limit_reached")
    session.refresh(customer)
    assert customer.available_points == 1800

    rewards = session.scalars(select(Reward).order_by(Reward.id)).all()
    rewards[0].status = RewardStatus.REFUNDED  # a refunded claim does not count
    rewards[1].created_at = utcnow() - timedelta(days=8)  # nor one outside the window
    session.commit()
    assert redeem(client, shop, {"redeemRuleId": rule.id}).status_code == 200
    assert redeem(client, shop, {"redeemRuleId": rule.id}).status_code == 200
    assert redeem(client, shop, {"redeemRuleId": rule.id}).json["code"] == "redeem_limit_reached"


def test_a_lifetime_limit_never_resets(
    client: FlaskClient, session: Session, shop: Shop, customer: Customer
) -> None:
    rule = factories.rule(session, shop, points_cost=100, limit_count=1,
                          limit_interval=LimitInterval.LIFETIME)
    session.commit()
    assert redeem(client, shop, {"redeemRuleId": rule.id}).status_code == 200
    reward = session.scalars(select(Reward)).one()
    reward.created_at = utcnow() - timedelta(days=4000)
    session.commit()
    assert redeem(client, shop, {"redeemRuleId": rule.id}).json["code"] == "redeem_limit_reached"
