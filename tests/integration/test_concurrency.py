"""Real races on real PostgreSQL: threads, their own connections, real commits."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from shopify_loyalty.db import Database
from shopify_loyalty.models import (
    Customer,
    LedgerKind,
    LimitInterval,
    PointTransaction,
    Reward,
    Shop,
)
from tests import factories
from tests.conftest import SentTasks, auth

URL = "/loyalty/cp/api/redeem-points"


def at_once(n: int, call: Callable[[int], Any]) -> list[Any]:
    """Run ``call(i)`` in n threads released together; their results in order."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        results[i] = call(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def setup(db: Database, points: int, **rule_fields: Any) -> tuple[str, int, int]:
    with db.unit_of_work() as session:
        shop = factories.shop(session)
        customer = factories.customer(session, shop, 1001, points=points)
        rule = factories.rule(session, shop, **rule_fields)
        return shop.domain, customer.id, rule.id


def redeem_in_threads(app: Flask, domain: str, body: dict[str, Any], n: int,
                      key: Callable[[int], str | None] = lambda i: None) -> list[tuple[int, Any]]:
    def call(i: int) -> tuple[int, Any]:
        headers = auth(domain, 1001)
        if (k := key(i)) is not None:
            headers["Idempotency-Key"] = k
        response = app.test_client().post(URL, json=body, headers=headers)
        return response.status_code, response.json

    return at_once(n, call)


def balance_and_ledger(db: Database, customer_id: int) -> tuple[int, int, int]:
    with db.unit_of_work() as session:
        balance = session.get_one(Customer, customer_id).available_points
        redeemed = session.scalar(select(func.count(PointTransaction.id)).where(
            PointTransaction.kind == LedgerKind.REDEEMED)) or 0
        return balance, factories.ledger_sum(session, customer_id), redeemed


def test_twenty_threads_racing_for_the_last_reward_one_wins(
    app: Flask, committed_db: Database, sent_tasks: SentTasks
) -> None:
    domain, customer_id, rule_id = setup(committed_db, points=500, points_cost=500)
    results = redeem_in_threads(app, domain, {"redeemRuleId": rule_id}, 20)
    outcomes = Counter(
        "ok" if status == 200 else body["code"] for status, body in results
    )
    assert outcomes == {"ok": 1, "insufficient_points": 19}
    assert balance_and_ledger(committed_db, customer_id) == (0, 0, 1)
    assert len(sent_tasks) == 1


def test_ten_retries_of_one_key_at_once_debit_once(
    app: Flask, committed_db: Database, sent_tasks: SentTasks
) -> None:
    domain, customer_id, rule_id = setup(committed_db, points=5000, points_cost=500)
    results = redeem_in_threads(app, domain, {"redeemRuleId": rule_id}, 10, key=lambda i: "same")
    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {200, 409}, statuses
    assert statuses[200] >= 1
    bodies = [body for status, body in results if status == 200]
    assert all(body == bodies[0] for body in bodies)
    assert all(body["code"] == "request_in_progress" for status, body in results if status == 409)
    assert balance_and_ledger(committed_db, customer_id) == (4500, 4500, 1)
    with committed_db.unit_of_work() as session:
        assert session.scalar(select(func.count(Reward.id))) == 1
    assert len(sent_tasks) == 1


def test_a_claim_limit_holds_under_a_race(app: Flask, committed_db: Database) -> None:
    domain, customer_id, rule_id = setup(
        committed_db, points=5000, points_cost=100, limit_count=1,
        limit_interval=LimitInterval.LIFETIME,
    )
    results = redeem_in_threads(app, domain, {"redeemRuleId": rule_id}, 10)
    outcomes = Counter("ok" if s == 200 else b["code"] for s, b in results)
    assert outcomes == {"ok": 1, "redeem_limit_reached": 9}
    assert balance_and_ledger(committed_db, customer_id) == (4900, 4900, 1)


def test_first_contacts_at_once_enrol_one_customer(app: Flask, committed_db: Database) -> None:
    with committed_db.unit_of_work() as session:
        domain = factories.shop(session).domain

    def call(i: int) -> int:
        return app.test_client().get(
            "/loyalty/cp/api/customer-loyalty", headers=auth(domain, 777)
        ).status_code

    assert at_once(10, call) == [200] * 10
    with committed_db.unit_of_work() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == domain)).one()
        customers = session.scalars(select(Customer).where(Customer.shop_id == shop.id)).all()
        assert len(customers) == 1
