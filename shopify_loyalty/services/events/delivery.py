"""One delivery run: claim a slot on the endpoint, send (no transaction open), record.

A run is an outbox unit of work (``loyalty.deliver_event``, on its own queue). Its result
tells the task what to do with its outbox row: DELIVERED and FAILED end it, RETRY keeps it
open until ``retry_at`` (``outbox.RunLater``: the relay sends it then), BUSY ends it after a
fresh row was queued a moment later, GONE ends it (nothing left to do).

**At most ``concurrency`` attempts in flight per endpoint, across every worker.** The claim
locks the endpoint's row (a short transaction), counts its deliveries whose
``sending_until`` lies ahead and, below the bound, sets its own; so a dead endpoint holds at
most that many worker slots, for at most the 10 s timeout each, and every other endpoint's
deliveries go on. A run over the bound does not wait in its worker: it is re-queued as a new
outbox row (not a RunLater, which would spend one of the row's ``MAX_RUNS`` each time a busy
endpoint is met). A worker killed mid-send frees its slot when ``sending_until`` passes.

**Retries** follow section 15: 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h six times (≈2.8
days after the first attempt; 12 attempts in all), each ±10 % jitter so that a recovering
endpoint is not hit by a wall of retries at once; after the last the delivery is FAILED. An
endpoint whose failures have lasted 5 days (``failing_since``, cleared by any success) is
disabled with its reason; its waiting deliveries then end FAILED ("endpoint disabled").
"""

from __future__ import annotations

import enum
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import urllib3
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import DeliveryStatus, EventDelivery, EventEndpoint, LoyaltyEvent
from shopify_loyalty.services import outbox
from shopify_loyalty.services.events import endpoints, sender, signing, urls
from shopify_loyalty.services.events.fanout import DELIVER_EVENT
from shopify_loyalty.token_cipher import TokenCipher

SCHEDULE = (
    timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
    timedelta(hours=5), *(timedelta(hours=10),) * 6,
)
JITTER = 0.1
DISABLE_AFTER = timedelta(days=5)
# Longer than the send's whole bound (sender.TIMEOUT, 10 s), so a live attempt keeps its slot.
SENDING_LEASE = timedelta(seconds=15)
# A run that found its endpoint at its bound is queued again this much later (the relay's
# 5 s beat then picks it up).
BUSY_WAIT = timedelta(seconds=1)
BUSY_POLLS, BUSY_POLL_SECONDS = 3, 0.05


class Outcome(enum.StrEnum):
    DELIVERED = "DELIVERED"
    RETRY = "RETRY"
    FAILED = "FAILED"
    BUSY = "BUSY"
    GONE = "GONE"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    retry_at: datetime | None = None
    attempt: sender.Attempt | None = None
    seconds: float = 0.0
    # From the event's commit to this delivery (DELIVERED only).
    lag_seconds: float | None = None


def _jitter(delay: timedelta) -> timedelta:
    return delay * random.uniform(1 - JITTER, 1 + JITTER)


@dataclass(frozen=True)
class Deliverer:
    """What a run needs besides the database; the task builds it from the settings."""

    cipher: TokenCipher
    allow_private: bool = False
    concurrency: int = 8
    clock: Callable[[], datetime] = utcnow
    timeout: urllib3.Timeout = field(default_factory=lambda: sender.TIMEOUT)
    jitter: Callable[[timedelta], timedelta] = _jitter
    # The signature's timestamp is the wall clock's, whatever clock schedules the retries:
    # receivers refuse a timestamp far from their own time.
    wall_clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class _Claimed:
    delivery_id: int
    endpoint_id: int
    message_id: str
    body: bytes
    url: str
    secret: str
    event_at: datetime


def deliver(db: Database, deliverer: Deliverer, delivery_id: int, replays: int) -> Result:
    for poll in range(BUSY_POLLS + 1):
        # A busy endpoint is usually a healthy one under load, whose slots free up within
        # milliseconds: a few short polls before the run is re-queued (bounded, so a dead
        # endpoint costs a worker well under a second).
        with db.unit_of_work() as session:
            claimed = _claim(session, deliverer, delivery_id, replays, deliverer.clock(),
                             requeue=poll == BUSY_POLLS)
        if not (isinstance(claimed, Result) and claimed.outcome is Outcome.BUSY
                and poll < BUSY_POLLS):
            break
        time.sleep(BUSY_POLL_SECONDS)
    if isinstance(claimed, Result):
        return claimed
    started = time.monotonic()
    attempt = _attempt(deliverer, claimed)
    seconds = time.monotonic() - started
    with db.unit_of_work() as session:
        return _record(session, deliverer, claimed, attempt, seconds)


