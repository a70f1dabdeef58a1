"""Retiring a reward's discount code in Shopify once the reward no longer holds (refunded).

Runs in the worker (``loyalty.deactivate_discount``), never inside a transaction.
"""

from __future__ import annotations

from shopify_loyalty.db import Database
from shopify_loyalty.models import Reward, RewardStatus, Shop
from shopify_loyalty.services.shops import tokens as shop_tokens
from shopify_loyalty.shopify import install_calls


def deactivate_reward_discount(db: Database, reward_id: int) -> bool:
    """Deactivate a refunded reward's code in Shopify; False when there is nothing to do
    (no reward, not refunded, or the code was never created). A 401 forces one token
    refresh and one retry. Raises ShopNeedsReauthError, ShopifyUnavailableError,
    install_calls.AdminCallError."""
    with db.unit_of_work() as session:
        reward = session.get(Reward, reward_id)
        if reward is None or reward.status is not RewardStatus.REFUNDED \
                or reward.discount_code_id is None:
            return False
        shop = session.get_one(Shop, reward.shop_id)
        shop_id, domain, discount_id = shop.id, shop.domain, reward.discount_code_id
    endpoint = shop_tokens.context_of(db).admin
    token = shop_tokens.fresh_access_token(db, shop_id)
    try:
        install_calls.deactivate_discount(endpoint, domain, token, discount_id)
    except install_calls.AdminUnauthorizedError:
        token = shop_tokens.force_refresh(db, shop_id, token)
        install_calls.deactivate_discount(endpoint, domain, token, discount_id)
    return True
