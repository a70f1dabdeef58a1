"""Points that wait for an approval delay (a return window) before they can be spent.

A PENDING ledger row counts in ``customers.pending_points``, never in ``available_points``:
the customer sees the points coming but cannot redeem them. Approval is the one update a
ledger row allows (PENDING → APPROVED, with ``available_after``); it moves the points from
pending to available in the same transaction, so both balances always equal the sums of
their rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from shopify_loyalty.db import utcnow
from shopify_loyalty.errors import InsufficientPointsError
from shopify_loyalty.models import Customer, LedgerKind, LedgerStatus, PointTransaction
from shopify_loyalty.services.points import batches
from shopify_loyalty.services.points.ledger import Source, emit_points_event, is_activity

# Customers per approval batch: one transaction holds their rows until it commits.
APPROVAL_BATCH = 200


def lock_customer(session: Session, customer_id: int) -> Customer:
    """The customer row, locked until commit and freshly read."""
    return session.scalars(
        select(Customer)
        .where(Customer.id == customer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def post_pending(
    session: Session,
    customer: Customer,
    kind: LedgerKind,
    points: int,
    source: Source,
    approve_after: datetime,
    note: str | None = None,
    event_data: Mapping[str, Any] | None = None,
) -> PointTransaction:
    """Append a PENDING row of ``points`` (signed) and move ``pending_points`` with it, with
    its ``points.*`` event (status PENDING: the points are coming, not yet spendable).

    Points on their way are activity already (the customer ordered): an inactivity expiry
    must not take the rest of a balance the day after an order. Pending points themselves
    have no batch, and cannot expire, until they are approved.
    Raises InsufficientPointsError when the pending balance would drop below zero.
    """
    activity = {"last_activity_at": utcnow()} if is_activity(kind, points) else {}
    pending = session.execute(
        update(Customer)
        .where(Customer.id == customer.id, Customer.pending_points + points >= 0)
        .values(pending_points=Customer.pending_points + points, **activity)
        .returning(Customer.pending_points)
        .execution_options(synchronize_session=False)
    ).scalar()
    if pending is None:
        raise InsufficientPointsError("Not enough pending points.")
    set_committed_value(customer, "pending_points", pending)
    if activity:
        set_committed_value(customer, "last_activity_at", activity["last_activity_at"])
    row = PointTransaction(
        shop_id=customer.shop_id, customer_id=customer.id, kind=kind,
        status=LedgerStatus.PENDING, points=points, available_after=None,
        source_type=source.type, source_id=source.id, note=note, approve_after=approve_after,
    )
    session.add(row)
    session.flush()
    emit_points_event(session, customer, row, event_data)
    return row


def customers_due(session: Session, now: datetime, limit: int) -> Sequence[int]:
    """Customers with pending rows whose delay has passed (at most ``limit`` of them)."""
    return session.scalars(
        select(PointTransaction.customer_id)
        .where(PointTransaction.status == LedgerStatus.PENDING,
               PointTransaction.approve_after <= now)
        .group_by(PointTransaction.customer_id)
        .order_by(PointTransaction.customer_id)
        .limit(limit)
    ).all()


def approve_batch(session: Session, now: datetime, limit: int) -> int:
    """Approve the due rows of up to ``limit`` customers; returns how many customers.

    The customers are locked in id order with SKIP LOCKED: two batches at once (two beats)
    take different customers, and a customer held by a refund in progress waits for the
    next batch.
    """
    due = customers_due(session, now, limit)
    if not due:
        return 0
    locked = session.scalars(
        select(Customer.id).where(Customer.id.in_(due)).order_by(Customer.id)
        .with_for_update(skip_locked=True)
    ).all()
    for customer_id in locked:
        approve_due(session, customer_id, now)
    return len(locked)


def approve_due(session: Session, customer_id: int, now: datetime) -> int:
    """Approve the customer's pending rows whose delay has passed; returns how many.

    The customer row is locked first (as every reversal does), so a refund cannot slip in
    between reading the rows and moving the balance. Rows are applied in the order they
    were written, so an earning comes before the reversals of its refunds. An approved
    earning opens its batch now (its expiry clock starts at approval) and is activity; an
    approved reversal spends the oldest points first, like every debit.
    """
    customer = lock_customer(session, customer_id)
    rows = session.scalars(
        select(PointTransaction)
        .where(PointTransaction.customer_id == customer_id,
               PointTransaction.status == LedgerStatus.PENDING,
               PointTransaction.approve_after <= now)
        .order_by(PointTransaction.id)
        .with_for_update()
    ).all()
    available, credited = customer.available_points, customer.credited_points
    for row in rows:
        available += row.points
        if row.kind is LedgerKind.EARNED:
            credited += row.points
        row.status = LedgerStatus.APPROVED
        row.available_after = available
        batches.apply(session, row, now)
        if is_activity(row.kind, row.points) and (
                customer.last_activity_at is None or customer.last_activity_at < now):
            customer.last_activity_at = now
    moved = available - customer.available_points
    customer.available_points = available
    customer.pending_points -= moved
    customer.credited_points = credited
    session.flush()
    return len(rows)
