"""Expiry against everything else at once, on real PostgreSQL with real threads and commits:
redemptions of the expiring points racing two expiry jobs (no balance below zero, no point
both spent and expired, no second EXPIRED row), and two rewards-expiry jobs at once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs import scheduled
from shopify_loyalty.models import (
    Customer,
    FulfillmentStatus,
    LedgerKind,
    LoyaltyEvent,
    OutboxMessage,
    PointTransaction,
    Reward,
    RewardStatus,
    RewardType,
)
from shopify_loyalty.services import outbox
from tests import factories
from tests.conftest import auth
from tests.integration.expiry_setup import age_batches, set_policy
from tests.integration.test_jobs import together

CUSTOMERS = 30
BALANCE, COST = 500, 300


def test_redemptions_racing_two_expiry_jobs_spend_or_expire_each_point_once(
    committed_db: Database, app: Flask, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The fulfilments are not what is raced here; and eager Celery tasks in many threads at
    # once would trip Celery's process-wide "inside a task" flag for later tests.
    monkeypatch.setattr(committed_db, "dispatcher", lambda queued: None)
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        set_policy(session, shop, "PER_EARNING", 365)
        for n in range(CUSTOMERS):
            customer = factories.customer(session, shop, 1001 + n, points=BALANCE)
            age_batches(session, customer, [400])
        rule_id, domain = factories.rule(session, shop, points_cost=COST).id, shop.domain

    def redeem(n: int) -> Any:
        def call() -> int:
            response = app.test_client().post(
                "/loyalty/cp/api/redeem-points", json={"redeemRuleId": rule_id},
                headers=auth(domain, 1001 + n))
            return response.status_code
        return call

    now = utcnow()
    job = lambda: scheduled.run_now(committed_db, "points-expiry", now)  # noqa: E731
    results = together(job, job, *(redeem(n) for n in range(CUSTOMERS)))
    assert not [r for r in results if isinstance(r, Exception)], results
    statuses = Counter(results[2:])
    assert set(statuses) <= {200, 422}
    # A customer the jobs skipped (locked by their redemption) is expired by the next run.
    scheduled.run_now(committed_db, "points-expiry", now)

    with committed_db.unit_of_work() as session:
        customers = session.scalars(select(Customer).order_by(Customer.id)).all()
        redeemed = 0
        for customer in customers:
            kinds = Counter(session.scalars(select(PointTransaction.kind).where(
                PointTransaction.customer_id == customer.id)))
            expired = session.scalars(select(PointTransaction.points).where(
                PointTransaction.customer_id == customer.id,
                PointTransaction.kind == LedgerKind.EXPIRED)).all()
            if kinds[LedgerKind.REDEEMED]:
                redeemed += 1
                assert expired == [-(BALANCE - COST)]
            else:
                assert expired == [-BALANCE]
            assert customer.available_points == 0
            assert factories.ledger_sum(session, customer.id) == 0
            assert sum(factories.batches(session, customer.id)) == 0
        assert redeemed == statuses[200]


def test_two_rewards_expiry_jobs_at_once_expire_each_reward_once(
    committed_db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(committed_db, "dispatcher", lambda queued: None)
    past = utcnow() - timedelta(minutes=1)
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        customer = factories.customer(session, shop, 1001)
        session.add_all([Reward(
            shop_id=shop.id, customer_id=customer.id, reward_type=RewardType.DISCOUNT_CODE,
            points=100, discount_code=f"LOY-RACE{n}", discount_code_id=f"gid://x/{n}",
            fulfillment_status=FulfillmentStatus.DONE, expires_at=past,
        ) for n in range(1200)])  # more than two batches
    now = utcnow()
    job = lambda: scheduled.run_now(committed_db, "rewards-expiry", now)  # noqa: E731
    reports = together(job, job)
    assert sum(r.handled for r in reports) == 1200, reports
    with committed_db.unit_of_work() as session:
        assert set(session.scalars(select(Reward.status))) == {RewardStatus.EXPIRED}
        assert session.scalar(select(func.count()).where(
            LoyaltyEvent.type == "reward.expired")) == 1200
        deactivations = session.scalars(select(OutboxMessage.args).where(
            OutboxMessage.task_name == outbox.DEACTIVATE_DISCOUNT)).all()
        assert len(deactivations) == len({a[0] for a in deactivations}) == 1200
