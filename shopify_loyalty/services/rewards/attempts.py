"""One fulfilment attempt's bookkeeping: the lease that claims a reward, and its outcome.

Each function is its own short transaction (see services.rewards.fulfilment for the run).
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database
from shopify_loyalty.models import (
    Customer,
    FulfillmentStatus,
    RedeemRule,
    Reward,
    RewardStatus,
    RewardType,
    Shop,
)
from shopify_loyalty.services import outbox
from shopify_loyalty.services.events import catalog
from shopify_loyalty.services.rewards import refunds
from shopify_loyalty.services.rewards.terms import RewardTerms, terms_of

log = logging.getLogger(__name__)




# Store credits recorded on the customer's rewards touched this recently cannot be ours.
KNOWN_CREDITS_WINDOW = timedelta(hours=1)


class Outcome(enum.StrEnum):
    DONE = "DONE"  # recorded by this run
    SETTLED = "SETTLED"  # nothing to do: already DONE, refunded, or no such reward
    BUSY = "BUSY"  # another run holds the lease
    REFUNDED = "REFUNDED"
    WAITING_FOR_REAUTH = "WAITING_FOR_REAUTH"  # stays PENDING until the shop re-authorises
    PARKED = "PARKED"  # stays PENDING: Shopify unreachable, outcome unknown; the relay retries


def claim(db: Database, reward_id: int, now: datetime,
          lease: timedelta) -> RewardTerms | Outcome:
    """Lease a PENDING reward and snapshot its terms; an Outcome when there is nothing to do.

    The lease keeps a second run of the same reward (a duplicate delivery, a relayed task)
    from calling Shopify at the same time; the run is bounded to less than it.
    """
    with db.unit_of_work() as session:
        reward = session.scalars(
            select(Reward).where(Reward.id == reward_id).with_for_update()
        ).first()
        if reward is None or not _pending(reward):
            return Outcome.SETTLED
        if reward.lease_until is not None and reward.lease_until > now:
            return Outcome.BUSY
        shop = session.get_one(Shop, reward.shop_id)
        if not shop.installed:
            refunds.refund_reward(session, reward, "The shop has uninstalled the app.")
            return Outcome.REFUNDED
        resumed = reward.first_attempt_at is not None
        reward.first_attempt_at = reward.first_attempt_at or now
        reward.lease_until = now + lease
        customer = session.get(Customer, reward.customer_id) if reward.customer_id else None
        rule = session.get(RedeemRule, reward.redeem_rule_id) if reward.redeem_rule_id else None
        known = _known_credit_ids(session, reward) if resumed else ()
        return terms_of(reward, shop, customer, rule, resumed=resumed, known_credit_ids=known)


def record_done(db: Database, terms: RewardTerms, gid: str) -> Outcome:
    with db.unit_of_work() as session:
        reward = session.get_one(Reward, terms.reward_id, with_for_update=True)
        if reward.discount_code_id is None:
            reward.discount_code_id = gid
        if not _pending(reward):
            log.warning("reward %s settled meanwhile; Shopify id %s kept", reward.id, gid)
            if (reward.status in (RewardStatus.REFUNDED, RewardStatus.EXPIRED)
                    and reward.reward_type is RewardType.DISCOUNT_CODE):
                # The merchant refunded it, or it expired, while its code was being made:
                # the code must not stay usable.
                outbox.enqueue(session, reward.shop_id, outbox.DEACTIVATE_DISCOUNT, reward.id)
            return Outcome.SETTLED
        reward.fulfillment_status = FulfillmentStatus.DONE
        reward.failure_reason = None
        reward.lease_until = None
        if reward.customer_id is not None:  # a friend's referral code has no customer yet
            catalog.emit_reward(session, session.get_one(Customer, reward.customer_id),
                                catalog.REWARD_FULFILLED, reward, {"shopifyId": gid})
    return Outcome.DONE


def refund(db: Database, terms: RewardTerms, reason: str) -> Outcome:
    with db.unit_of_work() as session:
        reward = session.get_one(Reward, terms.reward_id, with_for_update=True)
        if not _pending(reward):
            return Outcome.SETTLED
        log.warning("reward %s refunded: %s", reward.id, reason)
        refunds.refund_reward(session, reward, reason)
    return Outcome.REFUNDED


def release(db: Database, terms: RewardTerms, attempts: int | None = None) -> None:
    """Give the lease back (the reward stays PENDING), counting a failed attempt if given."""
    with db.unit_of_work() as session:
        reward = session.get_one(Reward, terms.reward_id, with_for_update=True)
        reward.lease_until = None
        if attempts is not None:
            reward.attempts = attempts


def _pending(reward: Reward) -> bool:
    return (
        reward.fulfillment_status is FulfillmentStatus.PENDING
        and reward.status is RewardStatus.UNUSED
    )


def _known_credit_ids(session: Session, reward: Reward) -> tuple[str, ...]:
    assert reward.first_attempt_at is not None
    rows = session.scalars(
        select(Reward.discount_code_id).where(
            Reward.customer_id == reward.customer_id,
            Reward.reward_type == RewardType.STORE_CREDIT,
            Reward.discount_code_id.is_not(None),
            Reward.id != reward.id,
            Reward.updated_at >= reward.first_attempt_at - KNOWN_CREDITS_WINDOW,
        )
    )
    return tuple(str(gid) for gid in rows)
