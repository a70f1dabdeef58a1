"""Taking back the points of refunded and cancelled orders (see services.orders.earning).

Every event locks the order's ``OrderPoints`` row first, as earning does, so a refund is
taken back once and in step with the earning it reverses.

A refund is measured against the order's own subtotal (``refund_basis``), not against the
amount the points were computed on (``eligible_amount``): refund line items' subtotals are
in the terms of the order's ``subtotal_price`` (with tax-inclusive prices both hold the
tax), while the eligible amount may leave the tax out or add shipping, per the earn rule.
Over the eligible amount, a tax-inclusive line would take back its tax's points as well,
and refunding every line of an order that earned on its shipping would leave the
shipping's points behind. Over the subtotal, each line takes back its share of the order's
points, and all the lines take back all of them.

The arithmetic is on integers (amounts in cents) and cumulative: once refunds of R cents of
a B-cent basis have arrived, the order has given back ``earned * R // B`` points (all of
them when R reaches B), and each refund takes back the difference from what was given back
before it. Units refunded one by one or together take back the same points, and refunds
adding up to the whole order take back exactly what it earned.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.models import (
    LedgerKind,
    OrderPoints,
    PointTransaction,
    Shop,
)
from shopify_loyalty.services.customers import progress, referral_completion
from shopify_loyalty.services.orders import progress as order_progress
from shopify_loyalty.services.orders.records import lock_order
from shopify_loyalty.services.points import ledger, reversal
from shopify_loyalty.services.points import pending as pending_points
from shopify_loyalty.shopify.webhook_payloads import RefundFacts


def reverse_for_refund(session: Session, shop: Shop, refund: RefundFacts,
                       now: datetime | None = None) -> None:
    """Take back the points of the refunded share of the order, once per refund, and the
    refunded money from the customer's tier progress, on the refund's own day.

    The share is cumulative (all refunds so far over the order's subtotal, rounded down), so
    two half refunds take back exactly what one full refund would.
    """
    record = lock_order(session, shop, refund.order_id)
    if any(int(seen["id"]) == refund.id for seen in record.refunds):
        return
    amount, at = refund.subtotal, refund.processed_at or now or utcnow()
    earlier = record.refunded_amount
    record.refunds = [*record.refunds,
                      {"id": refund.id, "amount": str(amount), "at": at.isoformat()}]
    record.refunded_amount = record.refunded_amount + amount
    referral_completion.order_refunded(session, shop, refund.order_id, record.refunded_amount)
    if record.customer_id is not None and record.earn_decided_at is not None:
        customer = pending_points.lock_customer(session, record.customer_id)
        order_progress.count_refund(session, customer, record, earlier, amount, at)
    if record.earned_points:
        refunded = sum(_cents_of(seen) for seen in record.refunds)
        _reverse_share(session, record, refund.id, refunded, at)


def reverse_earlier_refunds(session: Session, record: OrderPoints) -> None:
    """Take back the refunds that arrived before the order earned, each under its own key,
    on its own day, and for the share it would have taken had it come after."""
    assert record.earn_decided_at is not None
    refunded = 0
    for refund in record.refunds:
        refunded += _cents_of(refund)
        _reverse_share(session, record, int(refund["id"]), refunded,
                       order_progress.refund_time(refund, record.earn_decided_at))


def reverse_for_cancel(session: Session, shop: Shop, order_id: int, now: datetime,
                       cancelled_at: datetime | None = None) -> None:
    """Take back whatever the order still holds (after partial refunds, only the rest), and
    the order from its customer's tier progress, on the day it was cancelled."""
    record = lock_order(session, shop, order_id)
    if record.cancelled_at is not None:
        return
    record.cancelled_at = now
    referral_completion.order_cancelled(session, shop, order_id)
    at = cancelled_at or now
    if record.customer_id is not None and record.earn_decided_at is not None:
        customer = pending_points.lock_customer(session, record.customer_id)
        order_progress.count_cancel(session, customer, at)
    rest = record.earned_points - record.reversed_points
    if rest > 0:
        _take_back(session, record, ledger.Source("order_cancel", str(order_id)), rest,
                   f"Order {order_id} cancelled", at)


def _reverse_share(
    session: Session, record: OrderPoints, refund_id: int, refunded: int, at: datetime
) -> None:
    """Bring what the order gave back up to its share of ``refunded`` cents, all refunds so far
    (a cancellation may already have taken everything: then nothing is left to take)."""
    target = _share(record.earned_points, refunded, _basis(record))
    points = target - record.reversed_points
    if points > 0:
        _take_back(session, record, ledger.Source("refund", str(refund_id)), points,
                   f"Refund {refund_id} of order {record.order_id}", at)


def _share(earned: int, refunded: int, basis: int) -> int:
    """``earned * refunded // basis``: multiplied before divided, rounded down, at most all.

    A zero basis (an order that earned on its shipping alone) has no line to share out: any
    refunded line takes back everything, none takes back nothing.
    """
    if basis <= 0:
        return earned if refunded > 0 else 0
    return earned * min(refunded, basis) // basis


def _basis(record: OrderPoints) -> int:
    # Rows from before revision 0006 did not keep the subtotal: the eligible amount is the
    # nearest thing they have.
    basis = record.refund_basis if record.refund_basis is not None else record.eligible_amount
    return _cents(basis or Decimal("0"))


def _cents_of(refund: dict[str, Any]) -> int:
    return _cents(Decimal(refund["amount"]))


def _cents(amount: Decimal) -> int:
    """An amount in minor units: money is kept to the cent (``Numeric(14, 2)``)."""
    return int(amount.scaleb(2).to_integral_value(rounding=ROUND_HALF_EVEN))


def _take_back(session: Session, record: OrderPoints, source: ledger.Source, points: int,
               note: str, at: datetime) -> None:
    """Reverse ``points`` of the order's earning (services.points.reversal.take_back); the
    customer's tier progress loses them all on ``at``'s day (they were not earned)."""
    assert record.customer_id is not None
    record.reversed_points = record.reversed_points + points
    customer = pending_points.lock_customer(session, record.customer_id)
    progress.record(session, customer, at, points=-points)
    earned = session.scalars(
        select(PointTransaction).where(
            PointTransaction.shop_id == record.shop_id,
            PointTransaction.kind == LedgerKind.EARNED,
            PointTransaction.source_type == "order",
            PointTransaction.source_id == str(record.order_id),
        )
    ).one()
    reversal.take_back(session, customer, earned, points, source, note)
