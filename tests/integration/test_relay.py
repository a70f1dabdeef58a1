"""The outbox relay: tasks missed at commit time (broker down) and rewards left PENDING."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from celery import Celery
from flask import Flask
from flask.testing import FlaskClient
from kombu.exceptions import OperationalError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs import OutboxDispatcher
from shopify_loyalty.models import Customer, FulfillmentStatus, OutboxMessage, Reward, Shop
from shopify_loyalty.services import outbox
from shopify_loyalty.services.rewards.stale import STALE_AFTER
from shopify_loyalty.services.shops.admins import ShopAdmins
from tests import factories
from tests.conftest import auth
from tests.fake_shopify import FakeShopify
from tests.integration.conftest import CUSTOMER
from tests.integration.test_fulfil_failures import make_reward, reload


@pytest.fixture
def celery_app(app: Flask) -> Celery:
    celery: Celery = app.extensions["celery"]
    return celery


@pytest.fixture
def relay(celery_app: Celery, db: Database) -> OutboxDispatcher:
    return OutboxDispatcher(celery_app, db)


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
        assert relay.relay(utcnow() + timedelta(seconds=10)).outbox_left == 1
    row = session.scalars(select(OutboxMessage)).one()
    assert row.sent_at is None and shopify.calls == []

    # Too young: the after-commit send may still be under way.
    assert relay.relay(utcnow()).outbox_sent == 0
    report = relay.relay(utcnow() + timedelta(seconds=10))

    assert report.outbox_sent == 1
    session.expire_all()
    assert session.get_one(OutboxMessage, row.id).sent_at is not None
    assert session.get_one(Reward, reward_id).fulfillment_status is FulfillmentStatus.DONE
    assert len(shopify.codes) == 1


def age(session: Session, reward: Reward, by: timedelta) -> None:
    session.execute(update(Reward).where(Reward.id == reward.id)
                    .values(updated_at=utcnow() - by))
    session.execute(update(OutboxMessage).values(sent_at=utcnow()))
    session.commit()


def test_a_reward_left_pending_too_long_is_sent_again_once(
    session: Session, token_shop: Shop, customer: Customer, shopify: FakeShopify,
    admins: ShopAdmins, relay: OutboxDispatcher,
) -> None:
    young = make_reward(session, token_shop, customer)
    stale = make_reward(session, token_shop, customer)
    age(session, stale, STALE_AFTER + timedelta(minutes=1))

    assert relay.relay(utcnow()).rewards_resent == 1
    assert reload(session, stale).fulfillment_status is FulfillmentStatus.DONE
    assert reload(session, young).fulfillment_status is FulfillmentStatus.PENDING
    assert relay.relay(utcnow()).rewards_resent == 0


def test_rewards_of_a_shop_waiting_for_reauth_are_not_sent_again(
    session: Session, token_shop: Shop, customer: Customer, shopify: FakeShopify,
    admins: ShopAdmins, relay: OutboxDispatcher,
) -> None:
    reward = make_reward(session, token_shop, customer)
    session.get_one(Shop, token_shop.id).needs_reauth = True
    age(session, reward, STALE_AFTER * 3)
    assert relay.relay(utcnow()).rewards_resent == 0
    assert shopify.calls == []


def test_concurrent_relays_take_different_outbox_rows(committed_db: Database) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        for reward_id in (1, 2):
            outbox.enqueue(session, shop.id, "loyalty.noop", reward_id)
        session.info.clear()  # not dispatched: the relay's job here
    later = utcnow() + timedelta(minutes=1)
    with committed_db.unit_of_work() as first, committed_db.unit_of_work() as second:
        taken = outbox.claim_unsent(first, later, limit=1)
        other = outbox.claim_unsent(second, later, limit=10)
        assert len(taken) == 1 and len(other) == 1
        assert taken[0].id != other[0].id
        assert outbox.claim_unsent(second, later, limit=10) == other
