"""A hanging endpoint delays no other endpoint and no other shop (a real Celery worker with a
threads pool on Redis, real HTTP servers); a rolled-back change delivers nothing."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import pytest
import redis
import urllib3
from celery import Celery
from celery.contrib.testing.worker import start_worker
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopify_loyalty import create_app
from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database
from shopify_loyalty.models import (
    DeliveryStatus,
    EventDelivery,
    LoyaltyEvent,
    OutboxMessage,
    Shop,
)
from shopify_loyalty.services import outbox
from shopify_loyalty.services.events import delivery, endpoints
from shopify_loyalty.services.shops import tokens as shop_tokens
from tests import factories
from tests.conftest import auth
from tests.integration.event_receiver import Receiver, receiving
from tests.integration.events_setup import add_endpoint, emit
from tests.integration.worker_process import REDIS_BROKER, relay_beat, wait_for

WORKER_THREADS = 4
PER_ENDPOINT = 2


@pytest.fixture
def broker_app(app: Flask, settings: Settings, committed_db: Database,
               redis_lock: None) -> Iterator[Flask]:
    """A second app on the same database with Redis as broker: deliveries go to the
    ``events`` queue, which a real worker (threads pool) reads."""
    store = redis.Redis.from_url(REDIS_BROKER)
    store.flushdb()
    worker_app = create_app(dataclasses.replace(settings, redis_url=REDIS_BROKER,
                                                task_lease_seconds=30), TESTING=True)
    db: Database = worker_app.extensions["loyalty_db"]
    worker_app.extensions["loyalty_event_deliverer"] = delivery.Deliverer(
        cipher=shop_tokens.context_of(db).cipher, allow_private=True,
        concurrency=PER_ENDPOINT,
        timeout=urllib3.Timeout(connect=2.0, read=20.0, total=20.0))
    yield worker_app
    db.dispose()
    # create_app and start_worker made the broker app Celery's default and current: give
    # both back to the session's app (its shared tasks run eagerly).
    app.extensions["celery"].set_current()
    app.extensions["celery"].set_default()
    store.flushdb()
    store.close()


def _statuses(db: Database, endpoint_id: int) -> list[DeliveryStatus]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(EventDelivery.status).where(
            EventDelivery.endpoint_id == endpoint_id)))


def _all_delivered(db: Database, endpoint_id: int, count: int) -> bool:
    statuses = _statuses(db, endpoint_id)
    return len(statuses) == count and set(statuses) == {DeliveryStatus.DELIVERED}


def _peak(receiver: Receiver) -> int:
    with receiver.lock:
        return len(receiver.received)


def test_a_hanging_endpoint_does_not_delay_another_endpoint_or_shop(
    broker_app: Flask, committed_db: Database,
) -> None:
    db: Database = broker_app.extensions["loyalty_db"]
    celery: Celery = broker_app.extensions["celery"]
    policy = endpoints.EndpointPolicy(shop_tokens.context_of(db).cipher, allow_private=True)
    with committed_db.unit_of_work() as session:
        shop_a, shop_b = factories.shop(session), factories.shop(session)
        ann = factories.customer(session, shop_a, 1001).id
        bob = factories.customer(session, shop_b, 2002).id
        session.info.clear()  # enrolment events: no endpoint yet, nothing to send
    hold = threading.Event()
    with receiving(hold=hold, hold_for=25.0) as slow, receiving() as fast_a, \
            receiving() as fast_b:
        slow_id, _ = add_endpoint(db, shop_a, slow.url, policy)
        fast_a_id, _ = add_endpoint(db, shop_a, fast_a.url, policy)
        fast_b_id, _ = add_endpoint(db, shop_b, fast_b.url, policy)
        with start_worker(celery, pool="threads", concurrency=WORKER_THREADS,
                          perform_ping_check=False, loglevel="WARNING",
                          queues=[broker_app.extensions["loyalty_settings"].events_queue]), \
                relay_beat(broker_app.extensions["loyalty_dispatcher"]):
            for _ in range(8):
                emit(db, ann)  # to the slow endpoint first, then to the fast one
            for _ in range(4):
                emit(db, bob)
            wait_for(lambda: _all_delivered(db, fast_a_id, 8), 15, "shop A's fast endpoint")
            wait_for(lambda: _all_delivered(db, fast_b_id, 4), 15, "shop B's endpoint")
            # Both done while the slow one still hangs (it answers only when released, or
            # after 25 s): its attempts in flight never passed the bound, so the worker's
            # other threads were free for everyone else. The order is the claim, not a time.
            assert not hold.is_set() and _peak(slow) == PER_ENDPOINT
            assert set(_statuses(db, slow_id)) == {DeliveryStatus.PENDING}
            hold.set()
            wait_for(lambda: _all_delivered(db, slow_id, 8), 30, "the slow endpoint, released")
    assert len(fast_a.received) == 8 and len(fast_b.received) == 4
    assert len({r.headers["webhook-id"] for r in slow.received}) == 8
    with committed_db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.completed_at.is_(None))) == 0


def test_a_rolled_back_redemption_has_no_event_and_no_delivery(
    app: Flask, session: Session, db: Database, policy: endpoints.EndpointPolicy,
    deliverer: delivery.Deliverer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = factories.shop(session)
    factories.customer(session, shop, 1001, points=800)
    rule = factories.rule(session, shop)
    session.commit()
    with receiving() as receiver:
        endpoint_id, _ = add_endpoint(db, shop, receiver.url, policy)
        counts = _counts(session, shop)

        # The fulfilment's outbox row fails to be written after the points were debited and
        # the events emitted: the whole redemption rolls back.
        def crash(*args: object, **kwargs: object) -> int:
            if args[2] == "loyalty.fulfil_reward":
                raise RuntimeError("outbox write failed")
            return real(*args, **kwargs)  # type: ignore[arg-type]

        real = outbox.enqueue
        monkeypatch.setattr(outbox, "enqueue", crash)
        client = app.test_client()
        response = client.post("/loyalty/cp/api/redeem-points", json={"redeemRuleId": rule.id},
                               headers=auth(shop.domain, 1001))
        assert response.status_code == 500
        assert _counts(session, shop) == counts
        assert receiver.received == []

        monkeypatch.setattr(outbox, "enqueue", real)
        response = client.post("/loyalty/cp/api/redeem-points", json={"redeemRuleId": rule.id},
                               headers=auth(shop.domain, 1001))
        assert response.status_code == 200
    # The committed one: points.redeemed and reward.created, each delivered once.
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(ids) == len(receiver.received) == 2
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(EventDelivery).where(
        EventDelivery.endpoint_id == endpoint_id,
        EventDelivery.status == DeliveryStatus.DELIVERED)) == 2


def _counts(session: Session, shop: Shop) -> tuple[int, int]:
    session.expire_all()
    events = session.scalar(select(func.count()).select_from(LoyaltyEvent).where(
        LoyaltyEvent.shop_id == shop.id)) or 0
    deliveries = session.scalar(select(func.count()).select_from(EventDelivery).where(
        EventDelivery.shop_id == shop.id)) or 0
    return events, deliveries

