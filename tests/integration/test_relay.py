"""The outbox relay: tasks missed at commit time (broker down) or lost after it, sent again."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from celery import Celery
from flask import Flask
from flask.testing import FlaskClient
from kombu.exceptions import OperationalError
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs.dispatch import OutboxDispatcher
from shopify_loyalty.models import Customer, FulfillmentStatus, OutboxMessage, Reward, Shop
from shopify_loyalty.services import outbox
from shopify_loyalty.services.shops.admins import ShopAdmins
from tests import factories
from tests.conftest import auth
from tests.fake_shopify import FakeShopify
from tests.integration.conftest import CUSTOMER
from tests.integration.test_fulfil_failures import make_reward, reload

LEASE = timedelta(seconds=90)


@pytest.fixture
def celery_app(app: Flask) -> Celery:
    celery: Celery = app.extensions["celery"]
    return celery


@pytest.fixture
def relay(celery_app: Celery, db: Database) -> OutboxDispatcher:
    return OutboxDispatcher(celery_app, db, LEASE)


@contextmanager
def broker_down(celery_app: Celery) -> Iterator[None]:
    """A broker mode whose every publish is refused, as by a Redis that is down."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    celery_app.conf.task_always_eager = False
    celery_app.send_task = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        del celery_app.send_task
        celery_app.conf.task_always_eager = True


def outbox_row(session: Session) -> OutboxMessage:
    session.expire_all()
    return session.scalars(select(OutboxMessage)).one()


def test_a_redeem_with_the_broker_down_succeeds_and_the_relay_sends_the_task_later(
    client: FlaskClient, session: Session, token_shop: Shop, customer: Customer,
    shopify: FakeShopify, admins: ShopAdmins, celery_app: Celery, relay: OutboxDispatcher,
) -> None:
    rule = factories.rule(session, token_shop)
    session.commit()
    with broker_down(celery_app):
        response = client.post("/loyalty/cp/api/redeem-points", json={"redeemRuleId": rule.id},
                               headers=auth(token_shop.domain, CUSTOMER))
        assert response.status_code == 200, response.json
        reward_id = response.json["rewards"][0]["id"]
        # Still down at the relay: the row is not sent, and due again at once.
        assert relay.relay(utcnow() + timedelta(seconds=10)).left == 1
    row = outbox_row(session)
    assert row.sent_at is None and row.completed_at is None and shopify.calls == []

    # Too young: the after-commit send may still be under way.
    assert relay.relay(utcnow() - timedelta(seconds=10)).sent == 0
    report = relay.relay(utcnow() + timedelta(seconds=10))

    assert report.sent == 1
    row = outbox_row(session)
    assert row.sent_at is not None and row.completed_at is not None and row.attempts == 1
    assert session.get_one(Reward, reward_id).fulfillment_status is FulfillmentStatus.DONE
    assert len(shopify.codes) == 1


def lose_the_task(session: Session) -> None:
    """The row was sent and its task lost (an emptied broker, a killed worker)."""
    session.execute(update(OutboxMessage).values(sent_at=utcnow(), due_at=utcnow() + LEASE))
    session.commit()


def test_a_task_lost_after_its_send_is_sent_again_once_its_lease_has_passed(
    session: Session, token_shop: Shop, customer: Customer, shopify: FakeShopify,
    admins: ShopAdmins, relay: OutboxDispatcher,
) -> None:
    reward = make_reward(session, token_shop, customer)
    lose_the_task(session)

    assert relay.relay(utcnow() + LEASE - timedelta(seconds=1)).sent == 0
    assert reload(session, reward).fulfillment_status is FulfillmentStatus.PENDING
    assert relay.relay(utcnow() + LEASE + timedelta(seconds=1)).sent == 1
    assert reload(session, reward).fulfillment_status is FulfillmentStatus.DONE
    assert outbox_row(session).completed_at is not None
    # Done: never sent again, however late the relay looks.
    assert relay.relay(utcnow() + 100 * LEASE).sent == 0
    assert len(shopify.codes) == 1


def test_a_duplicate_delivery_of_a_completed_task_does_nothing(
    session: Session, token_shop: Shop, customer: Customer, shopify: FakeShopify,
    admins: ShopAdmins, relay: OutboxDispatcher,
) -> None:
    make_reward(session, token_shop, customer)
    row = outbox_row(session)
    assert relay.send(row.task_name, row.args, row.id)
    calls = len(shopify.calls)
    session.execute(update(Reward).values(fulfillment_status=FulfillmentStatus.PENDING,
                                          discount_code_id=None))
    session.commit()
    assert relay.send(row.task_name, row.args, row.id)  # e.g. Redis redelivering it late
    assert len(shopify.calls) == calls
    assert outbox_row(session).attempts == 1


