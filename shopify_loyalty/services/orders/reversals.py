"""Taking back the points of refunded and cancelled orders (see services.orders.earning).

Every event locks the order's ``OrderPoints`` row first, as earning does, so a refund is
taken back once and in step with the earning it reverses.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.models import (
    Customer,
    LedgerKind,
    LedgerStatus,
    OrderPoints,
    PointTransaction,
    Shop,
)
from shopify_loyalty.services.orders.records import lock_order
from shopify_loyalty.services.points import ledger
from shopify_loyalty.services.points import pending as pending_points
from shopify_loyalty.shopify.webhook_payloads import RefundFacts


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
        reverse_refunded_share(session, record, refund.id, record.refunded_amount)


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


def reverse_refunded_share(
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
