"""Celery tasks: thin, named ``loyalty.<verb>``, ids in, one unit of work each."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from flask import current_app
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database
from shopify_loyalty.errors import ShopifyUnavailableError, ShopNeedsReauthError
from shopify_loyalty.models import Reward
from shopify_loyalty.services import rewards_admin

log = logging.getLogger(__name__)


def _db() -> Database:
    db: Database = current_app.extensions["loyalty_db"]
    return db


@shared_task(name="loyalty.fulfil_reward", acks_late=True)  # type: ignore[untyped-decorator]
def fulfil_reward(reward_id: int) -> None:
    """Create the reward's Shopify side (the fulfilment body lands with the worker issue)."""
    with _db().unit_of_work() as session:
        _log_reward(session, reward_id)


def _log_reward(session: Session, reward_id: int) -> None:
    reward = session.get(Reward, reward_id)
    if reward is None:
        log.warning("fulfil_reward: no reward %s", reward_id)
        return
    log.info("fulfil_reward: reward %s is %s", reward_id, reward.fulfillment_status.value)


@shared_task(  # type: ignore[untyped-decorator]
    name="loyalty.deactivate_discount", acks_late=True, bind=True, max_retries=8,
)
def deactivate_discount(self: Any, reward_id: int) -> None:
    """Deactivate a refunded reward's discount code in Shopify (idempotent)."""
    try:
        rewards_admin.deactivate_reward_discount(_db(), reward_id)
    except ShopNeedsReauthError:
        # Nothing to retry until the merchant re-installs; the code stays single-use and
        # limited to this customer meanwhile.
        log.warning("deactivate_discount: shop of reward %s needs re-auth", reward_id)
    except ShopifyUnavailableError as exc:
        raise self.retry(exc=exc, countdown=min(600, 5 * 2**self.request.retries)) from exc
