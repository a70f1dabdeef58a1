"""The points ledger: every balance change is a ledger row and a balance update, together.

A balance never goes below zero: a debit is a conditional ``UPDATE … WHERE available_points
+ :delta >= 0 RETURNING``, so of N concurrent debits of the last points exactly one finds
its row; the table's CHECK constraint is the backstop. The caller's transaction holds the
row lock from the UPDATE until it commits, which also serialises any check made after it.

The same UPDATE moves ``last_activity_at`` (the clock of expiry after inactivity) on every
credit and every redemption, and the row's batch is opened or spent right after it
(services.points.batches): one more statement per row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from shopify_loyalty.db import utcnow
from shopify_loyalty.errors import InsufficientPointsError, NotFoundError
from shopify_loyalty.models import Customer, LedgerKind, LedgerStatus, PointTransaction
from shopify_loyalty.services.events import catalog
from shopify_loyalty.services.points import batches, posting

# A reward's refund taken back (the reward was used after all: services.rewards.usage).
REWARD_SOURCE = "reward"

POINTS_EVENTS = {
    LedgerKind.EARNED: catalog.POINTS_EARNED,
    LedgerKind.REDEEMED: catalog.POINTS_REDEEMED,
    LedgerKind.EXPIRED: catalog.POINTS_EXPIRED,
}


@dataclass(frozen=True)
class Source:
    """What caused a ledger row; unique per (shop, kind) so a replay cannot post twice."""

    type: str
    id: str | None


def _lifetime_deltas(kind: LedgerKind, points: int, source: Source) -> tuple[int, int]:
    """(credited_points, spent_points) changes for an approved row of this kind."""
    if kind in (LedgerKind.REDEEMED, LedgerKind.REFUNDED) or (
            kind is LedgerKind.REVERSED and source.type == REWARD_SOURCE):
        return 0, -points
    if kind is LedgerKind.EARNED or (kind is LedgerKind.ADJUSTED and points > 0):
        return points, 0
    return 0, 0


def post(
    session: Session,
    customer: Customer,
    kind: LedgerKind,
    points: int,
    source: Source,
    note: str | None = None,
    event_data: Mapping[str, Any] | None = None,
) -> PointTransaction:
    """Apply ``points`` (signed) to the customer's available balance and append the row,
    with its ``points.*`` event (``event_data`` adds to the event's data, e.g. the rule kind),
    and keep the customer's batches and last activity in step.

    Raises InsufficientPointsError when the balance would drop below zero.
    """
    at = utcnow()
    credited, spent = _lifetime_deltas(kind, points, source)
    activity = is_activity(kind, points)
    posted = posting.post_row(session, {
        "shop_id": customer.shop_id, "customer_id": customer.id, "kind": kind,
        "status": LedgerStatus.APPROVED, "points": points, "source_type": source.type,
        "source_id": source.id, "note": note, "approve_after": None, "created_at": at,
    }, credited, spent, activity)
    if posted is None:
        if points >= 0:
            raise NotFoundError("customer not found")
        raise InsufficientPointsError()
    (available, lifetime_credited, lifetime_spent), row = posted
    # Keep the loaded object in step without another SELECT.
    set_committed_value(customer, "available_points", available)
    set_committed_value(customer, "credited_points", lifetime_credited)
    set_committed_value(customer, "spent_points", lifetime_spent)
    if activity:
        set_committed_value(customer, "last_activity_at", at)
    if points < 0:
        batches.consume(session, customer.id, -points)  # a credit's batch came with the row
    emit_points_event(session, customer, row, event_data)
    return row


def is_activity(kind: LedgerKind, points: int) -> bool:
    """Whether a row restarts the inactivity clock: every credit (earning, positive
    adjustment or import, a reward's refund) and every redemption. A negative adjustment,
    a reversal or an expiry is nothing the customer did."""
    return points > 0 or kind is LedgerKind.REDEEMED


def emit_points_event(session: Session, customer: Customer, row: PointTransaction,
                      extra: Mapping[str, Any] | None = None) -> None:
    """The event of a ledger row: earned, redeemed, expired, or adjusted (every other kind:
    an adjustment, a refund of a reward, an order's reversal; ``data.kind`` tells which)."""
    catalog.emit(session, customer, POINTS_EVENTS.get(row.kind, catalog.POINTS_ADJUSTED), {
        "points": row.points,
        "kind": row.kind.value,
        "status": row.status.value,
        "transactionId": row.id,
        "source": {"type": row.source_type, "id": row.source_id},
        "note": row.note,
        **(extra or {}),
    })
