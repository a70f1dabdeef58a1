"""What is left of each credit of points, spent oldest first: the basis of expiry per earning.

Every approved positive ledger row opens a batch (``credit``); every approved debit takes its
points from the customer's oldest batches first (``consume``), in the transaction of the
ledger row, so the sum of a customer's batches always equals ``available_points``. Both are
called right after the balance UPDATE, which holds the customer's row lock until commit:
batches of one customer are therefore only ever changed by one transaction at a time, and
never before their customer is locked (the lock order of every writer: customer, then its
batches), which is what lets the expiry job take customers with SKIP LOCKED and never wait.

A refunded reward's points come back as a new batch whose clock starts at the refund: the
customer never had the use of them, and handing them back to the batches they came from
would need a record of which batches each redemption drew from (more writes on the redeem
path) and could return points already past their deadline, to expire the same night.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import Session

from shopify_loyalty.models import PointBatch, PointTransaction


def credit(session: Session, row: PointTransaction, earned_at: datetime) -> None:
    """Open the batch of an approved positive row (one INSERT)."""
    session.execute(insert(PointBatch).values(
        shop_id=row.shop_id, customer_id=row.customer_id, transaction_id=row.id,
        points=row.points, remaining=row.points, earned_at=earned_at,
    ))


def consume(session: Session, customer_id: int, points: int) -> None:
    """Take ``points`` from the customer's live batches, oldest first (one UPDATE).

    Each batch's running total (itself and every older one) says how much of it is used:
    a batch whose running total is within ``points`` is emptied, the one that crosses it
    keeps ``running - points``, later ones are left alone.
    """
    live = (
        select(PointBatch.id.label("batch_id"), PointBatch.remaining.label("had"),
               func.sum(PointBatch.remaining).over(
                   order_by=(PointBatch.earned_at, PointBatch.id)).label("running"))
        .where(PointBatch.customer_id == customer_id, PointBatch.remaining > 0)
        .subquery()
    )
    session.execute(
        update(PointBatch)
        .where(PointBatch.id == live.c.batch_id, live.c.running - live.c.had < points)
        .values(remaining=case((live.c.running <= points, 0), else_=live.c.running - points))
        .execution_options(synchronize_session=False)
    )


def apply(session: Session, row: PointTransaction, at: datetime) -> None:
    """Keep the batches in step with an approved ledger row applied at ``at``."""
    if row.points > 0:
        credit(session, row, at)
    elif row.points < 0:
        consume(session, row.customer_id, -row.points)
