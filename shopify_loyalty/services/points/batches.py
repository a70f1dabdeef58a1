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

from sqlalchemy import BindParameter, Integer, bindparam, case, func, literal_column, select
from sqlalchemy.orm import Session

from shopify_loyalty.db_driver import DriverStatement, run_in
from shopify_loyalty.db_reuse import table_of
from shopify_loyalty.models import PointBatch, PointTransaction

# Built once (db.table_of): statements over the table, given their values as parameters.
_BATCHES = table_of(PointBatch)
_CREDIT = _BATCHES.insert()
# Zero written into the SQL, not bound: a prepared statement's generic plan can then use the
# partial index of live batches (``remaining > 0``). Bound, PostgreSQL planned the spend
# anew at every execution (0.3 ms of its CPU a redemption).
_ZERO = literal_column("0", Integer)
_LIVE = (
    select(_BATCHES.c.id.label("batch_id"), _BATCHES.c.remaining.label("had"),
           func.sum(_BATCHES.c.remaining).over(
               order_by=(_BATCHES.c.earned_at, _BATCHES.c.id)).label("running"))
    .where(_BATCHES.c.customer_id == bindparam("customer"), _BATCHES.c.remaining > _ZERO)
    .subquery()
)
_SPEND: BindParameter[int] = bindparam("spend")
_CONSUME = DriverStatement(
    _BATCHES.update()
    .where(_BATCHES.c.id == _LIVE.c.batch_id, _LIVE.c.running - _LIVE.c.had < _SPEND)
    .values(remaining=case((_LIVE.c.running <= _SPEND, _ZERO),
                           else_=_LIVE.c.running - _SPEND))
)


def credit(session: Session, row: PointTransaction, earned_at: datetime) -> None:
    """Open the batch of an approved positive row (one INSERT)."""
    session.execute(_CREDIT, {
        "shop_id": row.shop_id, "customer_id": row.customer_id, "transaction_id": row.id,
        "points": row.points, "remaining": row.points, "earned_at": earned_at,
    })


def consume(session: Session, customer_id: int, points: int) -> None:
    """Take ``points`` from the customer's live batches, oldest first (one UPDATE).

    Each batch's running total (itself and every older one) says how much of it is used:
    a batch whose running total is within ``points`` is emptied, the one that crosses it
    keeps ``running - points``, later ones are left alone.
    """
    run_in(session, _CONSUME, {"customer": customer_id, "spend": points})


def apply(session: Session, row: PointTransaction, at: datetime) -> None:
    """Keep the batches in step with an approved ledger row applied at ``at``."""
    if row.points > 0:
        credit(session, row, at)
    elif row.points < 0:
        consume(session, row.customer_id, -row.points)