def test_rewards_of_a_shop_waiting_for_reauth_are_not_sent_again(
    session: Session, token_shop: Shop, customer: Customer, shopify: FakeShopify,
    admins: ShopAdmins, relay: OutboxDispatcher,
) -> None:
    reward = make_reward(session, token_shop, customer)
    session.get_one(Shop, token_shop.id).needs_reauth = True
    session.commit()
    assert relay.relay(utcnow() + timedelta(seconds=10)).sent == 1
    # It waits for the re-install (which queues it anew), not for the relay.
    assert outbox_row(session).completed_at is not None
    assert relay.relay(utcnow() + 100 * LEASE).sent == 0
    assert shopify.calls == []
    assert reload(session, reward).fulfillment_status is FulfillmentStatus.PENDING


def test_a_task_that_keeps_failing_is_given_up(
    session: Session, token_shop: Shop, relay: OutboxDispatcher,
) -> None:
    outbox.enqueue(session, token_shop.id, "loyalty.process_webhook", 10**9)
    session.execute(update(OutboxMessage).values(attempts=outbox.MAX_RUNS))
    session.commit()
    assert relay.relay(utcnow() + timedelta(seconds=10)).sent == 1
    row = outbox_row(session)
    assert row.completed_at is not None and row.abandoned


def test_concurrent_relays_take_different_outbox_rows(committed_db: Database) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        for reward_id in (1, 2):
            outbox.enqueue(session, shop.id, "loyalty.noop", reward_id)
        session.info.clear()  # not dispatched: the relay's job here, once the lease is over
    later = utcnow() + LEASE + timedelta(seconds=10)
    with committed_db.unit_of_work() as first, committed_db.unit_of_work() as second:
        taken = outbox.take_due(first, later, 1, LEASE)
        other = outbox.take_due(second, later, 10, LEASE)
        assert len(taken) == 1 and len(other) == 1
        assert taken[0].id != other[0].id
        assert outbox.take_due(second, later, 10, LEASE) == []
    # Reserved: the next relay leaves them alone until the lease has passed.
    with committed_db.unit_of_work() as session:
        assert outbox.take_due(session, later, 10, LEASE) == []
        assert len(outbox.take_due(session, later + LEASE, 10, LEASE)) == 2


def test_a_send_after_the_commit_costs_no_statement_of_its_own(
    committed_db: Database, celery_app: Celery,
) -> None:
    statements: list[str] = []
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    celery_app.conf.task_always_eager = False
    celery_app.send_task = lambda name, **_: sent.append(name)  # type: ignore[method-assign]
    event.listen(committed_db.engine, "before_cursor_execute", record)
    try:
        with committed_db.unit_of_work() as session:
            shop = factories.shop(session)
            outbox.enqueue(session, shop.id, "loyalty.noop", 1)
            statements.clear()
        assert sent == ["loyalty.noop"]
        assert statements == []  # the commit, and no UPDATE outbox after it
    finally:
        event.remove(committed_db.engine, "before_cursor_execute", record)
        del celery_app.send_task
        celery_app.conf.task_always_eager = True
    with committed_db.unit_of_work() as session:
        row = session.scalars(select(OutboxMessage)).one()
        # Written sent, with the lease to run: the relay leaves it alone until then.
        assert row.sent_at is not None
        assert row.due_at - row.created_at == LEASE
        assert outbox.take_due(session, utcnow() + LEASE - timedelta(seconds=5), 10, LEASE) == []


class Recording(OutboxDispatcher):
    def send(self, task_name: str, args: Sequence[Any], outbox_id: int,
             shop_id: int | None = None) -> bool:
        return True


def test_a_task_lost_between_its_commit_and_its_send_is_sent_once_its_lease_is_over(
    committed_db: Database, celery_app: Celery,
) -> None:
    relay = Recording(celery_app, committed_db, LEASE)
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        outbox.enqueue(session, shop.id, "loyalty.noop", 1)
        session.info.pop("queued_tasks")  # the process died right after the commit
    assert relay.relay(utcnow() + LEASE - timedelta(seconds=5)).sent == 0
    assert relay.relay(utcnow() + LEASE + timedelta(seconds=1)).sent == 1
