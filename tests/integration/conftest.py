"""Fixtures for the fulfilment tests: a shop with a token, Shopify faked at the HTTP boundary."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import responses
from flask import Flask
from sqlalchemy.orm import Session

from shopify_loyalty import create_app
from shopify_loyalty.config import DEV_TOKEN_ENCRYPTION_KEY, Settings
from shopify_loyalty.db import Database
from shopify_loyalty.models import Customer, Shop
from shopify_loyalty.services.shops.admins import ShopAdmins
from shopify_loyalty.shopify.bucket import InMemoryBucket
from shopify_loyalty.token_cipher import TokenCipher
from tests import factories
from tests.fake_clock import FakeClock
from tests.fake_shopify import FakeShopify
from tests.graphql_schema import assert_bodies_valid

ACCESS_TOKEN = "shpat_fulfil_test"
CUSTOMER = 1001
# DB 8 is the in-process worker tests' broker (and cost buckets), flushed before and after.
REDIS_BROKER_URL = "redis://127.0.0.1:6379/8"


@pytest.fixture(params=["postgresql", "sqlite"])
def both_backends_db(request: pytest.FixtureRequest, tmp_path: Path, settings: Settings,
                     make_app: Callable[[Settings], Flask]) -> Iterator[Database]:
    """The app's database with real commits: PostgreSQL (``committed_db``), then SQLite
    migrated by the CLI, as the embedded default runs."""
    if request.param == "postgresql":
        yield request.getfixturevalue("committed_db")
        return
    app = make_app(dataclasses.replace(
        settings, database_url=f"sqlite:///{tmp_path / 'loyalty.db'}"))
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    yield app.extensions["loyalty_db"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def admins(app: Flask, settings: Settings, clock: FakeClock,
           monkeypatch: pytest.MonkeyPatch) -> ShopAdmins:
    """The worker's ShopAdmins, with a bucket and sleeps on the fake clock."""
    made = ShopAdmins(settings, InMemoryBucket(clock=clock), sleep=clock.sleep)
    monkeypatch.setitem(app.extensions, "loyalty_shop_admins", made)
    return made


@pytest.fixture
def token_shop(session: Session) -> Shop:
    cipher = TokenCipher(DEV_TOKEN_ENCRYPTION_KEY)
    shop = factories.shop(session, access_token_enc=cipher.encrypt(ACCESS_TOKEN))
    session.commit()
    return shop


@pytest.fixture
def customer(session: Session, token_shop: Shop) -> Customer:
    row = factories.customer(session, token_shop, CUSTOMER, points=5000)
    session.commit()
    return row


@pytest.fixture
def shopify(token_shop: Shop, admins: ShopAdmins) -> Iterator[FakeShopify]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeShopify(mock)
        fake.serve(token_shop.domain)
        yield fake
        assert_bodies_valid(call.request.body for call in mock.calls)


def last_variables(fake: FakeShopify) -> dict[str, Any]:
    return fake.calls[-1].variables


@pytest.fixture
def redis_broker_app(app: Flask, settings: Settings, committed_db: Database,
                     redis_lock: None) -> Iterator[Flask]:
    """A second app on the same database, with Redis as broker (tasks are not eager), for a
    worker started in the test (``celery.contrib.testing.worker.start_worker``)."""
    store = redis.Redis.from_url(REDIS_BROKER_URL)
    store.flushdb()
    broker_app = create_app(dataclasses.replace(settings, redis_url=REDIS_BROKER_URL),
                            TESTING=True)
    yield broker_app
    broker_app.extensions["loyalty_db"].dispose()
    # create_app made the broker app Celery's default; give it back to the session's app.
    app.extensions["celery"].set_default()
    store.flushdb()
    store.close()
