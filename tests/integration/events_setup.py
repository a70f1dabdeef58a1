"""Fixtures of the outbound-webhook tests: a shop with a customer, endpoints on 127.0.0.1,
the worker's Deliverer on a fake clock, and the outbox relay."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import urllib3
from celery import Celery
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs.dispatch import OutboxDispatcher
from shopify_loyalty.models import Customer, EventDelivery, EventEndpoint, LoyaltyEvent, Shop
from shopify_loyalty.services.events import catalog, delivery, endpoints
from shopify_loyalty.services.shops import tokens as shop_tokens
from tests import factories
from tests.fake_clock import FakeNow

LEASE = timedelta(seconds=90)
# Short, so a hanging endpoint costs the tests half a second, not ten.
TEST_TIMEOUT = urllib3.Timeout(connect=1.0, read=0.5, total=1.0)


@pytest.fixture
def fake_now() -> FakeNow:
    return FakeNow()


@pytest.fixture
def policy(db: Database) -> endpoints.EndpointPolicy:
    return endpoints.EndpointPolicy(shop_tokens.context_of(db).cipher, allow_private=True)


@pytest.fixture
def deliverer(app: Flask, db: Database, fake_now: FakeNow,
              monkeypatch: pytest.MonkeyPatch) -> delivery.Deliverer:
    """The worker's Deliverer: private addresses allowed (127.0.0.1), the fake clock, no
    jitter (the schedule is asserted exactly; the jitter has its own test)."""
    made = delivery.Deliverer(cipher=shop_tokens.context_of(db).cipher, allow_private=True,
                              concurrency=2, clock=fake_now, timeout=TEST_TIMEOUT,
                              jitter=lambda d: d)
    monkeypatch.setitem(app.extensions, "loyalty_event_deliverer", made)
    return made


@pytest.fixture
def live_deliverer(app: Flask, deliverer: delivery.Deliverer,
                   monkeypatch: pytest.MonkeyPatch) -> delivery.Deliverer:
    """The same on the real clock, for tests that are not about time (the API, the CLI)."""
    made = dataclasses.replace(deliverer, clock=utcnow)
    monkeypatch.setitem(app.extensions, "loyalty_event_deliverer", made)
    return made


@pytest.fixture
def event_relay(app: Flask, db: Database) -> OutboxDispatcher:
    celery: Celery = app.extensions["celery"]
    return OutboxDispatcher(celery, db, LEASE)


def shop_with_customer(session: Session, shopify_id: int = 1001) -> tuple[Shop, Customer]:
    shop = factories.shop(session)
    customer = factories.customer(session, shop, shopify_id, email="ann@example.com")
    session.commit()
    return shop, customer


def add_endpoint(db: Database, shop: Shop, url: str, policy: endpoints.EndpointPolicy,
                 types: list[str] | None = None) -> tuple[int, str]:
    with db.unit_of_work() as session:
        row, secret = endpoints.add_endpoint(session, session.get_one(Shop, shop.id), url,
                                             types, policy)
        return row.id, secret


def emit(db: Database, customer_id: int, event_type: str = catalog.POINTS_ADJUSTED) -> str:
    """One committed event (its deliveries run right after the commit, in-process)."""
    with db.unit_of_work() as session:
        event = catalog.emit(session, session.get_one(Customer, customer_id), event_type,
                             {"points": 5})
        return event.public_id


def deliveries_of(session: Session, endpoint_id: int) -> list[EventDelivery]:
    session.expire_all()
    return list(session.scalars(select(EventDelivery).where(
        EventDelivery.endpoint_id == endpoint_id).order_by(EventDelivery.id)))


def endpoint_row(session: Session, endpoint_id: int) -> EventEndpoint:
    session.expire_all()
    return session.get_one(EventEndpoint, endpoint_id)


def event_body(session: Session, public_id: str) -> dict[str, object]:
    return session.scalars(select(LoyaltyEvent.body).where(
        LoyaltyEvent.public_id == public_id)).one()
