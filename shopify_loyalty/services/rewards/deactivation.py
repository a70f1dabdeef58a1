"""Retiring a reward's discount code in Shopify once the reward no longer holds: refunded by
the merchant, or expired.

Runs in the worker (``loyalty.deactivate_discount``), never inside a transaction: a short
transaction reads what to deactivate, then the call goes through the shop's cost-aware client
(the bucket shared by every worker), so a night of expiries cannot throttle a shop's
fulfilments. The task is queued through the outbox in the transaction that retired the
reward, so it is never lost; a throttled or failed call is tried again later (RetryLater).
"""

from __future__ import annotations

import logging
import time

from shopify_loyalty.db import Database
from shopify_loyalty.models import Reward, RewardStatus, Shop
from shopify_loyalty.services.outbox import RetryLater
from shopify_loyalty.services.shops import tokens as shop_tokens
from shopify_loyalty.services.shops.admins import ShopAdmins
from shopify_loyalty.shopify.errors import (
    ShopifyGraphQLError,
    ShopifyShopGone,
    ShopifyThrottled,
    ShopifyTransientError,
    ShopifyUnauthorized,
    ShopifyUserErrors,
)

log = logging.getLogger(__name__)

RETIRED = (RewardStatus.REFUNDED, RewardStatus.EXPIRED)
# One deactivation is one small mutation; a run that takes longer is stuck.
RUN_SECONDS = 30.0
# A deactivation that failed on a 5xx or a timeout is tried again after this long.
RETRY_SECONDS = 60.0


def deactivate_reward_discount(db: Database, admins: ShopAdmins, reward_id: int) -> bool:
    """Deactivate a refunded or expired reward's code in Shopify; False when there is
    nothing to do (no reward, not retired, or no code was ever made) or Shopify refused
    (the code is gone, or the shop is). A 401 forces one token refresh and one retry.

    Raises ShopNeedsReauthError, ShopifyUnavailableError (the token endpoint), RetryLater.
    """
    with db.unit_of_work() as session:
        reward = session.get(Reward, reward_id)
        if reward is None or reward.status not in RETIRED or reward.discount_code_id is None:
            return False
        shop = session.get_one(Shop, reward.shop_id)
        shop_id, domain, discount_id = shop.id, shop.domain, reward.discount_code_id
    deadline = time.monotonic() + RUN_SECONDS
    token = shop_tokens.fresh_access_token(db, shop_id)
    try:
        try:
            admins.for_shop(domain, token, deadline).deactivate_discount(discount_id)
        except ShopifyUnauthorized:
            token = shop_tokens.force_refresh(db, shop_id, token)
            admins.for_shop(domain, token, deadline).deactivate_discount(discount_id)
    except ShopifyThrottled as throttled:
        raise RetryLater(throttled.wait_seconds, "shop throttled") from throttled
    except ShopifyTransientError as error:
        raise RetryLater(RETRY_SECONDS, str(error)) from error
    except (ShopifyUserErrors, ShopifyGraphQLError, ShopifyShopGone, ShopifyUnauthorized) as no:
        # A retry would get the same answer; the code is single-use and limited to the
        # customer (and Shopify ends it at the reward's expiry, if it has one).
        log.warning("reward %s: Shopify refused to deactivate %s: %s", reward_id, discount_id, no)
        return False
    return True
