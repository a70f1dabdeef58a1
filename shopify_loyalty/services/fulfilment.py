"""Fulfilling a reward in Shopify (design section 5.2): exactly once, or refunded.

A run has three steps and never holds a transaction across a Shopify call:

1. *claim* (one short transaction): lock the reward, skip it unless it is still PENDING,
   take a lease so that a second delivery of the task leaves it alone, note when the first
   attempt began, and snapshot what Shopify must get (`RewardTerms`);
2. call Shopify;
3. record the outcome (another transaction): DONE with the Shopify id, a refund, or the lease
   released for a later retry.

Exactly one discount per reward: the code is ours, random and unique, so a create whose answer
was lost makes the retry answer TAKEN, and the code is then looked up and recorded.

Exactly one store credit per reward, without a code to collide on: a credit request whose
answer was lost is never repeated blindly. Before every run but the first (`resumed`: an
earlier run may have reached Shopify) the customer's credits made since `first_attempt_at` are
searched for one of this amount and expiry not recorded on another reward; found, it is
recorded; not found, no earlier attempt was applied and crediting is safe. The lease keeps two
runs from crediting at once. Before any refund after 5xx/timeouts the same look-up decides
(for a code: `codeDiscountNodeByCode`); if Shopify cannot answer even that, the reward stays
PENDING and the relay tries again later, since refunding a reward that may exist pays twice.
"""

from __future__ import annotations

import enum
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.errors import ShopifyUnavailableError, ShopNeedsReauthError
from shopify_loyalty.models import (
    Customer,
    FulfillmentStatus,
    RedeemRule,
    Reward,
    RewardStatus,
    RewardType,
    Shop,
)
from shopify_loyalty.services import outbox, refunds, shop_tokens
from shopify_loyalty.services.reward_terms import RewardNotFulfillableError, RewardTerms, terms_of
from shopify_loyalty.services.shop_admin_factory import ShopAdmins
from shopify_loyalty.services.shopify_rewards import create_in_shopify, find_in_shopify
from shopify_loyalty.shopify.errors import (
    ShopifyError,
    ShopifyGraphQLError,
    ShopifyShopGone,
    ShopifyThrottled,
    ShopifyTransientError,
    ShopifyUnauthorized,
    ShopifyUserErrors,
)
from shopify_loyalty.shopify.shop_admin import ShopifyAdmin

log = logging.getLogger(__name__)

# Longer than one run can take (the client's 4 tries at 3 s connect + 15 s read, its backoff
# and bucket waits, two calls for a free product), so a live run never loses its lease; short
# enough that a worker that died mid-run holds the reward up only this long.
LEASE = timedelta(minutes=5)
# 5xx/timeout failures before giving up. With the backoff below that spans about 2-4 minutes
# on top of the client's own quick retries: long enough for a Shopify blip, short enough that
# the customer soon sees the reward either work or come back as points.
MAX_TRANSIENT_FAILURES = 6
BACKOFF_BASE_SECONDS = 10.0
BACKOFF_CAP_SECONDS = 120.0
# Store credits recorded on the customer's rewards touched this recently cannot be ours.
KNOWN_CREDITS_WINDOW = timedelta(hours=1)


class Outcome(enum.StrEnum):
    DONE = "DONE"  # recorded by this run
    SETTLED = "SETTLED"  # nothing to do: already DONE, refunded, or no such reward
    BUSY = "BUSY"  # another run holds the lease
    REFUNDED = "REFUNDED"
    WAITING_FOR_REAUTH = "WAITING_FOR_REAUTH"  # stays PENDING until the shop re-authorises
    PARKED = "PARKED"  # stays PENDING: Shopify unreachable, outcome unknown; the relay retries


# A token refresh that failed on Shopify's side is tried again after this long.
TOKEN_RETRY_SECONDS = 30.0


class RetryLater(Exception):
    """Run the fulfilment again in ``countdown`` seconds (the task re-queues itself)."""

    def __init__(self, countdown: float, reason: str) -> None:
        super().__init__(f"{reason}; retry in {countdown:.1f} s")
        self.countdown = countdown


