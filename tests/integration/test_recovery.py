"""Nothing committed is left behind: a worker killed mid-task, a broker emptied, on Redis and
on RabbitMQ. Real worker processes (SIGKILL), real brokers, PostgreSQL; the lease is 3 s, so
the recovery bound (lease + relay interval, 95 s in production) is seconds here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from shopify_loyalty.config import DEV_TOKEN_ENCRYPTION_KEY, Settings
from shopify_loyalty.db import Database
from shopify_loyalty.jobs.dispatch import OutboxDispatcher
from shopify_loyalty.models import (
    Customer,
    FulfillmentStatus,
    LedgerKind,
    OrderPoints,
    OutboxMessage,
    PointTransaction,
    Reward,
    Shop,
    WebhookEvent,
    WebhookStatus,
)
from shopify_loyalty.token_cipher import TokenCipher
from tests import factories
from tests import shopify_webhooks as hooks
from tests.conftest import DATABASE_URL, auth
from tests.integration.conftest import ACCESS_TOKEN
from tests.integration.webhook_setup import purchase_rule
from tests.integration.worker_process import (
    BROKERS,
    LEASE_SECONDS,
    RELAY_INTERVAL,
    Broker,
    Worker,
    relay_beat,
    standin_server,
    wait_for,
    worker_env,
)

# From the moment a worker is there: the lease runs out, the relay sends, the task runs.
BOUND = LEASE_SECONDS + RELAY_INTERVAL + 5.0


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest, redis_lock: None) -> Iterator[Broker]:
    found = Broker(request.param, BROKERS[request.param])
    found.remove()
    yield found
    found.remove()


@pytest.fixture
def standin() -> Iterator[tuple[Any, str]]:
    with standin_server() as served:
        yield served


@pytest.fixture
def broker_app(make_app: Callable[[Settings], Flask], settings: Settings, broker: Broker,
               committed_db: Database) -> Flask:
    """The app on the test database, publishing to the broker (tasks are not eager)."""
    return make_app(dataclasses.replace(
        settings, celery_broker_url=broker.url, celery_queue=broker.queue,
        task_lease_seconds=LEASE_SECONDS))


@pytest.fixture
def start_worker(broker: Broker, standin: tuple[Any, str]) -> Iterator[Callable[[], Worker]]:
    started: list[Worker] = []

    def start() -> Worker:
        started.append(Worker(worker_env(DATABASE_URL, broker, standin[1]), broker.queue))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()
        # Shown with a failure: what each worker did.
        print(f"--- worker {worker.process.pid} ---\n" + "".join(worker.output[-60:]))


def dispatcher(app: Flask) -> OutboxDispatcher:
    found: OutboxDispatcher = app.extensions["loyalty_dispatcher"]
    return found


def setup_shop(db: Database, points: int = 5000) -> tuple[Shop, Customer, int]:
    with db.unit_of_work() as session:
        shop = factories.shop(
            session, access_token_enc=TokenCipher(DEV_TOKEN_ENCRYPTION_KEY).encrypt(ACCESS_TOKEN))
        customer = factories.customer(session, shop, 1001, points=points)
        rule = factories.rule(session, shop)
        session.info.clear()  # the starting balance queues nothing to send
        return shop, customer, rule.id


def redeem(app: Flask, shop: Shop, customer: Customer, rule_id: int) -> int:
    response = app.test_client().post(
        "/loyalty/cp/api/redeem-points", json={"redeemRuleId": rule_id},
        headers=auth(shop.domain, customer.shopify_customer_id))
    assert response.status_code == 200, response.json
    return int(response.json["rewards"][0]["id"])


def reward_row(db: Database, reward_id: int) -> Reward:
    with db.unit_of_work() as session:
        return session.get_one(Reward, reward_id)


def test_a_worker_killed_mid_fulfilment_leaves_one_code_made_by_the_next_worker(
    broker_app: Flask, committed_db: Database, standin: tuple[Any, str],
    start_worker: Callable[[], Worker],
) -> None:
    fake, _url = standin
    shop, customer, rule_id = setup_shop(committed_db)
    fake.gate.clear()  # Shopify hangs on the create
    first = start_worker()
    reward_id = redeem(broker_app, shop, customer, rule_id)
    wait_for(fake.held.is_set, 20, "the worker calling Shopify")

    first.kill()
    fake.gate.set()  # the create lands in Shopify; its answer has nobody to go to
    with relay_beat(dispatcher(broker_app)):
        start_worker()
        took = wait_for(lambda: reward_row(committed_db, reward_id).fulfillment_status
                        is not FulfillmentStatus.PENDING, BOUND, "the reward fulfilled")

    reward = reward_row(committed_db, reward_id)
    assert reward.fulfillment_status is FulfillmentStatus.DONE, reward.failure_reason
    codes = fake.shops[shop.domain].codes
    assert list(codes.values()) == [reward.discount_code_id]
    assert took <= BOUND


def test_a_worker_killed_while_it_processes_a_webhook_leaves_it_to_the_next_worker(
    broker_app: Flask, committed_db: Database, start_worker: Callable[[], Worker],
) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        purchase_rule(session, shop)
        session.add(OrderPoints(shop_id=shop.id, order_id=hooks.ORDER_ID))
    first = start_worker()
    with committed_db.engine.connect() as blocker:
        # Hold the order's row: the worker's processing waits on it, mid-transaction.
        blocker.execute(select(OrderPoints).with_for_update())
        delivered = hooks.deliver(broker_app.test_client(), shop.domain, "orders/paid",
                                  hooks.order())
        assert delivered.status_code == 200
        wait_for(lambda: _waiting_on_a_lock(committed_db), 20, "the worker processing")
        first.kill()
        blocker.rollback()
    with relay_beat(dispatcher(broker_app)):
        start_worker()
        took = wait_for(lambda: _events(committed_db) == [WebhookStatus.PROCESSED], BOUND,
                        "the webhook processed")

    with committed_db.unit_of_work() as session:
        assert _earned(session) == [100]
    assert took <= BOUND


def test_work_published_to_a_broker_that_is_then_emptied_is_still_done(
    broker_app: Flask, committed_db: Database, broker: Broker, standin: tuple[Any, str],
    start_worker: Callable[[], Worker],
) -> None:
    fake, _url = standin
    shop, customer, rule_id = setup_shop(committed_db)
    with committed_db.unit_of_work() as session:
        purchase_rule(session, session.get_one(Shop, shop.id))
    client = broker_app.test_client()
    rewards = [redeem(broker_app, shop, customer, rule_id) for _ in range(3)]
    for n in range(2):
        order = hooks.order(order_id=hooks.ORDER_ID + n, customer_id=hooks.CUSTOMER_ID + n)
        assert hooks.deliver(client, shop.domain, "orders/paid", order).status_code == 200
    with committed_db.unit_of_work() as session:
        assert session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_not(None))) == 5

    broker.empty()  # Redis restarted (it keeps nothing on disk), or the queue purged
    with relay_beat(dispatcher(broker_app)):
        start_worker()
        took = wait_for(lambda: all(reward_row(committed_db, r).fulfillment_status
                                    is FulfillmentStatus.DONE for r in rewards)
                        and _events(committed_db) == [WebhookStatus.PROCESSED] * 2,
                        BOUND, "all the work done")

    codes = fake.shops[shop.domain].codes
    assert sorted(codes.values()) == sorted(
        str(reward_row(committed_db, r).discount_code_id) for r in rewards)
    with committed_db.unit_of_work() as session:
        assert _earned(session) == [100, 100]
        assert session.scalar(select(func.count()).where(
            OutboxMessage.completed_at.is_(None))) == 0
    assert took <= BOUND


def _waiting_on_a_lock(db: Database) -> bool:
    with db.engine.connect() as connection:
        return bool(connection.scalar(text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'")))


def _events(db: Database) -> list[WebhookStatus]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(WebhookEvent.status).order_by(WebhookEvent.id)))


def _earned(session: Session) -> list[int]:
    return list(session.scalars(
        select(PointTransaction.points).where(PointTransaction.kind == LedgerKind.EARNED,
                                              PointTransaction.source_type == "order")
        .order_by(PointTransaction.id)))
