"""Shared setup for the Shopify customer sync tests: a stateful fake Shopify, and a run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import responses
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import Customer, CustomerSync, Shop
from shopify_loyalty.services.events.sync import run
from shopify_loyalty.services.events.sync.marks import SYNC_WINDOW
from shopify_loyalty.services.shops.admins import ShopAdmins
from tests.fake_shopify_customers import FakeCustomers

APP_URL = "https://loyalty.example.test"
LEASE = timedelta(seconds=90)


@pytest.fixture
def fake(token_shop: Shop, admins: ShopAdmins) -> Iterator[FakeCustomers]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeCustomers(mock).serve(token_shop.domain)


def after_window(seconds: float = 1.0) -> datetime:
    """An instant just after the coalescing window of a change made now."""
    return utcnow() + SYNC_WINDOW + timedelta(seconds=seconds)


def sync(db: Database, admins: ShopAdmins, shop: Shop,
         now: datetime | None = None) -> run.SyncReport:
    return run.sync_shop(db, admins, APP_URL, shop.id, now or after_window(), LEASE)


def mark_of(session: Session, customer: Customer | int) -> CustomerSync | None:
    session.expire_all()
    return session.get(CustomerSync, customer if isinstance(customer, int) else customer.id)


def link(shop: Shop, customer: Customer) -> str:
    return f"{APP_URL}/r/{shop.domain}/{customer.referral_code}"
