"""Scheduled jobs: ``jobs run`` on a fake clock, and two beats (two relays, two chains of
batches) at once without a double effect, on real PostgreSQL with real threads."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from celery import Celery
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shopify_loyalty.config import DEFAULT_TASK_LEASE_SECONDS
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs import scheduled
from shopify_loyalty.jobs.dispatch import OutboxDispatcher
from shopify_loyalty.models import (
    Customer,
    LedgerKind,
    LedgerStatus,
    OutboxMessage,
    PointTransaction,
)
from shopify_loyalty.services import outbox
from shopify_loyalty.services.points import ledger, pending
from tests import factories

LEASE = timedelta(seconds=90)


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment in threads; their results (or exceptions)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = calls[n]()
        except Exception as exc:  # a failure is a result the test looks at
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def pending_customers(db: Database, count: int, points: int = 10) -> list[int]:
    """Customers each with one pending earning that is due now."""
    with db.unit_of_work() as session:
        shop = factories.shop(session)
        ids = []
        for n in range(count):
            customer = factories.customer(session, shop, 5000 + n)
            pending.post_pending(session, customer, LedgerKind.EARNED, points,
                                 ledger.Source("order", str(n)), utcnow() - timedelta(seconds=1))
            ids.append(customer.id)
        return ids


def balances(db: Database, ids: Sequence[int]) -> list[tuple[int, int]]:
    with db.unit_of_work() as session:
        return [(c.available_points, c.pending_points) for c in session.scalars(
            select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id))]


def test_two_beats_approving_at_once_approve_each_row_once(committed_db: Database) -> None:
    ids = pending_customers(committed_db, 450)  # more than two batches' worth
    now = utcnow()
    reports = together(lambda: scheduled.run_now(committed_db, "approve-pending", now),
                       lambda: scheduled.run_now(committed_db, "approve-pending", now))
    assert sum(r.handled for r in reports) == 450, reports
    assert balances(committed_db, ids) == [(10, 0)] * 450
    with committed_db.unit_of_work() as session:
        assert session.scalar(select(func.count()).where(
            PointTransaction.status == LedgerStatus.PENDING)) == 0
        approved = session.scalars(select(PointTransaction.available_after)).all()
        assert sorted(approved) == [10] * 450


def test_two_chains_of_batches_through_the_outbox_share_the_work(
    committed_db: Database, app: Flask,
) -> None:
    ids = pending_customers(committed_db, 250)
    now = utcnow()
    # Two beats started the job at once; each batch runs in-process after its commit.
    together(lambda: scheduled.start(committed_db, "approve-pending", now),
             lambda: scheduled.start(committed_db, "approve-pending", now))
    assert balances(committed_db, ids) == [(10, 0)] * 250
    with committed_db.unit_of_work() as session:
        # Every batch row ran to its end; the last of each chain found nothing left.
        assert session.scalar(select(func.count()).where(
            OutboxMessage.completed_at.is_(None))) == 0


class Recording(OutboxDispatcher):
    def __init__(self, celery: Celery, db: Database, sent: list[int]) -> None:
        super().__init__(celery, db, LEASE)
        self.sent = sent

    def send(self, task_name: str, args: Sequence[Any], outbox_id: int,
             shop_id: int | None = None) -> bool:
        self.sent.append(outbox_id)
        return True


def test_two_relays_at_once_send_each_overdue_row_once(
    committed_db: Database, app: Flask,
) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        for n in range(1200):  # more than two relay batches
            outbox.enqueue(session, shop.id, "loyalty.noop", n)
        session.info.clear()  # lost at commit: left to the relays once the lease is over
    celery: Celery = app.extensions["celery"]
    sent: list[int] = []
    later = utcnow() + timedelta(seconds=DEFAULT_TASK_LEASE_SECONDS + 10)
    first, second = Recording(celery, committed_db, sent), Recording(celery, committed_db, sent)
    for _ in range(3):
        together(lambda: first.relay(later), lambda: second.relay(later))
    assert len(sent) == 1200 and len(set(sent)) == 1200
    with committed_db.unit_of_work() as session:
        assert session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None))) == 0


def test_jobs_run_approves_as_of_the_given_time(app: Flask, session: Session) -> None:
    shop = factories.shop(session)
    customer = factories.customer(session, shop, 7001)
    due = utcnow() + timedelta(days=14)
    pending.post_pending(session, customer, LedgerKind.EARNED, 40,
                         ledger.Source("order", "1"), due)
    session.commit()
    runner = app.test_cli_runner()

    early = runner.invoke(args=["jobs", "run", "approve-pending", "--now",
                                (due - timedelta(minutes=1)).isoformat()])
    assert early.exit_code == 0, early.output
    assert json.loads(early.stdout)["handled"] == 0
    late = runner.invoke(args=["jobs", "run", "approve-pending", "--now", due.isoformat()])
    report = json.loads(late.stdout)
    assert report == {"job": "approve-pending", "asOf": due.isoformat(), "batches": 2,
                      "handled": 1}
    session.expire_all()
    assert (customer.available_points, customer.pending_points) == (40, 0)


def test_jobs_run_relays_and_refuses_an_unknown_job(app: Flask, session: Session) -> None:
    shop = factories.shop(session)
    outbox.enqueue(session, shop.id, "loyalty.process_webhook", 10**9)
    session.execute(update(OutboxMessage).values(due_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    runner = app.test_cli_runner()
    relayed = json.loads(runner.invoke(args=["jobs", "run", "outbox-relay"]).stdout)
    assert (relayed["sent"], relayed["left"]) == (1, 0)
    listed = json.loads(runner.invoke(args=["jobs", "list"]).stdout)
    assert {"outbox-relay", "approve-pending"} <= {job["name"] for job in listed}
    unknown = runner.invoke(args=["jobs", "run", "no-such-job"])
    assert unknown.exit_code == 1 and json.loads(unknown.stderr)["code"] == "not_found"