def fulfil_reward(
    db: Database,
    admins: ShopAdmins,
    reward_id: int,
    *,
    clock: Callable[[], datetime] = utcnow,
    rng: random.Random | None = None,
) -> Outcome:
    """Create the reward's discount code or store credit in Shopify and record it.

    Idempotent: a reward that is not PENDING is left alone, without any Shopify call.
    Raises RetryLater when Shopify throttles the shop (not counted as a failure) or after a
    5xx/timeout while retries remain. A refused token leaves the reward PENDING.
    """
    claimed = claim(db, reward_id, clock())
    if isinstance(claimed, Outcome):
        return claimed
    terms = claimed
    try:
        token = shop_tokens.fresh_access_token(db, terms.shop_id)
        admin = admins.for_shop(terms.shop_domain, token)
        try:
            gid = create_in_shopify(admin, terms)
        except ShopifyUnauthorized:
            token = shop_tokens.force_refresh(db, terms.shop_id, token)
            admin = admins.for_shop(terms.shop_domain, token)
            gid = create_in_shopify(admin, terms)
    except (ShopNeedsReauthError, ShopifyUnauthorized):
        log.warning("reward %s waits: shop %s must re-authorise", reward_id, terms.shop_domain)
        release(db, terms)
        return Outcome.WAITING_FOR_REAUTH
    except ShopifyUnavailableError as unavailable:
        # Shopify's token endpoint did not answer: nothing reached the Admin API yet.
        release(db, terms)
        raise RetryLater(TOKEN_RETRY_SECONDS, "token refresh unavailable") from unavailable
    except ShopifyThrottled as throttled:
        release(db, terms)
        raise RetryLater(throttled.wait_seconds, "shop throttled") from throttled
    except ShopifyTransientError as error:
        return after_transient(db, admin, terms, error, rng or random.Random())
    except ShopifyShopGone as gone:
        return refund(db, terms, f"The shop is closed or gone from Shopify (HTTP {gone.status}).")
    except (ShopifyUserErrors, ShopifyGraphQLError, RewardNotFulfillableError) as refused:
        return refund(db, terms, f"Shopify refused the reward: {refused}")
    return record_done(db, terms, gid)


def claim(db: Database, reward_id: int, now: datetime) -> RewardTerms | Outcome:
    """Lease a PENDING reward and snapshot its terms; an Outcome when there is nothing to do."""
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
        reward.lease_until = now + LEASE
        customer = session.get_one(Customer, reward.customer_id)
        rule = session.get(RedeemRule, reward.redeem_rule_id) if reward.redeem_rule_id else None
        known = _known_credit_ids(session, reward) if resumed else ()
        return terms_of(reward, shop, customer, rule, resumed=resumed, known_credit_ids=known)


def after_transient(
    db: Database,
    admin: ShopifyAdmin,
    terms: RewardTerms,
    error: ShopifyTransientError,
    rng: random.Random,
) -> Outcome:
    """Retry later with backoff, or once retries are exhausted look, then refund."""
    failures = terms.attempts + 1
    if failures < MAX_TRANSIENT_FAILURES:
        release(db, terms, attempts=failures)
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (failures - 1))
        # "Equal jitter": never sooner than half the step, so retries really back off, and
        # spread over the other half so rewards that failed together do not retry together.
        raise RetryLater(ceiling / 2 + rng.uniform(0, ceiling / 2), str(error)) from error
    try:
        found = find_in_shopify(admin, terms)
    except ShopifyError:
        log.warning("reward %s parked: Shopify unreachable after %d tries", terms.reward_id,
                    failures, exc_info=True)
        release(db, terms, attempts=failures)
        return Outcome.PARKED
    if found is not None:
        return record_done(db, terms, found)
    return refund(db, terms, f"Shopify could not be reached after {failures} attempts.")


def record_done(db: Database, terms: RewardTerms, gid: str) -> Outcome:
    with db.unit_of_work() as session:
        reward = session.get_one(Reward, terms.reward_id, with_for_update=True)
        if reward.discount_code_id is None:
            reward.discount_code_id = gid
        if not _pending(reward):
            log.warning("reward %s settled meanwhile; Shopify id %s kept", reward.id, gid)
            if (reward.status is RewardStatus.REFUNDED
                    and reward.reward_type is RewardType.DISCOUNT_CODE):
                # The merchant refunded it while its code was being made: the points are
                # back, so the code must not stay usable.
                outbox.enqueue(session, reward.shop_id, outbox.DEACTIVATE_DISCOUNT, reward.id)
            return Outcome.SETTLED
        reward.fulfillment_status = FulfillmentStatus.DONE
        reward.failure_reason = None
        reward.lease_until = None
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
