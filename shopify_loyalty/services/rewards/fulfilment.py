"""Fulfilling a reward in Shopify: exactly once, or refunded.

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

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from shopify_loyalty.config import DEFAULT_TASK_LEASE_SECONDS
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.errors import ShopifyUnavailableError, ShopNeedsReauthError
from shopify_loyalty.models import RewardType
from shopify_loyalty.services.outbox import RetryLater
from shopify_loyalty.services.rewards.attempts import (
    Outcome,
    claim,
    record_done,
    refund,
    release,
)
from shopify_loyalty.services.rewards.shopify_side import create_in_shopify, find_in_shopify
from shopify_loyalty.services.rewards.terms import RewardNotFulfillableError, RewardTerms
from shopify_loyalty.services.shops import tokens as shop_tokens
from shopify_loyalty.services.shops.admins import ShopAdmins
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

# 5xx/timeout failures before giving up. With the backoff below that spans about 2-4 minutes
# on top of the client's own quick retries: long enough for a Shopify blip, short enough that
# the customer soon sees the reward either work or come back as points.
MAX_TRANSIENT_FAILURES = 6
BACKOFF_BASE_SECONDS = 10.0
BACKOFF_CAP_SECONDS = 120.0
# A store credit has no natural key (a code that exists answers TAKEN), so a retry knows the
# lost attempt's credit only once Shopify has applied it; a request whose answer was lost
# (a read timeout, a 5xx) can still be applied seconds later. A retry that looks sooner
# credits a second time (the chaos run saw it: its lookup ran 8 s after a timed-out credit
# that Shopify applied at 16 s). So a store credit waits this long after a failed attempt.
STORE_CREDIT_SETTLE_SECONDS = 60.0


# A token refresh that failed on Shopify's side is tried again after this long.
TOKEN_RETRY_SECONDS = 30.0
# The Shopify calls of a run take at most this share of its lease; the rest is for the
# database steps around them, so a live run never outlasts its lease.
RUN_SHARE_OF_LEASE = 0.75


def fulfil_reward(
    db: Database,
    admins: ShopAdmins,
    reward_id: int,
    *,
    lease: timedelta = timedelta(seconds=DEFAULT_TASK_LEASE_SECONDS),
    clock: Callable[[], datetime] = utcnow,
    rng: random.Random | None = None,
) -> Outcome:
    """Create the reward's discount code or store credit in Shopify and record it.

    Idempotent: a reward that is not PENDING is left alone, without any Shopify call. The run
    holds the reward for ``lease`` and its Shopify calls end well within it.
    Raises RetryLater when Shopify throttles the shop (not counted as a failure) or after a
    5xx/timeout while retries remain. A refused token leaves the reward PENDING.
    """
    claimed = claim(db, reward_id, clock(), lease)
    if isinstance(claimed, Outcome):
        return claimed
    terms = claimed
    # The calls end before the lease does, with room left to record the outcome.
    deadline = time.monotonic() + lease.total_seconds() * RUN_SHARE_OF_LEASE
    try:
        token = shop_tokens.fresh_access_token(db, terms.shop_id)
        admin = admins.for_shop(terms.shop_domain, token, deadline)
        try:
            gid = create_in_shopify(admin, terms)
        except ShopifyUnauthorized:
            token = shop_tokens.force_refresh(db, terms.shop_id, token)
            admin = admins.for_shop(terms.shop_domain, token, deadline)
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
        countdown = ceiling / 2 + rng.uniform(0, ceiling / 2)
        if terms.reward_type is RewardType.STORE_CREDIT:
            countdown = max(countdown, STORE_CREDIT_SETTLE_SECONDS)
        raise RetryLater(countdown, str(error)) from error
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
