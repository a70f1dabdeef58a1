"""Points for purchases, and taking them back on refunds and cancellations.

Every order event first locks the order's ``OrderPoints`` row, so the events of one order
take turns and each sees what the others did: an order earns once, a refund is taken back
once, and a refund that arrives before the earning event is applied when the order earns.
The ledger's unique keys (EARNED ("order", id), REVERSED ("refund", id) and
("order_cancel", id)) are the backstop.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import upsert_insert
from shopify_loyalty.models import (
    Customer,
    CustomerStatus,
    EarnRule,
    EarnRuleKind,
    LedgerKind,
    LedgerStatus,
    OrderPoints,
    PointTransaction,
    Shop,
    VipTier,
)
from shopify_loyalty.services import ledger, pending_points
from shopify_loyalty.services.customers import enrol
from shopify_loyalty.services.earn_rules import active_rule
from shopify_loyalty.services.webhook_payloads import OrderFacts, RefundFacts


def lock_order(session: Session, shop: Shop, order_id: int) -> OrderPoints:
    """The order's row, created on first sight, locked until commit."""
    session.execute(
        upsert_insert(session, OrderPoints)
        .values(shop_id=shop.id, order_id=order_id)
        .on_conflict_do_nothing(index_elements=["shop_id", "order_id"])
    )
    return session.scalars(
        select(OrderPoints)
        .where(OrderPoints.shop_id == shop.id, OrderPoints.order_id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def eligible_amount(order: OrderFacts, rule: EarnRule | None) -> Decimal:
    """The subtotal after discounts, plus shipping and tax if the rule says so."""
    amount = order.subtotal
    # With tax-inclusive prices the subtotal already holds the tax.
    if order.taxes_included and not (rule and rule.include_tax):
        amount -= order.tax
    if rule and rule.include_tax and not order.taxes_included:
        amount += order.tax
    if rule and rule.include_shipping:
        amount += order.shipping
    return max(amount, Decimal("0"))


def purchase_points(amount: Decimal, rule: EarnRule, multiplier: Decimal) -> int:
    """Points per whole currency unit, times the tier's multiplier, rounded down."""
    if rule.min_order is not None and amount < rule.min_order:
        return 0
    points = amount * (rule.points_per_unit or 0) * multiplier
    return int(points.to_integral_value(rounding=ROUND_DOWN))


def _multiplier(session: Session, customer: Customer) -> Decimal:
    tier = session.get(VipTier, customer.vip_tier_id) if customer.vip_tier_id else None
    return tier.earn_multiplier if tier is not None else Decimal("1")


def earn_for_order(session: Session, shop: Shop, order: OrderFacts, now: datetime) -> None:
    """Award the PURCHASE rule's points for this order, once, and apply earlier refunds.

    The customer is enrolled from the order if unknown. Guest orders, excluded customers,
    cancelled orders and orders below the rule's minimum earn nothing.
    """
    record = lock_order(session, shop, order.id)
    if record.earn_decided_at is not None or order.customer is None:
        return
    record.earn_decided_at = now
    customer = enrol(session, shop, order.customer.shopify_customer_id, order.customer)
    record.customer_id = customer.id
    rule = active_rule(session, shop, EarnRuleKind.PURCHASE)
    record.eligible_amount = eligible_amount(order, rule)
    customer.spent_amount = Customer.spent_amount + order.subtotal
    if rule is None or customer.status is not CustomerStatus.ACTIVE:
        return
    if order.cancelled or record.cancelled_at is not None:
        return
    points = purchase_points(record.eligible_amount, rule, _multiplier(session, customer))
    if points <= 0:
        return
    source = ledger.Source("order", str(order.id))
    note = f"Order {order.name or order.id}"
    if rule.pending_days:
        pending_points.post_pending(session, customer, LedgerKind.EARNED, points, source,
                                    now + timedelta(days=rule.pending_days), note)
    else:
        ledger.post(session, customer, LedgerKind.EARNED, points, source, note)
    record.earned_points = points
    reversed_before = Decimal("0")
    for refund in record.refunds:
        reversed_before += Decimal(refund["amount"])
        _reverse_refunded_share(session, record, int(refund["id"]), reversed_before)


def reverse_for_refund(session: Session, shop: Shop, refund: RefundFacts) -> None:
    """Take back the points of the refunded share of the order, once per refund.

    The share is cumulative (all refunds so far over the eligible amount, rounded down), so
    two half refunds take back exactly what one full refund would.
    """
    record = lock_order(session, shop, refund.order_id)
    if any(int(seen["id"]) == refund.id for seen in record.refunds):
        return
    amount = refund.subtotal
    record.refunds = [*record.refunds, {"id": refund.id, "amount": str(amount)}]
    record.refunded_amount = record.refunded_amount + amount
    if record.customer_id is not None and record.earn_decided_at is not None:
        customer = session.get_one(Customer, record.customer_id)
        customer.spent_amount = max(customer.spent_amount - amount, Decimal("0"))
    if record.earned_points:
        _reverse_refunded_share(session, record, refund.id, record.refunded_amount)


def reverse_for_cancel(session: Session, shop: Shop, order_id: int, now: datetime) -> None:
    """Take back whatever the order still holds (after partial refunds, only the rest)."""
    record = lock_order(session, shop, order_id)
    if record.cancelled_at is not None:
        return
    record.cancelled_at = now
    rest = record.earned_points - record.reversed_points
    if rest > 0:
        _take_back(session, record, ledger.Source("order_cancel", str(order_id)), rest,
                   f"Order {order_id} cancelled")


def _reverse_refunded_share(
    session: Session, record: OrderPoints, refund_id: int, refunded_so_far: Decimal
) -> None:
    eligible = record.eligible_amount or Decimal("0")
    share = min(refunded_so_far / eligible, Decimal("1")) if eligible > 0 else Decimal("1")
    target = int((record.earned_points * share).to_integral_value(rounding=ROUND_DOWN))
    points = target - record.reversed_points
    if points > 0:
        _take_back(session, record, ledger.Source("refund", str(refund_id)), points,
                   f"Refund {refund_id} of order {record.order_id}")


def _take_back(
    session: Session, record: OrderPoints, source: ledger.Source, points: int, note: str
) -> None:
    """Reverse ``points`` of the order's earning: pending points first, never below zero.

    While the earning is still PENDING the reversal is a PENDING row with the same approval
    time, so both are approved together and the available balance never sees the points.
    Once approved, at most the available balance is taken; the shortfall (points already
    spent) is written in the row's note.
    """
    assert record.customer_id is not None
    record.reversed_points = record.reversed_points + points
    customer = pending_points.lock_customer(session, record.customer_id)
    earned = session.scalars(
        select(PointTransaction).where(
            PointTransaction.shop_id == record.shop_id,
            PointTransaction.kind == LedgerKind.EARNED,
            PointTransaction.source_type == "order",
            PointTransaction.source_id == str(record.order_id),
        )
    ).one()
    if earned.status is LedgerStatus.PENDING:
        assert earned.approve_after is not None
        pending_points.post_pending(session, customer, LedgerKind.REVERSED, -points, source,
                                    earned.approve_after, note)
        return
    taken = min(points, customer.available_points)
    if taken < points:
        note = f"{note}; shortfall {points - taken} points (already spent)"
    ledger.post(session, customer, LedgerKind.REVERSED, -taken, source, note)
