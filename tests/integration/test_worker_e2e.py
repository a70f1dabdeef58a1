"""End to end: redeem over HTTP, a real Celery worker on Redis fulfils the reward."""

from __future__ import annotations

import time

import responses
from celery import Celery
from celery.contrib.testing.worker import start_worker
from flask import Flask
from sqlalchemy import select

from shopify_loyalty.config import DEV_TOKEN_ENCRYPTION_KEY
from shopify_loyalty.db import Database
from shopify_loyalty.models import FulfillmentStatus, OutboxMessage, Reward
from shopify_loyalty.token_cipher import TokenCipher
from tests import factories
from tests.conftest import auth
from tests.fake_shopify import FakeShopify
from tests.graphql_schema import assert_bodies_valid
from tests.integration.conftest import ACCESS_TOKEN, CUSTOMER


def test_redeem_to_done_through_a_celery_worker_on_redis(
    redis_broker_app: Flask, committed_db: Database
) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(
            session, access_token_enc=TokenCipher(DEV_TOKEN_ENCRYPTION_KEY).encrypt(ACCESS_TOKEN)
        )
        customer = factories.customer(session, shop, CUSTOMER, points=1000)
        rule = factories.rule(session, shop)
        session.info.clear()  # the balance adjustment queues nothing worth sending here
    celery: Celery = redis_broker_app.extensions["celery"]

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        shopify = FakeShopify(mock)
        shopify.serve(shop.domain)
        with start_worker(celery, pool="solo", perform_ping_check=False, loglevel="WARNING"):
            response = redis_broker_app.test_client().post(
                "/loyalty/cp/api/redeem-points",
                json={"redeemRuleId": rule.id},
                headers=auth(shop.domain, customer.shopify_customer_id),
            )
            assert response.status_code == 200, response.json
            reward_id = response.json["rewards"][0]["id"]
            reward = wait_until_settled(committed_db, reward_id)
        assert_bodies_valid(call.request.body for call in mock.calls)

    assert reward.fulfillment_status is FulfillmentStatus.DONE, reward.failure_reason
    assert reward.discount_code_id == shopify.codes[reward.discount_code.lower()]
    assert len(shopify.codes) == 1
    with committed_db.unit_of_work() as session:
        assert session.scalars(select(OutboxMessage.sent_at)).one() is not None


def wait_until_settled(db: Database, reward_id: int, timeout: float = 20.0) -> Reward:
    deadline = time.monotonic() + timeout
    while True:
        with db.unit_of_work() as session:
            reward = session.get_one(Reward, reward_id)
        if reward.fulfillment_status is not FulfillmentStatus.PENDING:
            return reward
        assert time.monotonic() < deadline, "the worker did not fulfil the reward in time"
        time.sleep(0.05)
