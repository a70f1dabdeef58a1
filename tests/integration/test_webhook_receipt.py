"""The acknowledgement's store (services.orders.receipt) gives the same answers on PostgreSQL
(one autocommitted statement, on the driver's connection with the real engine, through
SQLAlchemy on a test's connection) and on the embedded SQLite default (``receive`` in a unit
of work): what is stored, what is queued, what is handed to the dispatcher; and an order's
row lock (one upsert) on both."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import DataError

from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database, QueuedTask, utcnow
from shopify_loyalty.models import (
    Customer,
    EarnRuleKind,
    OrderPoints,
    OutboxMessage,
    PointTransaction,
    Shop,
    WebhookEvent,
    WebhookStatus,
)
from shopify_loyalty.services.orders import receipt, webhooks
from shopify_loyalty.services.program import earn_rules
from tests import factories
from tests import shopify_webhooks as hooks


@pytest.fixture(params=["postgresql", "postgresql-driver", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path, settings: Settings,
          make_app: Callable[[Settings], Flask]) -> Iterator[Database]:
    """A database of the backend with two shops, the second uninstalled, and a dispatcher
    that only records (the processing is not what is looked at here)."""
    if request.param == "postgresql":
        db: Database = request.getfixturevalue("db")
        request.getfixturevalue("session")  # the test's outer transaction, rolled back after
    elif request.param == "postgresql-driver":
        db = request.getfixturevalue("committed_db")  # the real engine: its pool's connections
    else:
        app = make_app(replace(settings, database_url=f"sqlite:///{tmp_path / 'loyalty.db'}"))
        assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
        db = app.extensions["loyalty_db"]
    assert db.is_postgres is request.param.startswith("postgresql")
    with db.unit_of_work() as session:
        factories.shop(session, domain="open.myshopify.com")
        factories.shop(session, domain="gone.myshopify.com", uninstalled_at=utcnow())
    real = db.dispatcher
    db.dispatcher = Recorder()
    yield db
    db.dispatcher = real


class Recorder(list[QueuedTask]):
    def __call__(self, queued: list[QueuedTask]) -> None:
        self.extend(queued)


def deliver(db: Database, topic: str, webhook_id: str,
            domain: str = "open.myshopify.com") -> int | None:
    return receipt.store_delivery(db, webhooks.Delivery(
        topic=topic, shop_domain=domain, webhook_id=webhook_id, event_id="ev-" + webhook_id,
        triggered_at=utcnow(), payload={"id": 820982911946154508, "note": "ü\ufffd"}))


def stored(db: Database) -> tuple[list[tuple[str, str, WebhookStatus]], list[OutboxMessage]]:
    with db.unit_of_work() as session:
        events = [(e.topic, e.webhook_id, e.status)
                  for e in session.scalars(select(WebhookEvent).order_by(WebhookEvent.id))]
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
    return events, rows


def shop_id(db: Database, domain: str) -> int:
    with db.unit_of_work() as session:
        return session.scalars(select(Shop.id).where(Shop.domain == domain)).one()


def test_a_delivery_is_stored_once_and_queued_once(store: Database) -> None:
    event_id = deliver(store, "orders/paid", "wh-1")
    assert event_id is not None
    assert deliver(store, "orders/paid", "wh-1") is None  # delivered again

    events, rows = stored(store)
    assert events == [("orders/paid", "wh-1", WebhookStatus.RECEIVED)]
    [row] = rows
    assert (row.task_name, row.args, row.shop_id) == (
        webhooks.PROCESS_WEBHOOK, [event_id], shop_id(store, "open.myshopify.com"))
    assert row.completed_at is None and row.sent_at is not None  # handed over at once
    dispatched: Recorder = store.dispatcher  # type: ignore[assignment]
    assert [(t.outbox_id, t.task_name, t.args, t.shop_id, t.leased) for t in dispatched] == [
        (row.id, webhooks.PROCESS_WEBHOOK, [event_id], row.shop_id, True)]
    with store.unit_of_work() as session:
        event = session.get_one(WebhookEvent, event_id)
        assert event.payload == {"id": 820982911946154508, "note": "ü\ufffd"}
        assert (event.shop_domain, event.event_id) == ("open.myshopify.com", "ev-wh-1")


def test_a_topic_not_handled_is_kept_processed_and_queues_nothing(store: Database) -> None:
    assert deliver(store, "products/update", "wh-2") is not None
    events, rows = stored(store)
    assert events == [("products/update", "wh-2", WebhookStatus.PROCESSED)] and rows == []
    assert store.dispatcher == []


def test_unknown_and_uninstalled_shops_store_nothing_but_the_privacy_topics(
    store: Database,
) -> None:
    assert deliver(store, "orders/paid", "wh-3", "nobody.myshopify.com") is None
    assert deliver(store, "orders/paid", "wh-4", "gone.myshopify.com") is None
    assert deliver(store, "customers/redact", "wh-5", "gone.myshopify.com") is not None
    events, rows = stored(store)
    assert events == [("customers/redact", "wh-5", WebhookStatus.RECEIVED)]
    assert [row.shop_id for row in rows] == [shop_id(store, "gone.myshopify.com")]


def test_without_a_dispatcher_the_row_is_left_for_the_relay(store: Database) -> None:
    store.dispatcher = None
    event_id = deliver(store, "orders/paid", "wh-6")
    _, [row] = stored(store)
    assert row.args == [event_id] and row.sent_at is None and row.due_at is not None


def test_an_order_earns_once_whatever_the_topics_that_bring_it(store: Database) -> None:
    """Every event of an order first locks its row (one upsert on either backend): the same
    order under two topics earns once."""
    with store.unit_of_work() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == "open.myshopify.com")).one()
        earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
            kind=EarnRuleKind.PURCHASE, points_per_unit=1))
    ids = [receipt.store_delivery(store, webhooks.Delivery(
        topic=topic, shop_domain="open.myshopify.com", webhook_id=f"wh-order-{n}",
        event_id=None, triggered_at=None, payload=hooks.order(subtotal="42.00")))
        for n, topic in enumerate(["orders/paid", "orders/updated"])]
    for event_id in ids:
        assert event_id is not None
        with store.unit_of_work() as session:
            assert webhooks.process_event(session, event_id, utcnow()) is not None
    with store.unit_of_work() as session:
        record = session.scalars(select(OrderPoints)).one()
        customer = session.get_one(Customer, record.customer_id)
        assert (record.earned_points, customer.available_points) == (42, 42)
        assert session.scalars(select(PointTransaction.points)).all() == [42]


def test_the_body_is_stored_as_sent_and_a_value_the_server_refuses_is_a_data_error(
    store: Database,
) -> None:
    body = '{"id": 820982911946154508, "price": 1.10, "note": "\\u00fc"}'
    event_id = receipt.store_delivery(store, webhooks.Delivery(
        topic="orders/paid", shop_domain="open.myshopify.com", webhook_id="wh-body",
        event_id=None, triggered_at=None, payload=json.loads(body), body=body))
    with store.unit_of_work() as session:
        event = session.get_one(WebhookEvent, event_id)
        assert event.payload == {"id": 820982911946154508, "price": 1.10, "note": "ü"}
    if not store.is_postgres:
        return  # SQLite keeps any JSON Python reads
    with pytest.raises(DataError):  # the app answers 422 (errors.py)
        receipt.store_delivery(store, webhooks.Delivery(
            topic="orders/paid", shop_domain="open.myshopify.com", webhook_id="wh-nan",
            event_id=None, triggered_at=None, payload={"total": math.nan},
            body='{"total": NaN}'))
    # The pool's connections are as good as before, and none was left in autocommit: a
    # rolled-back unit of work keeps nothing.
    assert deliver(store, "orders/paid", "wh-after") is not None
    with pytest.raises(RuntimeError), store.unit_of_work() as session:
        factories.shop(session, domain="rolled-back.myshopify.com")
        session.flush()
        raise RuntimeError("roll back")
    events, _rows = stored(store)
    assert [webhook_id for _topic, webhook_id, _status in events] == ["wh-body", "wh-after"]
    with store.unit_of_work() as session:
        assert session.scalars(select(Shop.domain).where(
            Shop.domain == "rolled-back.myshopify.com")).first() is None
