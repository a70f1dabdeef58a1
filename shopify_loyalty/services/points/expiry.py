"""Points that expire: the shop's policy, each customer's next deadline, and the daily job.

Policies (shop setting ``points_expiry``, with ``points_expiry_days`` = N):

- ``INACTIVITY``: the whole available balance expires N × 24 h after the customer's last
  activity (``customers.last_activity_at``: an earning, a redemption, a positive adjustment or
  import, a refund of a reward; see services.points.ledger.is_activity).
- ``PER_EARNING``: each batch (services.points.batches) expires N × 24 h after it became
  spendable, with what is left of it: spending has used the oldest points first.

A change of policy never expires anything without notice: points earned (or activity had)
before ``shops.points_expiry_since`` (the last change that could bring a deadline closer; see
services.program.settings) count as earned at that moment. So after turning expiry on, or
shortening it, nothing expires for N days, and reminders go out before.

Expiring is one ledger row of kind EXPIRED per customer and deadline (source
``expiry:<customer id>:<deadline>``, unique: never twice), never more than the available
balance, never pending points (they have no batch until approved, and are not available).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from shopify_loyalty.models import (
    Customer,
    LedgerKind,
    LedgerStatus,
    PointBatch,
    PointTransaction,
    Shop,
)
from shopify_loyalty.services.points.ledger import emit_points_event

INACTIVITY = "INACTIVITY"
PER_EARNING = "PER_EARNING"
EXPIRY_SOURCE = "expiry"
# Customers per batch of the job: one transaction locks them (SKIP LOCKED) until it commits.
EXPIRY_BATCH = 1000


@dataclass(frozen=True)
class Policy:
    kind: str
    days: int
    since: datetime | None

    @classmethod
    def of(cls, shop: Shop) -> Policy | None:
        kind = shop.setting("points_expiry")
        if kind not in (INACTIVITY, PER_EARNING):
            return None
        return cls(kind, int(shop.setting("points_expiry_days")), shop.points_expiry_since)

    @property
    def span(self) -> timedelta:
        return timedelta(days=self.days)

    def clock(self, moment: datetime) -> datetime:
        """When the expiry clock of points earned (or activity had) at ``moment`` started."""
        return moment if self.since is None or moment >= self.since else self.since

    def deadline(self, moment: datetime) -> datetime:
        return (self.clock(moment) + self.span).astimezone(UTC)

    def due_cutoff(self, now: datetime) -> datetime | None:
        """Points whose moment is at or before this are due ``now``; None if none can be
        (the policy changed less than N days ago)."""
        cutoff = now - self.span
        return None if self.since is not None and self.since > cutoff else cutoff


@dataclass(frozen=True)
class Expiring:
    points: int
    at: datetime


def next_expiry(session: Session, shop: Shop, customer: Customer) -> Expiring | None:
    """The customer's next deadline and the points that expire at it, or None.

    Nothing to read under INACTIVITY; one indexed statement under PER_EARNING (the oldest
    live batch, and the sum of those that share its clock).
    """
    policy = Policy.of(shop)
    if policy is None or customer.available_points <= 0:
        return None
    if policy.kind == INACTIVITY:
        if customer.last_activity_at is None:
            return None
        return Expiring(customer.available_points, policy.deadline(customer.last_activity_at))
    live = (PointBatch.customer_id == customer.id, PointBatch.remaining > 0)
    first = select(func.min(PointBatch.earned_at)).where(*live).scalar_subquery()
    # Batches earned before the policy's change time share its deadline.
    clock = first if policy.since is None else case((first > policy.since, first),
                                                    else_=policy.since)
    points, oldest = session.execute(
        select(func.sum(PointBatch.remaining), func.min(PointBatch.earned_at))
        .where(*live, PointBatch.earned_at <= clock)
    ).one()
    if oldest is None:
        return None
    return Expiring(int(points), policy.deadline(oldest))


def expire_batch(session: Session, now: datetime, limit: int) -> int:
    """Expire what is due ``now`` for up to ``limit`` customers; returns how many.

    Customers are locked with SKIP LOCKED: two jobs at once take different ones, and one in
    the middle of a redemption is left for the next batch. Those handled have no due points
    left, so they no longer match.
    """
    handled = 0
    for shop in _shops_with_expiry(session):
        policy = Policy.of(shop)
        cutoff = policy.due_cutoff(now) if policy else None
        if policy is None or cutoff is None:
            continue
        expire = _expire_inactive if policy.kind == INACTIVITY else _expire_batches
        handled += expire(session, shop, policy, cutoff, limit - handled)
        if handled >= limit:
            break
    return handled


def _shops_with_expiry(session: Session) -> Sequence[Shop]:
    # An uninstalled shop's customers cannot spend their points: their clocks stop with it.
    return session.scalars(
        select(Shop)
        .where(Shop.uninstalled_at.is_(None),
               Shop.settings["points_expiry"].as_string().in_((INACTIVITY, PER_EARNING)))
        .order_by(Shop.id)
    ).all()


def _expire_inactive(session: Session, shop: Shop, policy: Policy, cutoff: datetime,
                     limit: int) -> int:
    customers = session.scalars(
        select(Customer)
        .where(Customer.shop_id == shop.id, Customer.available_points > 0,
               Customer.last_activity_at <= cutoff)
        .order_by(Customer.last_activity_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    if not customers:
        return 0
    session.execute(
        update(PointBatch)
        .where(PointBatch.customer_id.in_([c.id for c in customers]), PointBatch.remaining > 0)
        .values(remaining=0)
        .execution_options(synchronize_session=False)
    )
    _post(session, policy, [
        (c, policy.deadline(c.last_activity_at), c.available_points)
        for c in customers if c.last_activity_at is not None
    ])
    return len(customers)


def _expire_batches(session: Session, shop: Shop, policy: Policy, cutoff: datetime,
                    limit: int) -> int:
    due = (PointBatch.shop_id == shop.id, PointBatch.remaining > 0,
           PointBatch.earned_at <= cutoff)
    candidates = session.scalars(
        select(PointBatch.customer_id).where(*due).order_by(PointBatch.earned_at).limit(limit)
    ).all()
    if not candidates:
        return 0
    by_id = _lock_customers(session, set(candidates))
    # Safe to read now: a customer's batches change only under its row lock, which we hold.
    rows = session.execute(
        select(PointBatch.id, PointBatch.customer_id, PointBatch.earned_at, PointBatch.remaining)
        .where(*due, PointBatch.customer_id.in_(by_id))
    ).all()
    session.execute(
        update(PointBatch).where(PointBatch.id.in_([r.id for r in rows])).values(remaining=0)
        .execution_options(synchronize_session=False)
    )
    # Batches that share a deadline (all those earned before a policy change) expire as one.
    totals: defaultdict[tuple[int, datetime], int] = defaultdict(int)
    for row in rows:
        totals[(row.customer_id, policy.deadline(row.earned_at))] += row.remaining
    _post(session, policy, [
        (by_id[customer_id], deadline, points)
        for (customer_id, deadline), points in sorted(totals.items())
    ])
    return len(by_id)


def _lock_customers(session: Session, ids: set[int]) -> dict[int, Customer]:
    """Those of the customers no other transaction holds, locked and freshly read."""
    return {c.id: c for c in session.scalars(
        select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True))}


def _post(session: Session, policy: Policy,
          expiries: Sequence[tuple[Customer, datetime, int]]) -> None:
    """The EXPIRED rows of locked customers, in bulk: each balance set from its locked value
    (never below zero), every row inserted in one flush, then their ``points.expired``."""
    rows = []
    for customer, deadline, wanted in expiries:
        points = min(wanted, customer.available_points)
        if points <= 0:
            continue
        customer.available_points -= points
        row = PointTransaction(
            shop_id=customer.shop_id, customer_id=customer.id, kind=LedgerKind.EXPIRED,
            status=LedgerStatus.APPROVED, points=-points,
            available_after=customer.available_points, source_type=EXPIRY_SOURCE,
            source_id=f"{customer.id}:{deadline.isoformat()}",
            note=f"Expired: {_why(policy)}",
        )
        rows.append((customer, row, deadline))
    session.add_all([row for _, row, _ in rows])
    session.flush()
    for customer, row, deadline in rows:
        emit_points_event(session, customer, row, {
            "expiresAt": deadline.isoformat(), "availablePoints": row.available_after,
        })


def _why(policy: Policy) -> str:
    if policy.kind == INACTIVITY:
        return f"no activity for {policy.days} days"
    return f"earned more than {policy.days} days before"
