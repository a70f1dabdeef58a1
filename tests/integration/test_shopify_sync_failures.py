"""The Shopify customer sync when Shopify fails: throttled, 5xx, userErrors; and its runs
through the beat's tick, the outbox and the relay."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from celery import Celery
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs.dispatch import OutboxDispatcher
from shopify_loyalty.models import CustomerSync, OutboxMessage, Shop
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.events.sync import run, schedule
from shopify_loyalty.services.shops.admins import ShopAdmins
from tests import factories
from tests.fake_clock import FakeClock
from tests.fake_shopify_customers import FakeCustomers, gid
from tests.integration.sync_setup import LEASE, after_window, fake, mark_of, sync
from tests.integration.test_relay import broker_down
from workers import tasks

__all__ = ["fake"]


def test_a_throttled_write_waits_for_the_bucket_and_is_not_a_failure(
    session: Session, db: Database, admins: ShopAdmins, fake: FakeCustomers, token_shop: Shop,
    clock: FakeClock,
) -> None:
    customer = factories.customer(session, token_shop, 1001, points=10)
    session.commit()
    fake.then("throttled")
    now = after_window()
    report = sync(db, admins, token_shop, now)
    assert report.written == 0 and report.retry_at is not None
    assert report.retry_at >= now + timedelta(seconds=5)  # the bucket's refill, not at once
    row = mark_of(session, customer)
    assert row is not None and row.failures == 0 and row.due_at == report.retry_at
    assert fake.of(1001) == {}

    assert sync(db, admins, token_shop, report.retry_at - timedelta(seconds=1)).written == 0
    clock.now += (report.retry_at - now).total_seconds()  # the bucket refills meanwhile
    assert sync(db, admins, token_shop, report.retry_at).written == 1
    assert fake.of(1001)["points_balance"] == "10"


def test_a_5xx_is_retried_with_a_growing_backoff_then_given_up_and_logged(
    session: Session, db: Database, admins: ShopAdmins, fake: FakeCustomers, token_shop: Shop,
    caplog: pytest.LogCaptureFixture,
) -> None:
    customer = factories.customer(session, token_shop, 1001, points=10)
    session.commit()
    fake.then(*[500] * 4)  # the client's own four attempts
    now = after_window()
    report = sync(db, admins, token_shop, now)
    assert (report.written, report.failed) == (0, 1)
    row = mark_of(session, customer)
    assert row is not None and row.failures == 1 and row.last_error is not None
    assert "HTTP 500" in row.last_error
    assert row.due_at is not None and row.due_at - now >= run.claims.RETRY_BASE
    fake.then(*[502] * 4)
    again = row.due_at
    sync(db, admins, token_shop, again)
    row = mark_of(session, customer)
    assert row is not None and row.failures == 2
    assert row.due_at is not None and row.due_at - again >= 2 * run.claims.RETRY_BASE

    session.execute(update(CustomerSync).values(failures=run.MAX_FAILURES - 1))
    session.commit()
    fake.then(*[503] * 4)
    with caplog.at_level(logging.WARNING):
        report = sync(db, admins, token_shop, row.due_at)
    assert report.given_up == 1
    row = mark_of(session, customer)
    assert row is not None and row.due_at is None and "HTTP 503" in (row.last_error or "")
    assert "given up" in caplog.text
    # Given up is not forgotten: the next change writes the customer again.
    adjustments.adjust_points(session, token_shop, 1001, 1, "later")
    session.commit()
    assert sync(db, admins, token_shop).written == 1
    assert fake.of(1001)["points_balance"] == "11"
    row = mark_of(session, customer)
    assert row is not None and (row.failures, row.last_error) == (0, None)


def test_user_errors_give_up_only_the_customer_shopify_refuses(
    session: Session, db: Database, admins: ShopAdmins, fake: FakeCustomers, token_shop: Shop,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for n in (1001, 1002, 1003):
        factories.customer(session, token_shop, n, points=n)
    session.commit()
    fake.missing.add(gid(1002))  # deleted in Shopify
    with caplog.at_level(logging.WARNING):
        report = sync(db, admins, token_shop)
    assert (report.written, report.given_up) == (2, 1)
    assert fake.of(1001)["points_balance"] == "1001" and fake.of(1003)["points_balance"] == "1003"
    assert fake.of(1002) == {}
    # metafieldsSet is atomic: the refused batch, then each customer alone.
    sets = [len(v["metafields"]) for name, v in fake.calls if name == "MetafieldsSet"]
    assert sets == [6, 2, 2, 2]
    refused = session.scalars(select(CustomerSync).where(
        CustomerSync.last_error.is_not(None))).one()
    assert refused.due_at is None and "Owner does not exist" in (refused.last_error or "")
    assert "refused by Shopify" in caplog.text
    calls = len(fake.calls)
    assert sync(db, admins, token_shop).written == 0 and len(fake.calls) == calls


def test_a_scripted_user_error_on_a_lone_customer_is_given_up_at_once(
    session: Session, db: Database, admins: ShopAdmins, fake: FakeCustomers, token_shop: Shop
) -> None:
    customer = factories.customer(session, token_shop, 1001, points=10)
    session.commit()
    fake.then("user_error")
    assert sync(db, admins, token_shop).given_up == 1
    row = mark_of(session, customer)
    assert row is not None and row.due_at is None and "INVALID_VALUE" in (row.last_error or "")


def test_the_tick_queues_one_run_per_shop_through_the_outbox_and_the_relay_sends_it(
    app: Flask, session: Session, db: Database, admins: ShopAdmins, fake: FakeCustomers,
    token_shop: Shop, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n in (1001, 1002):
        factories.customer(session, token_shop, n, points=n)
    other = factories.shop(session)  # no due customers: nothing queued for it
    session.commit()
    celery: Celery = app.extensions["celery"]
    later = after_window()
    # The worker's clock, moved past the coalescing window.
    monkeypatch.setattr(tasks, "utcnow", lambda: later)

    assert schedule.queue_due_shops(session, utcnow()) == []  # still within the window
    with broker_down(celery):  # the tick's task is written, but the send fails
        assert tasks.schedule_shopify_sync.apply().get() == 1
        # A shop with a run open gets no second one.
        assert tasks.schedule_shopify_sync.apply().get() == 0
    row = session.scalars(select(OutboxMessage).where(
        OutboxMessage.task_name == schedule.SYNC_CUSTOMERS)).one()
    assert (row.shop_id, row.args, row.completed_at) == (token_shop.id, [token_shop.id], None)
    assert fake.calls == [] and other.id != token_shop.id

    relay = OutboxDispatcher(celery, db, LEASE)
    assert relay.relay(later + timedelta(seconds=10)).sent == 1
    session.expire_all()
    assert session.get_one(OutboxMessage, row.id).completed_at is not None
    assert fake.of(1001)["points_balance"] == "1001" and fake.of(1002)["points_balance"] == "1002"


def test_a_throttled_run_waits_in_the_outbox(
    app: Flask, session: Session, db: Database, admins: ShopAdmins, fake: FakeCustomers,
    token_shop: Shop, monkeypatch: pytest.MonkeyPatch, clock: FakeClock,
) -> None:
    factories.customer(session, token_shop, 1001, points=10)
    session.commit()
    later = after_window()
    monkeypatch.setattr(tasks, "utcnow", lambda: later)
    fake.then("throttled")
    # The beat's tick: the run is sent after its commit, in-process here, and is throttled.
    assert tasks.schedule_shopify_sync.apply().get() == 1
    row = session.scalars(select(OutboxMessage).where(
        OutboxMessage.task_name == schedule.SYNC_CUSTOMERS)).one()
    session.expire_all()
    row = session.get_one(OutboxMessage, row.id)
    assert row.completed_at is None and row.due_at >= later + timedelta(seconds=5)
    assert fake.of(1001) == {}

    celery: Celery = app.extensions["celery"]
    at = row.due_at
    clock.now += (at - later).total_seconds()
    monkeypatch.setattr(tasks, "utcnow", lambda: at)
    assert OutboxDispatcher(celery, db, LEASE).relay(at).sent == 1
    assert fake.of(1001)["points_balance"] == "10"
    session.expire_all()
    assert session.get_one(OutboxMessage, row.id).completed_at is not None


def test_a_shop_that_needs_reauth_keeps_its_customers_for_later(
    session: Session, db: Database, admins: ShopAdmins, fake: FakeCustomers, token_shop: Shop
) -> None:
    customer = factories.customer(session, token_shop, 1001, points=10)
    token_shop.needs_reauth = True
    session.commit()
    now = after_window()
    assert sync(db, admins, token_shop, now).written == 0
    row = mark_of(session, customer)
    assert row is not None and row.due_at is not None and row.due_at >= now + run.REAUTH_WAIT
    assert row.failures == 0 and fake.calls == []


def test_jobs_run_shopify_sync_queues_and_in_process_runs_the_due_shops(
    app: Flask, session: Session, admins: ShopAdmins, fake: FakeCustomers, token_shop: Shop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    factories.customer(session, token_shop, 1001, points=10)
    session.commit()
    later = after_window()
    monkeypatch.setattr(tasks, "utcnow", lambda: later)
    result = app.test_cli_runner().invoke(
        args=["jobs", "run", "shopify-sync", "--now", later.isoformat()])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["shops"] == [token_shop.id]
    assert fake.of(1001)["points_balance"] == "10"  # run in-process right after the commit
    listed = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert "shopify-sync" in listed.stdout
