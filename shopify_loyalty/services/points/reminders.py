"""``points.expiring`` reminders: before a customer's next deadline, at the shop's offsets.

Setting ``expiry_reminder_days`` (default 30, 7). A reminder is about the customer's next
deadline (``data.expiresAt``) and, in ``data.points``, every point that expires within its
offset ("1,200 points expire in the next 7 days, the first on …"): a batch that expires a day
after another is in the other's reminder, rather than left to one of its own that the next
deadline would hide. It goes out once per customer, offset and deadline: the row in
``points_reminders`` is inserted with ON CONFLICT DO NOTHING and the event is written only
for a row actually inserted, so a re-run, or two runs at once, cannot send it twice. Only the
most urgent offset that has come is sent: a deadline already 5 days away when first seen gets
the 7-day reminder, not the 30-day one too (an offset overtaken, by a missed run or a deadline
set closer than it, is skipped). A new next deadline (points spent, the previous batch
expired, the policy changed) gets its own reminders.
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
from shopify_loyalty.services.points.expiry import INACTIVITY, Policy


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
    _send(session, shop, offsets, now, customers, _upcoming(session, policy, customers, bound, now))
    return len(customers), customers[-1].id


def _upcoming(session: Session, policy: Policy, customers: Sequence[Customer],
              bound: datetime, now: datetime) -> dict[int, dict[datetime, int]]:
    """Each customer's points by deadline, for the deadlines still to come."""
    if policy.kind == INACTIVITY:
        return {c.id: {policy.deadline(c.last_activity_at): c.available_points}
                for c in customers if c.last_activity_at is not None
                and policy.deadline(c.last_activity_at) > now}
    rows = session.execute(
        select(PointBatch.customer_id, PointBatch.earned_at, PointBatch.remaining)
        .where(PointBatch.customer_id.in_([c.id for c in customers]),
               PointBatch.remaining > 0, PointBatch.earned_at <= bound)
    ).all()
    deadlines: defaultdict[int, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        deadline = policy.deadline(row.earned_at)
        if deadline > now:  # a passed one is the expiry job's
            deadlines[row.customer_id][deadline] += row.remaining
    return deadlines


def _reminder(offsets: Sequence[int], deadlines: dict[datetime, int],
              now: datetime) -> tuple[int, datetime, int] | None:
    """(offset, next deadline, points expiring within the offset), or None if none is due."""
    if not deadlines:
        return None
    first = min(deadlines)
    days = offset_due(offsets, first, now)
    if days is None:
        return None
    horizon = now + timedelta(days=days)
    return days, first, sum(p for deadline, p in deadlines.items() if deadline <= horizon)


def _send(session: Session, shop: Shop, offsets: Sequence[int], now: datetime,
          customers: Sequence[Customer], upcoming: dict[int, dict[datetime, int]]) -> None:
    values = []
    for customer in customers:
        due = _reminder(offsets, upcoming.get(customer.id, {}), now)
        if due is None:
            continue
        days, first, points = due
        values.append({"shop_id": shop.id, "customer_id": customer.id, "days_before": days,
                       "expires_at": first, "points": points, "created_at": now})
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
