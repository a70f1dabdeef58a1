"""Fixtures for the fulfilment tests: a shop with a token, Shopify faked at the HTTP boundary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from flask import Flask
from sqlalchemy.orm import Session

from shopify_loyalty.config import DEV_TOKEN_ENCRYPTION_KEY, Settings
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
