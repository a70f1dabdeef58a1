"""The ``expiry-reminders`` job: ``points.expiring`` and ``reward.expiring`` reminders.

A run (one ``as_of``) goes through the installed shops in id order and, for each, through its
customers (points reminders, services.points.reminders) then its rewards, in bounded batches,
from a cursor kept in ``reminder_runs``: a reminded customer still has the same points, so
without the cursor every batch would walk past all those before it. A batch takes the run's
row with SKIP LOCKED, so of two chains of one run one does the work and the other stops; two
runs at once (two beats, two ``as_of``) each send only what the other has not: "once" is
held by a unique key (points) and a conditional UPDATE (rewards), never by a check first.

Reward reminders (setting ``reward_reminder_days``, default 7, 1): an UNUSED reward made in
Shopify (fulfilment DONE) whose expiry is within an offset gets ``reward.expiring`` once per
offset. Offsets are sent from the largest down and only the most urgent one that has come:
``rewards.expiry_reminder_days`` holds the last one sent, and the UPDATE that sends the next
requires it to be smaller, so no offset goes out twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from shopify_loyalty.db import upsert_insert, utcnow
from shopify_loyalty.models import (
    Customer,
    FulfillmentStatus,
    ReminderRun,
    Reward,
    RewardStatus,
    Shop,
)
from shopify_loyalty.services.events import catalog
from shopify_loyalty.services.points import reminders as points_reminders

# Customers or rewards looked at per batch.
REMINDER_BATCH = 1000
POINTS, REWARDS = "points", "rewards"


def remind_batch(session: Session, now: datetime, limit: int) -> int:
    """Go on with the run as of ``now`` for up to ``limit`` customers and rewards; returns
    how many were looked at (0 once the run is over, or while another chain holds it)."""
    run = _take_run(session, now)
    if run is None:
        return 0
    seen = 0
    while seen < limit:
        shop = session.scalars(
            select(Shop).where(Shop.id >= run.shop_id, Shop.uninstalled_at.is_(None))
            .order_by(Shop.id).limit(1)
        ).first()
        if shop is None:
            run.finished_at = utcnow()
            break
        if shop.id != run.shop_id:
            run.shop_id, run.phase, run.after_id = shop.id, POINTS, 0
        step = points_reminders.remind_customers if run.phase == POINTS else remind_rewards
        wanted = limit - seen
        looked, run.after_id = step(session, shop, now, run.after_id, wanted)
        seen += looked
        if looked < wanted:  # this phase of this shop is done
            if run.phase == POINTS:
                run.phase, run.after_id = REWARDS, 0
            else:
                run.shop_id, run.phase, run.after_id = shop.id + 1, POINTS, 0
    return seen


def _take_run(session: Session, now: datetime) -> ReminderRun | None:
    session.execute(
        upsert_insert(session, ReminderRun)
        .values(as_of=now, shop_id=0, phase=POINTS, after_id=0)
        .on_conflict_do_nothing(index_elements=["as_of"])
    )
    run = session.scalars(
        select(ReminderRun).where(ReminderRun.as_of == now)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()
    return None if run is None or run.finished_at is not None else run


def remind_rewards(session: Session, shop: Shop, now: datetime, after_id: int,
                   limit: int) -> tuple[int, int]:
    """Send the due ``reward.expiring`` of the shop's rewards with ids above ``after_id``
    (up to ``limit`` looked at). Returns how many were looked at and the last id."""
    offsets: list[int] = list(shop.setting("reward_reminder_days") or [])
    if not offsets:
        return 0, after_id
    rewards = session.scalars(
        select(Reward)
        .where(Reward.shop_id == shop.id, Reward.status == RewardStatus.UNUSED,
               # A referred friend's code has no customer to remind until it is used.
               Reward.customer_id.is_not(None), Reward.expires_at > now,
               Reward.expires_at <= now + timedelta(days=max(offsets)),
               Reward.id > after_id)
        .order_by(Reward.id)
        .limit(limit)
    ).all()
    if not rewards:
        return 0, after_id
    # Their customers, for the events: loaded at once and held (the identity map is weak).
    customers = session.scalars(
        select(Customer).where(Customer.id.in_({r.customer_id for r in rewards}))).all()
    due: defaultdict[int, list[Reward]] = defaultdict(list)
    for reward in rewards:
        assert reward.expires_at is not None
        days = points_reminders.offset_due(offsets, reward.expires_at, now)
        if days is not None and reward.fulfillment_status is FulfillmentStatus.DONE:
            due[days].append(reward)
    by_id = {c.id: c for c in customers}
    for days, group in due.items():
        _remind(session, group, days, now, by_id)
    return len(rewards), rewards[-1].id


def _remind(session: Session, rewards: list[Reward], days: int, now: datetime,
            customers: dict[int, Customer]) -> None:
    """One conditional UPDATE for the rewards due this offset: it takes only those not yet
    reminded at it or a smaller one, so of two runs at once each reward goes to one."""
    sent = set(session.scalars(
        update(Reward)
        .where(Reward.id.in_([r.id for r in rewards]), Reward.status == RewardStatus.UNUSED,
               or_(Reward.expiry_reminder_days.is_(None), Reward.expiry_reminder_days > days))
        .values(expiry_reminder_days=days, last_expiry_reminder_sent_at=now)
        .returning(Reward.id)
        .execution_options(synchronize_session=False)
    ))
    for reward in rewards:
        if reward.id not in sent or reward.customer_id is None:
            continue  # (never None here: see the query; the check is for the type)
        set_committed_value(reward, "expiry_reminder_days", days)
        set_committed_value(reward, "last_expiry_reminder_sent_at", now)
        catalog.emit_reward(session, customers[reward.customer_id], catalog.REWARD_EXPIRING,
                            reward, {"daysBefore": days})
