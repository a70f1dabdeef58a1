"""Celery tasks: thin, named ``loyalty.<verb>``, ids in, one unit of work each."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import shared_task
from flask import current_app

from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs import OutboxDispatcher
from shopify_loyalty.services import fulfilment
from shopify_loyalty.services.shop_admin_factory import ShopAdmins

log = logging.getLogger(__name__)

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


# max_retries=None: the fulfilment bounds its own 5xx/timeout retries (in the database, so the
# bound holds across re-sends), and throttling must never exhaust a reward's retries.
@shared_task(  # type: ignore[untyped-decorator]
    name="loyalty.fulfil_reward", bind=True, acks_late=True, max_retries=None
)
def fulfil_reward(self: Any, reward_id: int) -> str:
    """Create the reward's discount code or store credit in Shopify (design 5.2)."""
    try:
        return fulfilment.fulfil_reward(_db(), _admins(), reward_id).value
    except fulfilment.RetryLater as later:
        log.info("reward %s: %s", reward_id, later)
        if self.request.is_eager:
            # In-process mode has no broker to hold a delayed retry: Celery re-runs it at once.
            time.sleep(later.countdown)
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
