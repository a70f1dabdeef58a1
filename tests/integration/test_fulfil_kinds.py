"""Redeem → fulfil in-process, for every rule kind: the exact variables Shopify gets."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shopify_loyalty.models import (
    Customer,
    FulfillmentStatus,
    RedeemRuleKind,
    Reward,
    RewardStatus,
    Shop,
)
from tests import factories
from tests.conftest import auth
from tests.fake_shopify import UNIT_PRICE, FakeShopify
from tests.integration.conftest import CUSTOMER

CUSTOMER_GID = f"gid://shopify/Customer/{CUSTOMER}"


def redeem(client: FlaskClient, shop: Shop, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/loyalty/cp/api/redeem-points", json=body,
                           headers=auth(shop.domain, CUSTOMER))
    assert response.status_code == 200, response.json
    reward: dict[str, Any] = response.json["rewards"][0]
    return reward


def common(reward: Reward, title: str, combines: tuple[bool, bool, bool] = (False,) * 3,
           ) -> dict[str, Any]:
    return {
        "code": reward.discount_code,
        "title": title,
        "startsAt": reward.created_at.astimezone(UTC).isoformat(),
        "endsAt": reward.expires_at.astimezone(UTC).isoformat() if reward.expires_at else None,
        "usageLimit": 1,
        "appliesOncePerCustomer": True,
        "context": {"customers": {"add": [CUSTOMER_GID]}},
        "combinesWith": dict(zip(("orderDiscounts", "productDiscounts", "shippingDiscounts"),
                                 combines, strict=True)),
    }


def fulfilled(session: Session, reward_id: int) -> Reward:
    session.expire_all()
    reward = session.get_one(Reward, reward_id)
    assert reward.fulfillment_status is FulfillmentStatus.DONE, reward.failure_reason
    assert reward.status is RewardStatus.UNUSED
    return reward


def test_fixed_amount_with_limits_expiry_minimum_and_combinations(
    client: FlaskClient, session: Session, token_shop: Shop, customer: Customer,
    shopify: FakeShopify,
) -> None:
    rule = factories.rule(session, token_shop, name="5 off", expires_in_days=30,
                          min_subtotal=Decimal("20.00"), product_ids=[11, 12],
                          combines_with=["shipping"])
    session.commit()
    body = redeem(client, token_shop, {"redeemRuleId": rule.id})
    reward = fulfilled(session, body["id"])

    assert shopify.operations() == ["DiscountCodeBasicCreate"]
    assert shopify.calls[0].variables == {"basicCodeDiscount": {
        **common(reward, "5 off", (False, False, True)),
        "minimumRequirement": {"subtotal": {"greaterThanOrEqualToSubtotal": "20.00"}},
        "customerGets": {
            "items": {"products": {"productsToAdd": ["gid://shopify/Product/11",
                                                     "gid://shopify/Product/12"]}},
            "value": {"discountAmount": {"amount": "5.00", "appliesOnEachItem": False}},
        },
    }}
    assert reward.discount_code_id == shopify.codes[reward.discount_code.lower()]
    assert reward.expires_at is not None


def test_percentage_limited_to_collections(
    client: FlaskClient, session: Session, token_shop: Shop, customer: Customer,
    shopify: FakeShopify,
) -> None:
    rule = factories.rule(session, token_shop, RedeemRuleKind.PERCENTAGE, name="10 %",
                          collection_ids=[77], combines_with=["order", "product"])
    session.commit()
    reward = fulfilled(session, redeem(client, token_shop, {"redeemRuleId": rule.id})["id"])

    assert shopify.calls[0].variables == {"basicCodeDiscount": {
        **common(reward, "10 %", (True, True, False)),
        "customerGets": {
            "items": {"collections": {"add": ["gid://shopify/Collection/77"]}},
            "value": {"percentage": 0.1},
        },
    }}


def test_free_shipping_with_a_maximum_shipping_price(
    client: FlaskClient, session: Session, token_shop: Shop, customer: Customer,
    shopify: FakeShopify,
) -> None:
    rule = factories.rule(session, token_shop, RedeemRuleKind.FREE_SHIPPING, name="Ship free",
                          expires_in_days=7)
    session.commit()
    reward = fulfilled(session, redeem(client, token_shop, {"redeemRuleId": rule.id})["id"])

    assert shopify.operations() == ["DiscountCodeFreeShippingCreate"]
    assert shopify.calls[0].variables == {"freeShippingCodeDiscount": {
        **common(reward, "Ship free"),
        "destination": {"all": True},
        "maximumShippingPrice": "15.00",
    }}


def test_free_product_is_one_unit_of_the_chosen_variant_at_its_price(
    client: FlaskClient, session: Session, token_shop: Shop, customer: Customer,
    shopify: FakeShopify,
) -> None:
    rule = factories.rule(session, token_shop, RedeemRuleKind.FREE_PRODUCT, name="Free mug",
                          min_subtotal=Decimal("10.00"))
    session.commit()
    body = redeem(client, token_shop, {"redeemRuleId": rule.id, "variantId": 4402})
    reward = fulfilled(session, body["id"])

    assert shopify.operations() == ["ProductVariantPrice", "DiscountCodeBasicCreate"]
    assert shopify.calls[0].variables == {"id": "gid://shopify/ProductVariant/4402"}
    assert shopify.calls[1].variables == {"basicCodeDiscount": {
        **common(reward, "Free mug"),
        "minimumRequirement": {"subtotal": {"greaterThanOrEqualToSubtotal": "10.00"}},
        "customerGets": {
            "items": {"products": {"productVariantsToAdd": ["gid://shopify/ProductVariant/4402"]}},
            "value": {"discountAmount": {"amount": UNIT_PRICE, "appliesOnEachItem": False}},
        },
    }}


def test_variable_amount_is_what_the_points_bought(
    client: FlaskClient, session: Session, token_shop: Shop, customer: Customer,
    shopify: FakeShopify,
) -> None:
    rule = factories.rule(session, token_shop, RedeemRuleKind.VARIABLE_AMOUNT, name="Points off")
    session.commit()
    body = redeem(client, token_shop, {"redeemRuleId": rule.id, "points": 700})
    reward = fulfilled(session, body["id"])

    assert shopify.calls[0].variables == {"basicCodeDiscount": {
        **common(reward, "Points off"),
        "customerGets": {
            "items": {"all": True},
            "value": {"discountAmount": {"amount": "7.00", "appliesOnEachItem": False}},
        },
    }}


@pytest.mark.parametrize("expires_in_days", [None, 90])
def test_store_credit_in_the_shop_currency_with_its_expiry(
    client: FlaskClient, session: Session, token_shop: Shop, customer: Customer,
    shopify: FakeShopify, expires_in_days: int | None,
) -> None:
    rule = factories.rule(session, token_shop, RedeemRuleKind.STORE_CREDIT,
                          expires_in_days=expires_in_days)
    session.commit()
    body = redeem(client, token_shop, {"redeemRuleId": rule.id})
    reward = fulfilled(session, body["id"])

    assert shopify.operations() == ["StoreCreditAccountCredit"]
    expires = reward.expires_at.astimezone(UTC).isoformat() if reward.expires_at else None
    assert shopify.calls[0].variables == {
        "id": CUSTOMER_GID,
        "creditInput": {"creditAmount": {"amount": "10.00", "currencyCode": "USD"},
                        "expiresAt": expires},
    }
    assert (expires is None) == (expires_in_days is None)
    assert reward.discount_code_id == shopify.credits[0]["id"]
    assert reward.first_attempt_at is not None and reward.lease_until is None
