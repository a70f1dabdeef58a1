"""Rows for tests, made through the services where a service owns the rule."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopify_loyalty.models import (
    Customer,
    LedgerStatus,
    PointBatch,
    PointTransaction,
    RedeemRule,
    RedeemRuleKind,
    Shop,
)
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.customers.enrolment import enrol
from shopify_loyalty.services.program import redeem_rules

_shops = 0


def shop(session: Session, domain: str | None = None, **fields: Any) -> Shop:
    global _shops
    _shops += 1
    row = Shop(domain=domain or f"shop-{_shops}.myshopify.com", currency="USD", **fields)
    session.add(row)
    session.flush()
    return row


def customer(session: Session, shop: Shop, shopify_id: int = 1001, points: int = 0,
             **fields: Any) -> Customer:
    row = enrol(session, shop, shopify_id)
    for name, value in fields.items():
        setattr(row, name, value)
    if points:
        adjustments.adjust_points(session, shop, shopify_id, points, "test balance")
    session.flush()
    return row


def rule(session: Session, shop: Shop, kind: RedeemRuleKind = RedeemRuleKind.FIXED_AMOUNT,
         **fields: Any) -> RedeemRule:
    defaults: dict[str, Any] = {
        RedeemRuleKind.FIXED_AMOUNT: {"points_cost": 500, "value": Decimal("5.00")},
        RedeemRuleKind.PERCENTAGE: {"points_cost": 800, "value": Decimal("10")},
        RedeemRuleKind.FREE_SHIPPING: {"points_cost": 300, "max_shipping": Decimal("15.00")},
        RedeemRuleKind.FREE_PRODUCT: {"points_cost": 1000, "variant_ids": [4401, 4402]},
        RedeemRuleKind.STORE_CREDIT: {"points_cost": 1000, "value": Decimal("10.00")},
        RedeemRuleKind.VARIABLE_AMOUNT: {
            "points_per_unit": 100, "min_points": 100, "max_points": 5000, "increment": 100,
        },
    }[kind]
    spec = redeem_rules.RedeemRuleSpec(name=fields.pop("name", f"{kind.value} reward"), kind=kind,
                                  **{**defaults, **fields})
    return redeem_rules.create_redeem_rule(session, shop, spec)


def ledger_sum(session: Session, customer_id: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(PointTransaction.points), 0)).where(
            PointTransaction.customer_id == customer_id,
            PointTransaction.status == LedgerStatus.APPROVED,
        )
    )
    return int(total or 0)


def batches(session: Session, customer_id: int) -> list[int]:
    """What is left of each of the customer's batches, oldest first (spent ones too)."""
    return list(session.scalars(
        select(PointBatch.remaining).where(PointBatch.customer_id == customer_id)
        .order_by(PointBatch.earned_at, PointBatch.id)
    ))
