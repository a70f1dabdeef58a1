"""What an order's events add to its customer's tier progress (services.customers.progress).

An order counts on its own day (``processed_at``, else ``created_at``): its subtotal
(SPENT), the points it earned (POINTS_EARNED) and one order (ORDERS; none if it was
already cancelled). A refund takes back on its own day the refunded subtotal, never more
than the order still counts; a cancellation takes back the order (its money stays counted
unless refunded: SPENT is net of refunds, ORDERS of cancellations). Reversed points are
taken back where they are reversed (reversals._take_back), on the refund's day.

Every event of an order passes its ``OrderPoints`` row lock first, so the sums are right in
every arrival order: a refund that comes before its order is stored with its time and
counted, on its own day, when the order is.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from shopify_loyalty.models import Customer, OrderPoints
from shopify_loyalty.services.customers import progress
from shopify_loyalty.shopify.webhook_payloads import OrderFacts

ZERO = Decimal("0")


def order_time(order: OrderFacts, now: datetime) -> datetime:
    return order.processed_at or order.created_at or now


def refund_time(refund: dict[str, Any], fallback: datetime) -> datetime:
    """A stored refund's time (refunds stored before revision 0009 have none: they count
    when their order earns)."""
    at = refund.get("at")
    return datetime.fromisoformat(at) if isinstance(at, str) else fallback


def _basis(record: OrderPoints) -> Decimal:
    # Rows from before revision 0006 did not keep the subtotal (see reversals._basis).
    basis = record.refund_basis if record.refund_basis is not None else record.eligible_amount
    return basis or ZERO


def _still_counted(record: OrderPoints, refunded: Decimal) -> Decimal:
    return max(_basis(record) - refunded, ZERO)


def count_order(session: Session, customer: Customer, record: OrderPoints,
                at: datetime) -> None:
    """Count the order as it earned (``record`` after earning), and the refunds that came
    before it, each on its own day."""
    progress.record(session, customer, at, spent=_basis(record), points=record.earned_points,
                    orders=0 if record.cancelled_at is not None else 1)
    refunded = ZERO
    for refund in record.refunds:
        amount = Decimal(refund["amount"])
        taken = _still_counted(record, refunded) - _still_counted(record, refunded + amount)
        refunded += amount
        assert record.earn_decided_at is not None
        progress.record(session, customer, refund_time(refund, record.earn_decided_at),
                        spent=-taken)


def count_refund(session: Session, customer: Customer, record: OrderPoints,
                 earlier: Decimal, amount: Decimal, at: datetime) -> None:
    """Take back a refund of ``amount`` after refunds of ``earlier`` (the order counted)."""
    taken = _still_counted(record, earlier) - _still_counted(record, earlier + amount)
    progress.record(session, customer, at, spent=-taken)


def count_cancel(session: Session, customer: Customer, at: datetime) -> None:
    """Take back the order of a cancellation (the order counted, not cancelled before)."""
    progress.record(session, customer, at, orders=-1)
