"""Webhook processing sent in batches: one broker message for many acknowledgements, each event
still its own outbox row, transaction and recovery. A real Celery worker on Redis, PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from flask import Flask
from sqlalchemy import func, select, update

from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs.dispatch import OutboxDispatcher
from shopify_loyalty.jobs.setup import run_batch
from shopify_loyalty.models import (
    LedgerKind,
    OutboxMessage,
    PointTransaction,
    WebhookEvent,
    WebhookStatus,
)
from shopify_loyalty.services import outbox
from tests import factories
from tests import shopify_webhooks as hooks
from tests.integration.webhook_setup import purchase_rule

ORDERS = 40


def _dispatcher(app: Flask) -> OutboxDispatcher:
    found: OutboxDispatcher = app.extensions["loyalty_dispatcher"]
    return found


def _published(celery: Celery, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every message the app publishes: its task's name and arguments."""
    published: list[tuple[str, Any]] = []
    send_task = celery.send_task

    def spy(name: str, args: Any = None, **options: Any) -> Any:
        published.append((name, args))
        return send_task(name, args=args, **options)

    monkeypatch.setattr(celery, "send_task", spy)
    return published


def test_many_acknowledgements_are_one_message_and_every_event_is_applied_once(
    redis_broker_app: Flask, committed_db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        purchase_rule(session, shop)
    celery: Celery = redis_broker_app.extensions["celery"]
    published = _published(celery, monkeypatch)
    batcher = _dispatcher(redis_broker_app).batcher
    assert batcher is not None
    batcher.max_wait = 3600  # only the flush below sends: the batch is exactly these rows
    client = redis_broker_app.test_client()
    for n in range(ORDERS):
        order = hooks.order(order_id=hooks.ORDER_ID + n, customer_id=hooks.CUSTOMER_ID + n)
        assert hooks.deliver(client, shop.domain, "orders/paid", order).status_code == 200
    assert published == []  # acknowledged, nothing published yet
    _dispatcher(redis_broker_app).flush()

    [(name, [rows])] = published
    assert name == "loyalty.process_webhooks"
    with committed_db.unit_of_work() as session:
        events = session.execute(select(WebhookEvent.id, OutboxMessage.id).join(
            OutboxMessage, OutboxMessage.args[0].as_integer() == WebhookEvent.id)
            .order_by(WebhookEvent.id)).all()
    assert rows == [[outbox_id, event_id] for event_id, outbox_id in events]

    with start_worker(celery, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        _wait_for(lambda: _statuses(committed_db) == [WebhookStatus.PROCESSED] * ORDERS)
    with committed_db.unit_of_work() as session:
        earned = session.scalars(select(PointTransaction.points).where(
            PointTransaction.kind == LedgerKind.EARNED)).all()
        assert earned == [100] * ORDERS
        assert session.scalar(select(func.count()).where(
            OutboxMessage.completed_at.is_(None))) == 0


def test_a_batch_the_broker_refuses_leaves_its_rows_due_for_the_relay(
    make_app: Callable[[Settings], Flask], settings: Settings, committed_db: Database,
) -> None:
    down = make_app(dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0"))
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        purchase_rule(session, shop)
    for n in range(3):
        order = hooks.order(order_id=hooks.ORDER_ID + n)
        assert hooks.deliver(down.test_client(), shop.domain, "orders/paid",
                             order).status_code == 200
    _dispatcher(down).flush()
    with committed_db.unit_of_work() as session:
        rows = session.execute(select(OutboxMessage.sent_at, OutboxMessage.due_at)).all()
    assert len(rows) == 3
    assert all(sent is None and due <= utcnow() for sent, due in rows)


def test_a_batch_runs_each_row_as_its_own_task_would(committed_db: Database) -> None:
    """Done rows close; a failing row is left due at once (the relay sends it on its own,
    with its task's retries); a completed row is skipped; one past its runs is given up."""
    with committed_db.unit_of_work() as session:
        ids = [outbox.enqueue(session, None, "loyalty.process_webhook", n,
                              due_at=utcnow() + timedelta(hours=1)) for n in range(4)]
        session.flush()
        session.execute(update(OutboxMessage).where(OutboxMessage.id == ids[2])
                        .values(completed_at=utcnow()))
        session.execute(update(OutboxMessage).where(OutboxMessage.id == ids[3])
                        .values(attempts=outbox.MAX_RUNS))
    ran: list[int] = []

    def work(n: int) -> None:
        ran.append(n)
        if n == 1:
            raise RuntimeError("database hiccup")

    before = utcnow()
    run_batch(committed_db, "loyalty.process_webhook", [[i, n] for n, i in enumerate(ids)],
              timedelta(seconds=90), work)

    assert ran == [0, 1]
    with committed_db.unit_of_work() as session:
        rows = {row.id: row for row in session.scalars(select(OutboxMessage))}
    assert rows[ids[0]].completed_at is not None and not rows[ids[0]].abandoned
    assert rows[ids[1]].completed_at is None and rows[ids[1]].due_at <= utcnow()
    assert rows[ids[1]].due_at >= before and rows[ids[1]].attempts == 1
    assert rows[ids[2]].attempts == 0  # already completed: not started again
    assert rows[ids[3]].completed_at is not None and rows[ids[3]].abandoned


def _statuses(db: Database) -> list[WebhookStatus]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(WebhookEvent.status).order_by(WebhookEvent.id)))


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the worker did not apply every event in time"
        time.sleep(0.05)
