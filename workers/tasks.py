"""Celery tasks: thin, named ``loyalty.<verb>``, ids in, one unit of work each.

Every task sent from the outbox carries its row's id (jobs.setup runs it to its end); a task
that must wait longer than a broker should hold a message raises ``outbox.RunLater``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from flask import current_app

from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.errors import LoyaltyError, ShopifyUnavailableError, ShopNeedsReauthError
from shopify_loyalty.jobs import scheduled
from shopify_loyalty.jobs.dispatch import OutboxDispatcher
from shopify_loyalty.jobs.setup import run_batch
from shopify_loyalty.services import outbox
from shopify_loyalty.services.events import delivery
from shopify_loyalty.services.events.sync import run as shopify_sync
from shopify_loyalty.services.events.sync import schedule as shopify_sync_schedule
from shopify_loyalty.services.orders import webhooks
from shopify_loyalty.services.rewards import deactivation, fulfilment
from shopify_loyalty.services.rewards.attempts import Outcome
from shopify_loyalty.services.shops import tokens as shop_tokens
from shopify_loyalty.services.shops.admins import ShopAdmins
from shopify_loyalty.telemetry import metrics

log = logging.getLogger(__name__)

# Shopify's own retry window is 4 hours; ours (backoff 2, 4, … capped at 10 minutes) gives
# a database or deadlock hiccup about half an hour before the operator has to look.
WEBHOOK_MAX_RETRIES = 6
WEBHOOK_BACKOFF_MAX_SECONDS = 600
# A reward whose outcome Shopify could not even tell us is looked at again after this long.
PARKED_FOR = timedelta(minutes=10)
_ADMINS = "loyalty_shop_admins"
_DELIVERER = "loyalty_event_deliverer"


def _db() -> Database:
    db: Database = current_app.extensions["loyalty_db"]
    return db


def _settings() -> Settings:
    settings: Settings = current_app.extensions["loyalty_settings"]
    return settings


def _lease() -> timedelta:
    return timedelta(seconds=_settings().task_lease_seconds)


def _admins() -> ShopAdmins:
    """The process's ShopAdmins (and so its one cost bucket), made on first use."""
    admins: ShopAdmins | None = current_app.extensions.get(_ADMINS)
    if admins is None:
        admins = current_app.extensions[_ADMINS] = ShopAdmins.from_settings(_settings())
    return admins


def _deliverer() -> delivery.Deliverer:
    """The process's Deliverer (tests put one with a fake clock in its place)."""
    deliverer: delivery.Deliverer | None = current_app.extensions.get(_DELIVERER)
    if deliverer is None:
        settings = _settings()
        deliverer = current_app.extensions[_DELIVERER] = delivery.Deliverer(
            cipher=shop_tokens.context_of(_db()).cipher,
            allow_private=settings.event_endpoints_allow_private,
            concurrency=settings.event_endpoint_concurrency)
    return deliverer


# Routed to its own queue (EVENTS_QUEUE, jobs.setup): a merchant's slow endpoint never holds
# up fulfilment. Retries are the outbox's (RunLater), never the broker's.
@shared_task(  # type: ignore[untyped-decorator]
    name="loyalty.deliver_event", acks_late=True, max_retries=0,
)
def deliver_event(delivery_id: int, replays: int) -> str:
    """One attempt to deliver an event to one endpoint (Standard Webhooks)."""
    result = delivery.deliver(_db(), _deliverer(), delivery_id, replays)
    metrics.EVENT_DELIVERIES.labels(result.outcome.value).inc()
    if result.attempt is not None:
        reason = result.attempt.reason
        if reason is not None:
            metrics.EVENT_DELIVERY_FAILURES.labels(reason).inc()
        if result.seconds:
            metrics.EVENT_DELIVERY_SECONDS.labels(reason or "delivered").observe(result.seconds)
    if result.lag_seconds is not None:
        metrics.EVENT_DELIVERY_LAG.observe(result.lag_seconds)
    if result.outcome is delivery.Outcome.RETRY and result.retry_at is not None:
        raise outbox.RunLater(result.retry_at, f"delivery {delivery_id}: {result.attempt}")
    return result.outcome.value


@shared_task(  # type: ignore[untyped-decorator]
    name="loyalty.process_webhook",
    bind=True,
    acks_late=True,
    autoretry_for=(Exception,),
    max_retries=WEBHOOK_MAX_RETRIES,
    retry_backoff=True,
    retry_backoff_max=WEBHOOK_BACKOFF_MAX_SECONDS,
    retry_jitter=True,
)
def process_webhook(self: Any, event_id: int) -> None:
    """Apply a stored webhook event; a failure is retried, then left FAILED with its error.

    A payload we cannot use (LoyaltyError) fails at once: a retry would read the same bytes.
    """
    db = _db()
    try:
        _apply_webhook(event_id)
    except LoyaltyError as exc:
        log.warning("webhook event %s failed: %s", event_id, exc)
        with db.unit_of_work() as session:
            webhooks.record_failure(session, event_id, f"{exc.code}: {exc.detail}", final=True)
        metrics.WEBHOOKS_PROCESSED.labels("unknown", "FAILED").inc()
        return
    except Exception as exc:
        final = self.request.retries >= self.max_retries
        with db.unit_of_work() as session:
            webhooks.record_failure(session, event_id, f"{type(exc).__name__}: {exc}", final)
        if final:
            log.exception("webhook event %s failed for good", event_id)
            metrics.WEBHOOKS_PROCESSED.labels("unknown", "FAILED").inc()
            return
        raise


