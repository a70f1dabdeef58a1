"""Shared setup for the referral tests: a referral program, a referrer, claims, orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.models import (
    Customer,
    EarnRuleKind,
    RedeemRuleKind,
    Referral,
    Shop,
)
from shopify_loyalty.services.customers.profiles import remember_address
from shopify_loyalty.services.program import earn_rules
from shopify_loyalty.shopify.webhook_payloads import postal_address
from tests import factories
from tests import shopify_webhooks as hooks

REFERRER = 5001
REFERRER_EMAIL = "ann.smith@gmail.com"
REFERRER_HOME = hooks.address("1 Referrer Lane", zip_code="10001")


def referral_rule(session: Session, shop: Shop, points: int = 500, pending_days: int = 0,
                  value: str = "10.00", kind: RedeemRuleKind = RedeemRuleKind.FIXED_AMOUNT,
                  ) -> None:
    earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
        kind=EarnRuleKind.REFERRAL, points=points, pending_days=pending_days,
        referee_value=Decimal(value), referee_kind=kind))
    session.commit()


def referrer(session: Session, shop: Shop, shopify_id: int = REFERRER,
             email: str = REFERRER_EMAIL) -> Customer:
    customer = factories.customer(session, shop, shopify_id, email=email)
    remember_address(customer, postal_address(REFERRER_HOME))
    session.commit()
    return customer


def claim(client: FlaskClient, shop: Shop, code: str | None, email: Any) -> Any:
    return client.post(f"/loyalty/referrals/{shop.domain}/{code}/claim", json={"email": email})


def friend_order(order_id: int, friend_id: int, code: str, subtotal: str = "100.00",
                 **fields: Any) -> dict[str, Any]:
    """A first order of a friend, shipped to their own address, with the referral code."""
    fields = {"email": f"friend{friend_id}@example.org",
              "shipping_address": hooks.address(f"{friend_id} Friend Road"), **fields}
    return hooks.order(order_id=order_id, customer_id=friend_id, codes=(code,),
                       subtotal=subtotal, **fields)


def referrals(session: Session, shop: Shop) -> list[Referral]:
    session.expire_all()
    return list(session.scalars(select(Referral).where(Referral.shop_id == shop.id)
                                .order_by(Referral.id)))
