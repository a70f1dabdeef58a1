"""Outbound webhooks: Standard Webhooks signatures checked by the `standardwebhooks` package,
retries on the schedule through the outbox relay (fake clock), FAILED after the last, an
endpoint disabled after 5 days of failures, replay, redirects not followed."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from shopify_loyalty.db import Database
from shopify_loyalty.jobs.dispatch import OutboxDispatcher
from shopify_loyalty.models import DeliveryStatus, OutboxMessage
from shopify_loyalty.services.events import catalog, deliveries, delivery, endpoints
from tests.fake_clock import FakeNow
from tests.integration.event_receiver import receiving
from tests.integration.events_setup import (
    add_endpoint,
    deliveries_of,
    emit,
    endpoint_row,
    event_body,
    shop_with_customer,
)

SECOND = timedelta(seconds=1)


def test_a_committed_event_is_posted_signed_and_the_package_verifies_it(
    session: Session, db: Database, policy: endpoints.EndpointPolicy,
    deliverer: delivery.Deliverer,
) -> None:
    shop, customer = shop_with_customer(session)
    with receiving() as receiver:
        endpoint_id, secret = add_endpoint(db, shop, receiver.url, policy)
        event_id = emit(db, customer.id)

    (got,) = receiver.received
    assert got.path == "/hooks" and got.headers["webhook-id"] == event_id
    assert got.headers["content-type"] == "application/json"
    # The independent implementation: it raises unless signature and timestamp are right.
    payload = Webhook(secret).verify(got.body, got.headers)
    assert payload == event_body(session, event_id) and payload["type"] == "points.adjusted"
    assert payload["data"]["customer"] == {"id": 1001, "email": "ann@example.com"}
    with pytest.raises(Exception, match="signature"):
        Webhook(endpoints.signing.new_secret()).verify(got.body, got.headers)
    (row,) = deliveries_of(session, endpoint_id)
    assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)
    assert row.delivered_at is not None and row.next_attempt_at is None
    assert session.scalars(select(OutboxMessage.completed_at).where(
        OutboxMessage.task_name == "loyalty.deliver_event")).one() is not None


def test_an_endpoint_subscribed_to_some_types_gets_only_those(
    session: Session, db: Database, policy: endpoints.EndpointPolicy,
    deliverer: delivery.Deliverer,
) -> None:
    shop, customer = shop_with_customer(session)
    with receiving() as some, receiving() as every:
        some_id, _ = add_endpoint(db, shop, some.url, policy, [catalog.REWARD_CREATED])
        add_endpoint(db, shop, every.url, policy)
        emit(db, customer.id, catalog.POINTS_ADJUSTED)
        wanted = emit(db, customer.id, catalog.REWARD_CREATED)
    assert [r.headers["webhook-id"] for r in some.received] == [wanted]
    assert len(every.received) == 2
    assert len(deliveries_of(session, some_id)) == 1


def test_500s_and_timeouts_are_retried_on_the_schedule_then_failed(
    session: Session, db: Database, policy: endpoints.EndpointPolicy,
    deliverer: delivery.Deliverer, event_relay: OutboxDispatcher, fake_now: FakeNow,
) -> None:
    shop, customer = shop_with_customer(session)
    hang = threading.Event()
    with receiving(answers=[500]) as receiver:
        endpoint_id, _ = add_endpoint(db, shop, receiver.url, policy)
        emit(db, customer.id)
        start = fake_now()
        (row,) = deliveries_of(session, endpoint_id)
        assert (row.status, row.attempts, row.last_status_code) == (
            DeliveryStatus.PENDING, 1, 500)
        assert row.last_error == "HTTP 500" and row.next_attempt_at == start + timedelta(seconds=5)

        elapsed = timedelta(0)
        for number, delay in enumerate(delivery.SCHEDULE, start=2):
            # Not before its time: the relay sends nothing a second early.
            assert event_relay.relay(fake_now.advance(delay - SECOND)).sent == 0
            if number == 4:
                receiver.hold, receiver.hold_for = hang, 5.0  # from now on it hangs: timeouts
            assert event_relay.relay(fake_now.advance(SECOND)).sent == 1
            elapsed += delay
            (row,) = deliveries_of(session, endpoint_id)
            assert row.attempts == number and row.last_attempt_at == start + elapsed
            if number < 4:
                assert row.last_status_code == 500
            else:
                assert row.last_status_code is None and row.last_error.startswith("timed out")
        hang.set()

    assert len(receiver.received) == len(delivery.SCHEDULE) + 1 == 12
    assert row.status is DeliveryStatus.FAILED and row.next_attempt_at is None
    # About three days, and the last run closed its outbox row: nothing more is sent.
    assert timedelta(days=2.5) < elapsed < timedelta(days=3.5)
    assert event_relay.relay(fake_now.advance(timedelta(days=30))).sent == 0
    assert deliveries.deliveries(session, shop, 0, 10, failed=True).total == 1
    # Still enabled: 2.8 days of failures, under the 5 that disable an endpoint.
    assert endpoint_row(session, endpoint_id).enabled


def test_five_days_of_failures_disable_the_endpoint_and_a_success_clears_them(
    session: Session, db: Database, policy: endpoints.EndpointPolicy,
    deliverer: delivery.Deliverer, event_relay: OutboxDispatcher, fake_now: FakeNow,
) -> None:
    shop, customer = shop_with_customer(session)
    with receiving(answers=[500, 200, 500]) as receiver:
        endpoint_id, _ = add_endpoint(db, shop, receiver.url, policy)
        emit(db, customer.id)
        failing = endpoint_row(session, endpoint_id).failing_since
        assert failing == fake_now()
        event_relay.relay(fake_now.advance(timedelta(seconds=5)))  # the retry: 200
        assert endpoint_row(session, endpoint_id).failing_since is None

        emit(db, customer.id)  # 500 from now on: failing again from here
        since = fake_now()
        assert endpoint_row(session, endpoint_id).failing_since == since
        fake_now.advance(timedelta(days=4, hours=23))
        emit(db, customer.id)
        assert endpoint_row(session, endpoint_id).enabled
        fake_now.advance(timedelta(hours=1))
        emit(db, customer.id)
        endpoint = endpoint_row(session, endpoint_id)
        assert not endpoint.enabled and endpoint.disabled_at == fake_now()
        assert endpoint.disabled_reason == f"failing for 5 days since {since.isoformat()}"
        sent = len(receiver.received)

        # Its waiting deliveries end FAILED without a request; new events make none.
        event_relay.relay(fake_now.advance(timedelta(days=1)))
        emit(db, customer.id)
        assert len(receiver.received) == sent
    rows = deliveries_of(session, endpoint_id)
    assert len(rows) == 4 and {r.status for r in rows[1:]} == {DeliveryStatus.FAILED}
    assert rows[0].status is DeliveryStatus.DELIVERED


def test_a_replay_sends_the_same_id_with_a_fresh_signature(
    session: Session, db: Database, policy: endpoints.EndpointPolicy,
    deliverer: delivery.Deliverer, event_relay: OutboxDispatcher, fake_now: FakeNow,
    monkeypatch: pytest.MonkeyPatch, app: Flask,
) -> None:
    shop, customer = shop_with_customer(session)
    stamps = iter([1_700_000_000.5, 1_700_000_100.5])
    monkeypatch.setitem(app.extensions, "loyalty_event_deliverer",
                        dataclasses.replace(deliverer, wall_clock=lambda: next(stamps)))
    with receiving(answers=[200, 200]) as receiver:
        endpoint_id, secret = add_endpoint(db, shop, receiver.url, policy)
        event_id = emit(db, customer.id)
        (row,) = deliveries_of(session, endpoint_id)
        with db.unit_of_work() as work:
            deliveries.replay(work, row.id, fake_now(), shop=shop)
    first, again = receiver.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == event_id
    assert (first.headers["webhook-timestamp"], again.headers["webhook-timestamp"]) == (
        "1700000000", "1700000100")
    assert first.headers["webhook-signature"] != again.headers["webhook-signature"]
    assert first.body == again.body
    for got in (first, again):  # each signed for its own timestamp
        stamp = int(got.headers["webhook-timestamp"])
        assert got.headers["webhook-signature"] == Webhook(secret).sign(
            event_id, _at(stamp), got.body.decode())
    (row,) = deliveries_of(session, endpoint_id)
    assert row.status is DeliveryStatus.DELIVERED and row.attempts == 2 and row.replays == 1
    assert json.loads(again.body)["id"] == event_id


def test_a_failed_delivery_replayed_gets_one_attempt_and_an_old_run_is_stale(
    session: Session, db: Database, policy: endpoints.EndpointPolicy,
    deliverer: delivery.Deliverer, event_relay: OutboxDispatcher, fake_now: FakeNow,
) -> None:
    shop, customer = shop_with_customer(session)
    with receiving(answers=[500]) as receiver:
        endpoint_id, _ = add_endpoint(db, shop, receiver.url, policy)
        emit(db, customer.id)
        (row,) = deliveries_of(session, endpoint_id)
        # Replayed while its first retry waits: the waiting run is stale when it comes.
        with db.unit_of_work() as work:
            deliveries.replay(work, row.id, fake_now(), shop=shop)
        assert len(receiver.received) == 2
        # The first run's retry was due now: it is stale and ends without a request.
        assert event_relay.relay(fake_now.advance(timedelta(seconds=5))).sent == 1
        assert len(receiver.received) == 2
        # The replay's attempt was the second: its retry follows the schedule's second step.
        assert event_relay.relay(fake_now.advance(timedelta(minutes=5) - 6 * SECOND)).sent == 0
        assert event_relay.relay(fake_now.advance(SECOND)).sent == 1
        assert len(receiver.received) == 3
        (row,) = deliveries_of(session, endpoint_id)
        assert row.attempts == 3 and row.status is DeliveryStatus.PENDING
        open_rows = session.scalars(select(OutboxMessage).where(
            OutboxMessage.task_name == "loyalty.deliver_event",
            OutboxMessage.completed_at.is_(None))).all()
        assert len(open_rows) == 1 and open_rows[0].args == [row.id, 1]


def test_a_redirect_is_not_followed(
    session: Session, db: Database, policy: endpoints.EndpointPolicy,
    deliverer: delivery.Deliverer,
) -> None:
    shop, customer = shop_with_customer(session)
    with receiving() as elsewhere, receiving(answers=[302]) as receiver:
        receiver.location = elsewhere.url
        endpoint_id, _ = add_endpoint(db, shop, receiver.url, policy)
        emit(db, customer.id)
    assert len(receiver.received) == 1 and elsewhere.received == []
    (row,) = deliveries_of(session, endpoint_id)
    assert row.status is DeliveryStatus.PENDING and row.last_status_code == 302
    assert "redirects are not followed" in (row.last_error or "")


def test_the_jitter_stays_within_ten_percent() -> None:
    for delay in delivery.SCHEDULE:
        for _ in range(50):
            jittered = delivery._jitter(delay)
            assert delay * 0.9 <= jittered <= delay * 1.1


def _at(stamp: int):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.fromtimestamp(stamp, UTC)


def test_the_address_is_checked_again_at_send_time_and_connected_to(
    session: Session, db: Database, deliverer: delivery.Deliverer, app: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS re-pointed to a private address after the endpoint was added: refused at the send,
    no connection made. And the sender connects to the address it checked, keeping the name
    in the Host header (with private addresses allowed, to reach the local receiver)."""
    names: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in names:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    cipher = deliverer.cipher
    strict = endpoints.EndpointPolicy(cipher, allow_private=False)
    shop, customer = shop_with_customer(session)
    names["hooks.example.com"] = "93.184.216.34"
    endpoint_id, _ = add_endpoint(db, shop, "https://hooks.example.com/in", strict)
    names["hooks.example.com"] = "127.0.0.1"  # rebound
    monkeypatch.setitem(app.extensions, "loyalty_event_deliverer",
                        dataclasses.replace(deliverer, allow_private=False))
    emit(db, customer.id)
    (row,) = deliveries_of(session, endpoint_id)
    assert row.status is DeliveryStatus.PENDING and row.last_status_code is None
    assert row.last_error and "127.0.0.1, which is not a public address" in row.last_error

    monkeypatch.setitem(app.extensions, "loyalty_event_deliverer", deliverer)
    with receiving() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        names["receiver.test"] = "127.0.0.1"
        other_id, _ = add_endpoint(db, shop, f"http://receiver.test:{port}/hooks",
                                   endpoints.EndpointPolicy(cipher, allow_private=True))
        emit(db, customer.id)
    (got,) = receiver.received
    assert got.headers["host"] == f"receiver.test:{port}"
    assert deliveries_of(session, other_id)[0].status is DeliveryStatus.DELIVERED