@shared_task(name=webhooks.PROCESS_WEBHOOKS)  # type: ignore[untyped-decorator]
def process_webhooks(rows: list[list[int]]) -> None:
    """Apply a batch of stored events (the acknowledgements' sends, jobs.batching), each as
    ``process_webhook`` applies one. An event that fails is left to its own
    ``process_webhook`` run, which retries it and records its failures."""
    run_batch(_db(), webhooks.PROCESS_WEBHOOK, rows, _lease(), _apply_webhook)


def _apply_webhook(event_id: int) -> None:
    """One event in its own transaction, which closes its outbox row with its effects."""
    with _db().unit_of_work() as session:
        event = webhooks.process_event(session, event_id, utcnow())
        done = (event.topic, event.received_at, event.processed_at) if event else None
        outbox.complete_with(session)
    if done is not None:
        topic, received_at, processed_at = done
        metrics.WEBHOOKS_PROCESSED.labels(metrics.topic_label(topic), "PROCESSED").inc()
        if processed_at is not None:
            metrics.WEBHOOK_LAG.observe((processed_at - received_at).total_seconds())


@shared_task(  # type: ignore[untyped-decorator]
    name="loyalty.deactivate_discount", acks_late=True, bind=True, max_retries=8,
)
def deactivate_discount(self: Any, reward_id: int) -> None:
    """Deactivate a refunded or expired reward's discount code in Shopify (idempotent)."""
    try:
        deactivation.deactivate_reward_discount(_db(), _admins(), reward_id)
    except ShopNeedsReauthError:
        # Nothing to retry until the merchant re-installs; the code stays single-use and
        # limited to this customer meanwhile.
        log.warning("deactivate_discount: shop of reward %s needs re-auth", reward_id)
    except outbox.RetryLater as later:
        # Through the outbox's deadline, not the broker: a throttled night of expiries must
        # not spend the task's retries, and the in-process mode must not sleep.
        raise outbox.RunLater(utcnow() + timedelta(seconds=later.countdown), str(later)) \
            from later
    except ShopifyUnavailableError as exc:
        raise self.retry(exc=exc, countdown=min(600, 5 * 2**self.request.retries)) from exc


# max_retries=None: the fulfilment bounds its own 5xx/timeout retries (in the database, so the
# bound holds across re-sends), and throttling must never exhaust a reward's retries.
@shared_task(  # type: ignore[untyped-decorator]
    name="loyalty.fulfil_reward", bind=True, acks_late=True, max_retries=None
)
def fulfil_reward(self: Any, reward_id: int) -> str:
    """Create the reward's discount code or store credit in Shopify."""
    lease = _lease()
    try:
        outcome = fulfilment.fulfil_reward(_db(), _admins(), reward_id, lease=lease)
        metrics.FULFILMENTS.labels(outcome.value).inc()
    except outbox.RetryLater as later:
        metrics.FULFILMENTS.labels("RETRY_LATER").inc()
        if self.request.is_eager:
            # In-process mode runs inside the request that redeemed: it must not sleep there.
            raise outbox.RunLater(utcnow() + timedelta(seconds=later.countdown),
                                  str(later)) from later
        log.info("reward %s: %s", reward_id, later)
        raise self.retry(countdown=later.countdown, exc=later) from later
    if outcome is Outcome.BUSY:
        # Another run holds the reward: it finishes, or its lease runs out by then.
        raise outbox.RunLater(utcnow() + lease, f"reward {reward_id} is held by another run")
    if outcome is Outcome.PARKED:
        raise outbox.RunLater(utcnow() + PARKED_FOR, f"reward {reward_id} parked")
    return outcome.value


@shared_task(  # type: ignore[untyped-decorator]
    name=shopify_sync_schedule.SYNC_CUSTOMERS, acks_late=True
)
def sync_customers(shop_id: int) -> dict[str, int]:
    """Write the shop's due customers to Shopify (balance, tier, referral link)."""
    report = shopify_sync.sync_shop(_db(), _admins(), _settings().app_url, shop_id, utcnow(),
                                    _lease())
    if report.retry_at is not None:
        # Throttled: the run goes again when the bucket has refilled, through the outbox.
        raise outbox.RunLater(report.retry_at, f"shop {shop_id} throttled")
    return {"written": report.written, "givenUp": report.given_up, "failed": report.failed}


@shared_task(  # type: ignore[untyped-decorator]
    name="loyalty.schedule_shopify_sync", acks_late=True
)
def schedule_shopify_sync() -> int:
    """Beat's tick: queue a sync run for every shop with customers due."""
    with _db().unit_of_work() as session:
        return len(shopify_sync_schedule.queue_due_shops(session, utcnow()))


@shared_task(name="loyalty.relay_outbox", acks_late=True)  # type: ignore[untyped-decorator]
def relay_outbox() -> dict[str, int]:
    """Send the outbox rows that were missed, or whose task was lost, again."""
    dispatcher: OutboxDispatcher = current_app.extensions["loyalty_dispatcher"]
    report = dispatcher.relay(utcnow())
    if report.sent or report.left:
        log.info("relay: %s", report)
    return {"sent": report.sent, "left": report.left}


@shared_task(name="loyalty.run_job", acks_late=True)  # type: ignore[untyped-decorator]
def run_job(name: str) -> None:
    """Beat's entry point of a scheduled job: queue its first batch, as of now."""
    scheduled.start(_db(), name, utcnow())


@shared_task(name="loyalty.job_batch", acks_late=True)  # type: ignore[untyped-decorator]
def job_batch(name: str, as_of: str) -> int:
    """One batch of a scheduled job (the next one is queued with it while work remains)."""
    return scheduled.run_batch(_db(), name, datetime.fromisoformat(as_of))
