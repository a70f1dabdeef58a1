"""Celery tasks: thin, named ``loyalty.<verb>``, ids in, one unit of work each."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from flask import current_app

from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.errors import LoyaltyError, ShopifyUnavailableError, ShopNeedsReauthError
from shopify_loyalty.jobs import OutboxDispatcher
from shopify_loyalty.services.orders import webhooks
from shopify_loyalty.services.points import pending as pending_points
from shopify_loyalty.services.rewards import attempts, deactivation, fulfilment
from shopify_loyalty.services.shops.admins import ShopAdmins

log = logging.getLogger(__name__)

# Shopify's own retry window is 4 hours; ours (backoff 2, 4, … capped at 10 minutes) gives
# a database or deadlock hiccup about half an hour before the operator has to look.
WEBHOOK_MAX_RETRIES = 6
WEBHOOK_BACKOFF_MAX_SECONDS = 600
# Customers approved per beat run; the next run takes the rest.
APPROVAL_BATCH = 1000
_ADMINS = "loyalty_shop_admins"


def _db() -> Database:
    db: Database = current_app.extensions["loyalty_db"]
    return db


def _admins() -> ShopAdmins:
    """The process's ShopAdmins (and so its one cost bucket), made on first use."""
    admins: ShopAdmins | None = current_app.extensions.get(_ADMINS)
    if admins is None:
        settings: Settings = current_app.extensions["loyalty_settings"]
        admins = current_app.extensions[_ADMINS] = ShopAdmins.from_settings(settings)
    return admins


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
        with db.unit_of_work() as session:
            webhooks.process_event(session, event_id, utcnow())
    except LoyaltyError as exc:
        log.warning("webhook event %s failed: %s", event_id, exc)
        with db.unit_of_work() as session:
            webhooks.record_failure(session, event_id, f"{exc.code}: {exc.detail}", final=True)
    except Exception as exc:
        final = self.request.retries >= self.max_retries
        with db.unit_of_work() as session:
            webhooks.record_failure(session, event_id, f"{type(exc).__name__}: {exc}", final)
        if final:
            log.exception("webhook event %s failed for good", event_id)
            return
        raise


@shared_task(name="loyalty.approve_pending_points", acks_late=True)  # type: ignore[untyped-decorator]
def approve_pending_points() -> int:
    """Approve pending points whose delay has passed; one transaction per customer."""
    db = _db()
    now = utcnow()
    with db.unit_of_work() as session:
        customer_ids = list(pending_points.customers_due(session, now, APPROVAL_BATCH))
    approved = 0
    for customer_id in customer_ids:
        with db.unit_of_work() as session:
            approved += pending_points.approve_due(session, customer_id, now)
    return approved


@shared_task(  # type: ignore[untyped-decorator]
    name="loyalty.deactivate_discount", acks_late=True, bind=True, max_retries=8,
)
def deactivate_discount(self: Any, reward_id: int) -> None:
    """Deactivate a refunded reward's discount code in Shopify (idempotent)."""
    try:
        deactivation.deactivate_reward_discount(_db(), reward_id)
    except ShopNeedsReauthError:
        # Nothing to retry until the merchant re-installs; the code stays single-use and
        # limited to this customer meanwhile.
        log.warning("deactivate_discount: shop of reward %s needs re-auth", reward_id)
    except ShopifyUnavailableError as exc:
        raise self.retry(exc=exc, countdown=min(600, 5 * 2**self.request.retries)) from exc
# max_retries=None: the fulfilment bounds its own 5xx/timeout retries (in the database, so the
# bound holds across re-sends), and throttling must never exhaust a reward's retries.
@shared_task(  # type: ignore[untyped-decorator]
    name="loyalty.fulfil_reward", bind=True, acks_late=True, max_retries=None
)
def fulfil_reward(self: Any, reward_id: int) -> str:
    """Create the reward's discount code or store credit in Shopify."""
    try:
        return fulfilment.fulfil_reward(_db(), _admins(), reward_id).value
    except fulfilment.RetryLater as later:
        if self.request.is_eager:
            # In-process mode runs inside the request that redeemed: it must not sleep there.
            # The reward stays PENDING; the relay (beat) sends it again once it is stale.
            log.warning("reward %s left PENDING for the relay: %s", reward_id, later)
            return attempts.Outcome.PARKED.value
        log.info("reward %s: %s", reward_id, later)
        raise self.retry(countdown=later.countdown, exc=later) from later


@shared_task(name="loyalty.relay_outbox", acks_late=True)  # type: ignore[untyped-decorator]
def relay_outbox() -> dict[str, int]:
    """Send what the after-commit dispatch missed and re-send rewards left PENDING too long."""
    report = OutboxDispatcher(current_app.extensions["celery"], _db()).relay(utcnow())
    if report.outbox_sent or report.outbox_left or report.rewards_resent:
        log.info("relay: %s", report)
    return {
        "outbox_sent": report.outbox_sent,
        "outbox_left": report.outbox_left,
        "rewards_resent": report.rewards_resent,
    }
