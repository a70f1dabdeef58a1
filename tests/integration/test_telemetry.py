"""The request id across a request and the tasks it queued; /metrics parsed by
prometheus_client's own parser, after traffic from one process and from two."""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.common import gunicorn
from shopify_loyalty.db import utcnow
from shopify_loyalty.jobs.dispatch import OutboxDispatcher
from shopify_loyalty.models import Customer, OutboxMessage, Shop
from shopify_loyalty.services.shops.admins import ShopAdmins
from tests import factories
from tests.conftest import DATABASE_URL, auth
from tests.fake_shopify import FakeShopify
from tests.integration.conftest import CUSTOMER

URL = "/loyalty/cp/api/redeem-points"


def task_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the fulfilment task logged (here: its Shopify client's retry of a 500)."""
    return [r for r in caplog.records if r.name.startswith(("shopify_loyalty.shopify",
                                                            "shopify_loyalty.jobs"))]


def test_a_request_id_is_taken_returned_and_carried_into_the_task_it_queued(
    client: FlaskClient, session: Session, token_shop: Shop, customer: Customer,
    shopify: FakeShopify, admins: ShopAdmins, caplog: pytest.LogCaptureFixture,
) -> None:
    rule = factories.rule(session, token_shop)
    session.commit()
    shopify.then(500)  # the task logs its retry: a record to look at
    caplog.set_level(logging.INFO)
    response = client.post(URL, json={"redeemRuleId": rule.id},
                           headers={**auth(token_shop.domain, CUSTOMER),
                                    "X-Request-Id": "req-42.abc"})
    assert response.status_code == 200
    assert response.headers["X-Request-Id"] == "req-42.abc"
    row = session.scalars(select(OutboxMessage)).one()
    assert row.request_id == "req-42.abc"
    records = task_records(caplog)
    assert records and {r.request_id for r in records} == {"req-42.abc"}  # type: ignore[attr-defined]


def test_a_relayed_task_logs_with_the_id_of_the_request_that_queued_it(
    app: Flask, session: Session, token_shop: Shop, customer: Customer, shopify: FakeShopify,
    admins: ShopAdmins, caplog: pytest.LogCaptureFixture, client: FlaskClient,
) -> None:
    rule = factories.rule(session, token_shop)
    session.commit()
    dispatcher: OutboxDispatcher = app.extensions["loyalty_dispatcher"]
    shopify.then(500, 500)
    celery = app.extensions["celery"]
    celery.conf.task_always_eager = False
    celery.send_task = lambda *a, **k: (_ for _ in ()).throw(OSError("broker down"))
    try:
        client.post(URL, json={"redeemRuleId": rule.id},
                    headers={**auth(token_shop.domain, CUSTOMER), "X-Request-Id": "lost-1"})
    finally:
        del celery.send_task
        celery.conf.task_always_eager = True
    caplog.clear()
    caplog.set_level(logging.INFO)
    assert dispatcher.relay(utcnow() + timedelta(seconds=10)).sent == 1  # no request around
    records = task_records(caplog)
    assert records and {r.request_id for r in records} == {"lost-1"}  # type: ignore[attr-defined]


def test_a_request_without_an_id_gets_one_and_a_bad_one_is_replaced(client: FlaskClient) -> None:
    made = client.get("/healthz").headers["X-Request-Id"]
    assert len(made) == 32
    replaced = client.get("/healthz", headers={"X-Request-Id": "no spaces; please"})
    assert replaced.headers["X-Request-Id"] not in ("", "no spaces; please")


def families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_metrics_in_one_process_parse_and_count_requests_and_redemptions(
    client: FlaskClient, session: Session, shop: Shop,
) -> None:
    factories.customer(session, shop, 1001, points=100)
    session.commit()
    client.post(URL, json={"redeemRuleId": 999}, headers=auth(shop.domain, 1001))
    body = client.get("/metrics")
    assert body.status_code == 200 and body.content_type.startswith("text/plain")
    found = families(body.get_data(as_text=True))
    redeemed = {labels["outcome"] for labels, _ in found["loyalty_redemptions_total"]}
    assert "redeem_rule_not_found" in redeemed
    routes = {labels["route"] for labels, _ in found["loyalty_http_request_duration_seconds_count"]}
    assert "/loyalty/cp/api/redeem-points" in routes
    assert all("1001" not in json.dumps(labels) for samples in found.values()
               for labels, _ in samples)  # no customer id becomes a label
    assert "loyalty_outbox_overdue" in found and "loyalty_outbox_oldest_overdue_seconds" in found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def two_workers(app: Flask) -> Iterator[str]:
    env = {"DATABASE_URL": DATABASE_URL, "RATELIMIT_ENABLED": "0", "LOG_FORMAT": "json",
           "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="loyalty-test-metrics-")}
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("REDIS_")}, **env}
    with gunicorn(_free_port(), env, workers=2, threads=1) as base:
        yield base


def test_metrics_add_up_every_gunicorn_worker(two_workers: str) -> None:
    sent = 60
    for _ in range(sent):
        request = urllib.request.Request(f"{two_workers}/healthz", headers={"Connection": "close"})
        urllib.request.urlopen(request, timeout=5).read()
    text = urllib.request.urlopen(f"{two_workers}/metrics", timeout=5).read().decode()
    found = families(text)
    healthz = [value for labels, value in found["loyalty_http_request_duration_seconds_count"]
               if labels["route"] == "/healthz"]
    # The startup probe's requests count too: at least every request sent, from both workers.
    assert sum(healthz) >= sent
    assert len({labels["pid"] for labels, _ in found["loyalty_process_up"]}) == 2
