"""Taking back points that were earned: a refunded order's share, an undone referral."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shopify_loyalty.models import Customer, LedgerKind, LedgerStatus, PointTransaction
from shopify_loyalty.services.points import ledger
from shopify_loyalty.services.points import pending as pending_points


def take_back(session: Session, customer: Customer, earned: PointTransaction, points: int,
              source: ledger.Source, note: str) -> PointTransaction:
    """A REVERSED row of ``points`` of the ``earned`` row: pending points first, never below
    zero. ``customer`` must be locked (pending.lock_customer).

    While the earning is still PENDING the reversal is a PENDING row with the same approval
    time, so both are approved together and the available balance never sees the points.
    Once approved, at most the available balance is taken; the shortfall (points already
    spent) is written in the row's note.
    """
    if earned.status is LedgerStatus.PENDING:
        assert earned.approve_after is not None
        return pending_points.post_pending(session, customer, LedgerKind.REVERSED, -points,
                                           source, earned.approve_after, note)
    taken = min(points, customer.available_points)
    if taken < points:
        note = f"{note}; shortfall {points - taken} points (already spent)"
    return ledger.post(session, customer, LedgerKind.REVERSED, -taken, source, note)
