"""Reminders (job ``expiry-reminders``): ``points.expiring`` once per customer, offset and
deadline, ``reward.expiring`` once per reward and offset; under a re-run and two runs at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs import scheduled
from shopify_loyalty.models import Customer, LoyaltyEvent, PointBatch, Shop
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.points import expiry
from shopify_loyalty.services.rewards import attempts, fulfilment
from shopify_loyalty.services.shops.admins import ShopAdmins
from tests import factories
from tests.conftest import SentTasks, auth
from tests.fake_shopify import FakeShopify
from tests.integration.expiry_setup import age_batches, events_of, set_policy
from tests.integration.test_fulfil_failures import make_reward, reload
from tests.integration.test_jobs import together

JOB = "expiry-reminders"


def remind(db: Database, now: datetime) -> int:
    return scheduled.run_now(db, JOB, now).handled


def expiring(session: Session, customer: Customer) -> list[tuple[int, int, str]]:
    return [(e["daysBefore"], e["points"], e["expiresAt"])
            for e in events_of(session, customer, "points.expiring")]


def deadline_of(session: Session, customer: Customer, days: int) -> datetime:
    earned = session.scalars(select(PointBatch.earned_at).where(
        PointBatch.customer_id == customer.id)).one()
    return (earned + timedelta(days=days)).astimezone(UTC)


def test_points_reminders_go_out_once_per_offset(
    session: Session, db: Database, shop: Shop,
) -> None:
    set_policy(session, shop, "PER_EARNING", 365)
    customer = factories.customer(session, shop, 1001, points=1200)
    age_batches(session, customer, [340])  # expires in 25 days
    deadline = deadline_of(session, customer, 365)
    session.commit()

    now = utcnow()
    assert remind(db, now) >= 1
    assert remind(db, now) == 0  # the same run again: it is over
    remind(db, now + timedelta(hours=1))  # another run: the reminder exists already
    assert expiring(session, customer) == [(30, 1200, deadline.isoformat())]
    remind(db, deadline - timedelta(days=6))
    remind(db, deadline - timedelta(days=5))
    remind(db, deadline - timedelta(hours=2))  # no offset under 7 days
    assert expiring(session, customer) == [(30, 1200, deadline.isoformat()),
                                           (7, 1200, deadline.isoformat())]
    [event] = events_of(session, customer, "points.expiring")[:1]
    assert event["customer"]["id"] == 1001 and event["availablePoints"] == 1200


def test_a_reminder_counts_every_point_expiring_within_its_offset(
    session: Session, db: Database, shop: Shop,
) -> None:
    set_policy(session, shop, "PER_EARNING", 365)
    customer = factories.customer(session, shop, 1001)
    for points in (100, 200, 400):
        adjustments.adjust_points(session, shop, 1001, points, "earned")
    age_batches(session, customer, [340, 338, 100])  # in 25 days, in 27 days, in 265 days
    first = session.scalars(select(PointBatch.earned_at).order_by(PointBatch.id)).first()
    assert first is not None
    session.commit()
    remind(db, utcnow())
    deadline = (first + timedelta(days=365)).astimezone(UTC)
    assert expiring(session, customer) == [(30, 300, deadline.isoformat())]


def test_an_overtaken_offset_is_skipped_for_the_most_urgent_one(
    session: Session, db: Database, shop: Shop,
) -> None:
    set_policy(session, shop, "INACTIVITY", 90)
    customer = factories.customer(session, shop, 1001, points=400)
    customer.last_activity_at = utcnow() - timedelta(days=85)  # 5 days left
    session.commit()
    remind(db, utcnow())
    assert [days for days, _, _ in expiring(session, customer)] == [7]


def test_a_policy_turned_on_warns_before_anything_expires(
    session: Session, db: Database, shop: Shop,
) -> None:
    customer = factories.customer(session, shop, 1001, points=900)
    age_batches(session, customer, [400])
    set_policy(session, shop, "PER_EARNING", 30, since=None)  # as of now
    session.commit()
    assert scheduled.run_now(db, "points-expiry", utcnow()).handled == 0
    remind(db, utcnow())
    [(days, points, at)] = expiring(session, customer)
    next_up = expiry.next_expiry(session, shop, customer)
    assert next_up is not None
    assert (days, points, at) == (30, 900, next_up.at.isoformat())
    assert next_up.at > utcnow() + timedelta(days=29)


def test_two_reminder_runs_at_once_remind_each_customer_once(committed_db: Database) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        set_policy(session, shop, "PER_EARNING", 365)
        for n in range(60):
            customer = factories.customer(session, shop, 3000 + n, points=100)
            age_batches(session, customer, [350])
    now = utcnow()
    # Two chains of one run (one stops), and two runs of slightly different times.
    together(lambda: remind(committed_db, now), lambda: remind(committed_db, now),
             lambda: remind(committed_db, now + timedelta(microseconds=1)))
    with committed_db.unit_of_work() as session:
        per_customer = session.execute(
            select(LoyaltyEvent.customer_id, func.count())
            .where(LoyaltyEvent.type == "points.expiring")
            .group_by(LoyaltyEvent.customer_id)).all()
        assert len(per_customer) == 60 and {count for _, count in per_customer} == {1}


def test_reward_reminders_once_per_offset_shown_on_the_reward(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer, sent_tasks: SentTasks, client: FlaskClient,
) -> None:
    reward = make_reward(session, token_shop, customer, expires_in_days=30)
    pending = make_reward(session, token_shop, customer, expires_in_days=30, name="Pending")
    assert fulfilment.fulfil_reward(db, admins, reward.id) is attempts.Outcome.DONE
    expires = reload(session, reward).expires_at
    assert expires is not None

    remind(db, expires - timedelta(days=8))
    assert events_of(session, customer, "reward.expiring") == []
    first = expires - timedelta(days=6)
    remind(db, first)
    remind(db, first + timedelta(hours=1))
    remind(db, expires - timedelta(hours=20))
    remind(db, expires - timedelta(hours=10))
    sent = events_of(session, customer, "reward.expiring")
    assert [(e["reward"]["id"], e["daysBefore"]) for e in sent] == [(reward.id, 7),
                                                                     (reward.id, 1)]
    assert sent[0]["reward"]["discountCode"] == reward.discount_code
    assert reload(session, reward).last_expiry_reminder_sent_at == expires - timedelta(hours=20)
    # A code that was never made in Shopify gets no reminder.
    assert reload(session, pending).last_expiry_reminder_sent_at is None

    shown = client.get("/loyalty/cp/api/rewards", headers=auth(token_shop.domain, 1001)).json
    by_id = {r["id"]: r for r in shown}
    assert by_id[reward.id]["lastExpiryReminderSentDate"] is not None
    assert by_id[pending.id]["lastExpiryReminderSentDate"] is None
