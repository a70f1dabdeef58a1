"""Points expiry (job ``points-expiry``): per earning with FIFO spending, after inactivity,
never pending points, never twice, and never retroactively when the policy changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs import scheduled
from shopify_loyalty.models import LedgerKind, PointBatch, Shop
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.points import expiry, ledger, pending
from shopify_loyalty.services.program import settings as shop_settings
from shopify_loyalty.services.rewards import redemption
from tests import factories
from tests.integration.expiry_setup import (
    age_batches,
    events_of,
    expired_rows,
    last_active,
    set_policy,
)


def run(db: Database, now: datetime | None = None) -> int:
    return scheduled.run_now(db, "points-expiry", now or utcnow()).handled


def test_per_earning_expires_what_is_left_of_each_batch_oldest_first(
    session: Session, db: Database, shop: Shop,
) -> None:
    set_policy(session, shop, "PER_EARNING", 180)
    customer = factories.customer(session, shop, 1001)
    for points in (100, 200, 300):
        adjustments.adjust_points(session, shop, 1001, points, "earned")
    age_batches(session, customer, [400, 200, 0])
    rule = factories.rule(session, shop, points_cost=150)
    redemption.redeem_points(session, shop, customer, redemption.RedeemCommand(rule.id),
                             utcnow())
    # The 150 spent came from the oldest batch (all 100) and the next (50 of 200).
    assert factories.batches(session, customer.id) == [0, 150, 300]
    second = session.scalars(select(PointBatch.earned_at).order_by(PointBatch.id)).all()[1]
    deadline = (second + timedelta(days=180)).astimezone(UTC)
    next_up = expiry.next_expiry(session, shop, customer)
    assert next_up == expiry.Expiring(150, deadline)
    session.commit()

    assert run(db) == 1
    assert expired_rows(session, customer) == [(-150, f"{customer.id}:{deadline.isoformat()}")]
    assert run(db) == 0  # run twice: nothing more
    assert expired_rows(session, customer) == [(-150, f"{customer.id}:{deadline.isoformat()}")]
    session.refresh(customer)
    assert customer.available_points == 300 == sum(factories.batches(session, customer.id))
    assert factories.ledger_sum(session, customer.id) == 300
    [event] = events_of(session, customer, "points.expired")
    assert (event["points"], event["availablePoints"]) == (-150, 300)
    assert event["expiresAt"] == deadline.isoformat()

    assert run(db, utcnow() + timedelta(days=181)) == 1
    session.refresh(customer)
    assert customer.available_points == 0
    assert expiry.next_expiry(session, shop, customer) is None


def test_inactivity_expires_the_whole_available_balance_never_pending_points(
    session: Session, db: Database, shop: Shop,
) -> None:
    set_policy(session, shop, "INACTIVITY", 90)
    idle = factories.customer(session, shop, 1001, points=500)
    pending.post_pending(session, idle, LedgerKind.EARNED, 70, ledger.Source("order", "9"),
                         utcnow() + timedelta(days=30))
    seen = last_active(session, idle, 100)
    # Active a minute ago: a redemption is activity.
    redeemer = factories.customer(session, shop, 1002, points=500)
    last_active(session, redeemer, 100)
    rule = factories.rule(session, shop, points_cost=100)
    redemption.redeem_points(session, shop, redeemer, redemption.RedeemCommand(rule.id),
                             utcnow())
    # Points taken away by the merchant are not activity.
    docked = factories.customer(session, shop, 1003, points=500)
    adjustments.adjust_points(session, shop, 1003, -50, "correction")
    last_active(session, docked, 95)
    session.commit()

    assert run(db) == 2
    deadline = (seen + timedelta(days=90)).astimezone(UTC)
    assert expired_rows(session, idle) == [(-500, f"{idle.id}:{deadline.isoformat()}")]
    assert [points for points, _ in expired_rows(session, docked)] == [-450]
    assert expired_rows(session, redeemer) == []
    session.refresh(idle)
    assert (idle.available_points, idle.pending_points) == (0, 70)
    assert factories.batches(session, idle.id) == [0]
    assert run(db) == 0


def test_a_policy_turned_on_gives_points_earned_before_it_the_full_period(
    session: Session, db: Database, shop: Shop,
) -> None:
    customer = factories.customer(session, shop, 1001, points=800)
    age_batches(session, customer, [400])  # long past any deadline the policy would give
    set_policy(session, shop, "PER_EARNING", 365, since=None)
    changed = shop.points_expiry_since
    assert changed is not None
    grace = (changed + timedelta(days=365)).astimezone(UTC)
    assert expiry.next_expiry(session, shop, customer) == expiry.Expiring(800, grace)
    session.commit()

    assert run(db) == 0
    assert run(db, grace - timedelta(seconds=1)) == 0
    assert run(db, grace) == 1
    assert expired_rows(session, customer) == [(-800, f"{customer.id}:{grace.isoformat()}")]


def test_fewer_days_restart_the_grace_more_days_keep_it(
    session: Session, db: Database, shop: Shop,
) -> None:
    customer = factories.customer(session, shop, 1001, points=300)
    age_batches(session, customer, [200])
    set_policy(session, shop, "PER_EARNING", 365)
    # 365 → 30 days: the 200-day-old points are not gone at once; they have 30 days.
    shop_settings.update_settings(shop, points_expiry_days=30)
    shortened = shop.points_expiry_since
    assert shortened is not None and shortened > utcnow() - timedelta(minutes=1)
    expected = (shortened + timedelta(days=30)).astimezone(UTC)
    assert expiry.next_expiry(session, shop, customer) == expiry.Expiring(300, expected)
    # 30 → 60 days only moves deadlines later: the change time stays.
    shop_settings.update_settings(shop, points_expiry_days=60)
    assert shop.points_expiry_since == shortened
    # Another policy is a change too.
    shop_settings.update_settings(shop, points_expiry="INACTIVITY")
    assert shop.points_expiry_since is not None and shop.points_expiry_since > shortened
    session.commit()
    assert run(db, utcnow() + timedelta(days=59)) == 0
    assert run(db, utcnow() + timedelta(days=61)) == 1


def test_no_policy_no_expiry_and_uninstalled_shops_are_left_alone(
    session: Session, db: Database, shop: Shop,
) -> None:
    customer = factories.customer(session, shop, 1001, points=300)
    age_batches(session, customer, [4000])
    assert expiry.next_expiry(session, shop, customer) is None
    other = factories.shop(session, uninstalled_at=utcnow())
    set_policy(session, other, "PER_EARNING", 30)
    gone = factories.customer(session, other, 2001, points=300)
    age_batches(session, gone, [4000])
    session.commit()
    assert run(db, utcnow() + timedelta(days=3650)) == 0