def _claim(session: Session, deliverer: Deliverer, delivery_id: int, replays: int,
           now: datetime, requeue: bool) -> _Claimed | Result:
    delivery = session.get(EventDelivery, delivery_id)
    if delivery is None or delivery.status is not DeliveryStatus.PENDING \
            or delivery.replays != replays:
        return Result(Outcome.GONE)
    event = session.get_one(LoyaltyEvent, delivery.event_id)
    # Claims on one endpoint take turns: the count below cannot be raced past the bound.
    endpoint = session.scalars(select(EventEndpoint).where(
        EventEndpoint.id == delivery.endpoint_id).with_for_update()).one()
    session.refresh(delivery)
    if not endpoint.enabled:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        delivery.last_error = f"endpoint disabled: {endpoint.disabled_reason}"[:255]
        return Result(Outcome.FAILED,
                      attempt=sender.Attempt(None, "endpoint_disabled", delivery.last_error))
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now + BUSY_WAIT:
        return Result(Outcome.RETRY, retry_at=delivery.next_attempt_at)  # sent early
    if delivery.sending_until is not None and delivery.sending_until > now:
        # The same delivery is in flight in another run (a duplicate): look again after it.
        return Result(Outcome.RETRY, retry_at=delivery.sending_until)
    in_flight = session.scalar(select(func.count()).select_from(EventDelivery).where(
        EventDelivery.endpoint_id == endpoint.id, EventDelivery.sending_until > now))
    if (in_flight or 0) >= deliverer.concurrency:
        if requeue:
            outbox.enqueue(session, delivery.shop_id, DELIVER_EVENT, delivery.id, replays,
                           due_at=now + deliverer.jitter(BUSY_WAIT))
        return Result(Outcome.BUSY)
    delivery.sending_until = now + SENDING_LEASE
    body = json.dumps(event.body, separators=(",", ":"), ensure_ascii=False).encode()
    return _Claimed(delivery.id, endpoint.id, event.public_id, body, endpoint.url,
                    deliverer.cipher.decrypt(endpoint.secret_enc), event.created_at)


def _attempt(deliverer: Deliverer, claimed: _Claimed) -> sender.Attempt:
    try:
        # Again at every send: DNS may have changed since the endpoint was added.
        target = urls.check(claimed.url, deliverer.allow_private)
    except urls.UnsafeUrlError as exc:
        return sender.Attempt(None, "unsafe_url", exc.detail[:255])
    headers = signing.headers(claimed.secret, claimed.message_id,
                              int(deliverer.wall_clock()), claimed.body)
    return sender.send(target, claimed.body, headers, deliverer.timeout)


def _record(session: Session, deliverer: Deliverer, claimed: _Claimed,
            attempt: sender.Attempt, seconds: float) -> Result:
    now = deliverer.clock()
    endpoint = None
    if not attempt.delivered:
        # Claims lock the endpoint before a delivery: the same order here.
        endpoint = session.scalars(select(EventEndpoint).where(
            EventEndpoint.id == claimed.endpoint_id).with_for_update()).one_or_none()
    delivery = session.get(EventDelivery, claimed.delivery_id, with_for_update=True)
    if delivery is None or (endpoint is None and not attempt.delivered):
        return Result(Outcome.GONE, attempt=attempt, seconds=seconds)  # removed meanwhile
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.sending_until = now, None
    delivery.last_status_code, delivery.last_error = attempt.status_code, attempt.error
    if attempt.delivered:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        delivery.next_attempt_at = None
        # No lock on the endpoint for the common case: only a failing one has anything
        # to clear.
        session.execute(update(EventEndpoint).where(
            EventEndpoint.id == claimed.endpoint_id, EventEndpoint.failing_since.is_not(None))
            .values(failing_since=None))
        return Result(Outcome.DELIVERED, attempt=attempt, seconds=seconds,
                      lag_seconds=(now - claimed.event_at).total_seconds())
    assert endpoint is not None
    endpoint.failing_since = endpoint.failing_since or now
    if now - endpoint.failing_since >= DISABLE_AFTER:
        endpoints.set_enabled(endpoint, False, "failing for 5 days since "
                              f"{endpoint.failing_since.isoformat()}", now)
    retries_done = delivery.attempts - 1
    if retries_done >= len(SCHEDULE) or not endpoint.enabled:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        return Result(Outcome.FAILED, attempt=attempt, seconds=seconds)
    delivery.next_attempt_at = now + deliverer.jitter(SCHEDULE[retries_done])
    return Result(Outcome.RETRY, retry_at=delivery.next_attempt_at, attempt=attempt,
                  seconds=seconds)
