"""``points.expiring`` reminders: before a customer's next deadline, at the shop's offsets.

Setting ``expiry_reminder_days`` (default 30, 7). For each customer the reminder is about the
next deadline (services.points.expiry) and the points that expire at it. It goes out once per
customer, offset and deadline: the row in ``points_reminders`` is inserted with ON CONFLICT DO
NOTHING and the event is written only for a row actually inserted, so a re-run, or two runs
at once, cannot send it twice. Only the most urgent offset that has come is sent: a deadline
that was already 5 days away when first seen gets the 7-day reminder, not the 30-day one too
(an offset overtaken, by a missed run or a deadline set closer than it, is skipped). A new
deadline (points spent, more earned, the policy changed) gets its own reminders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from shopify_loyalty.db import upsert_insert
from shopify_loyalty.models import Customer, PointBatch, PointsReminder, Shop
from shopify_loyalty.services.events import catalog
from shopify_loyalty.services.points.expiry import INACTIVITY, Expiring, Policy


def offset_due(offsets: Sequence[int], deadline: datetime, now: datetime) -> int | None:
    """The smallest offset (days) whose moment before ``deadline`` has come, or None when
    none has or the deadline itself has passed."""
    if deadline <= now:
        return None
    due = [days for days in offsets if deadline - timedelta(days=days) <= now]
    return min(due) if due else None


def remind_customers(session: Session, shop: Shop, now: datetime, after_id: int,
                     limit: int) -> tuple[int, int]:
    """Remind the shop's customers with ids above ``after_id`` (up to ``limit`` of them,
    in id order) whose reminder is due. Returns how many were looked at and the last id."""
    policy = Policy.of(shop)
    offsets: list[int] = list(shop.setting("expiry_reminder_days") or [])
    if policy is None or not offsets:
        return 0, after_id
    # Only points whose clock started by then can expire within the largest offset.
    bound = now + timedelta(days=max(offsets)) - policy.span
    if policy.since is not None and policy.since > bound:
        return 0, after_id
    query = select(Customer).where(Customer.shop_id == shop.id, Customer.id > after_id,
                                   Customer.available_points > 0)
    if policy.kind == INACTIVITY:
        query = query.where(Customer.last_activity_at <= bound)
    else:
        query = query.where(exists().where(
            PointBatch.customer_id == Customer.id, PointBatch.remaining > 0,
            PointBatch.earned_at <= bound))
    customers = session.scalars(query.order_by(Customer.id).limit(limit)).all()
    if not customers:
        return 0, after_id
    upcoming = _next_expiries(session, policy, customers, bound)
    _send(session, shop, offsets, now, customers, upcoming)
    return len(customers), customers[-1].id


def _next_expiries(session: Session, policy: Policy, customers: Sequence[Customer],
                   bound: datetime) -> dict[int, Expiring]:
    if policy.kind == INACTIVITY:
        return {c.id: Expiring(c.available_points, policy.deadline(c.last_activity_at))
                for c in customers if c.last_activity_at is not None}
    rows = session.execute(
        select(PointBatch.customer_id, PointBatch.earned_at, PointBatch.remaining)
        .where(PointBatch.customer_id.in_([c.id for c in customers]),
               PointBatch.remaining > 0, PointBatch.earned_at <= bound)
    ).all()
    clocks: defaultdict[int, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        clocks[row.customer_id][policy.clock(row.earned_at)] += row.remaining
    upcoming = {}
    for customer_id, points_by_clock in clocks.items():
        first = min(points_by_clock)
        upcoming[customer_id] = Expiring(points_by_clock[first], policy.deadline(first))
    return upcoming


def _send(session: Session, shop: Shop, offsets: Sequence[int], now: datetime,
          customers: Sequence[Customer], upcoming: dict[int, Expiring]) -> None:
    values = []
    for customer in customers:
        expiring = upcoming.get(customer.id)
        days = offset_due(offsets, expiring.at, now) if expiring else None
        if expiring is None or days is None or expiring.points <= 0:
            continue
        values.append({"shop_id": shop.id, "customer_id": customer.id, "days_before": days,
                       "expires_at": expiring.at, "points": expiring.points,
                       "created_at": now})
    if not values:
        return
    sent = session.execute(
        upsert_insert(session, PointsReminder).values(values)
        .on_conflict_do_nothing(index_elements=["customer_id", "days_before", "expires_at"])
        .returning(PointsReminder.customer_id, PointsReminder.days_before,
                   PointsReminder.expires_at, PointsReminder.points)
    ).all()
    by_id = {c.id: c for c in customers}
    for row in sent:
        catalog.emit(session, by_id[row.customer_id], catalog.POINTS_EXPIRING, {
            "points": row.points, "expiresAt": row.expires_at.isoformat(),
            "daysBefore": row.days_before,
        })
