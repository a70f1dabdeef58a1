"""Shared setup for the webhook integration tests: rules, rewards, lookups."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.models import (
    Customer,
    EarnRule,
    EarnRuleKind,
    LedgerKind,
    PointTransaction,
    Shop,
)
from shopify_loyalty.services.program import earn_rules
from tests import factories
from tests import shopify_webhooks as hooks


def purchase_rule(session: Session, shop: Shop, points_per_unit: int = 1,
                  **fields: Any) -> EarnRule:
    rule = earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
        kind=EarnRuleKind.PURCHASE, points_per_unit=points_per_unit, **fields))
    session.commit()
    return rule


def signup_rule(session: Session, shop: Shop, points: int = 50, **fields: Any) -> EarnRule:
    rule = earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
        kind=EarnRuleKind.SIGNUP, points=points, **fields))
    session.commit()
    return rule


def customer(session: Session, shop: Shop,
             shopify_id: int = hooks.CUSTOMER_ID) -> Customer | None:
    session.expire_all()
    return session.scalars(select(Customer).where(
        Customer.shop_id == shop.id, Customer.shopify_customer_id == shopify_id)).first()


def rows(session: Session, customer_id: int, kind: LedgerKind | None = None
         ) -> list[PointTransaction]:
    query = select(PointTransaction).where(PointTransaction.customer_id == customer_id)
    if kind is not None:
        query = query.where(PointTransaction.kind == kind)
    return list(session.scalars(query.order_by(PointTransaction.id)).all())


def assert_balanced(session: Session, row: Customer) -> None:
    """Invariant 1: available points are the sum of the approved ledger rows."""
    session.expire_all()
    assert factories.ledger_sum(session, row.id) == row.available_points
    pending = sum(r.points for r in rows(session, row.id) if r.status.value == "PENDING")
    assert pending == row.pending_points


def money(value: str) -> Decimal:
    return Decimal(value)
