"""A reward's Shopify side: make it, or find the one an earlier attempt made.

No database here: these functions take the `RewardTerms` snapshot and a shop's `ShopifyAdmin`,
so the caller holds no transaction while they run.
"""

from __future__ import annotations

import logging

from shopify_loyalty.models import RedeemRuleKind, RewardType
from shopify_loyalty.services.rewards.terms import RewardTerms, discount_spec
from shopify_loyalty.shopify.errors import ShopifyUserErrors
from shopify_loyalty.shopify.shop_admin import ShopifyAdmin

log = logging.getLogger(__name__)


def create_in_shopify(admin: ShopifyAdmin, terms: RewardTerms) -> str:
    """The GID of the reward's discount node or store-credit transaction, made or found.

    Raises RewardNotFulfillableError, and the adapter's errors: ShopifyUserErrors (TAKEN only
    when the code cannot be found either), ShopifyThrottled, ShopifyTransientError,
    ShopifyUnauthorized, ShopifyShopGone, ShopifyGraphQLError.
    """
    if terms.reward_type is RewardType.STORE_CREDIT:
        if terms.resumed and (found := find_in_shopify(admin, terms)) is not None:
            return found
        assert terms.amount is not None and terms.shopify_customer_id is not None
        return admin.credit_store_credit(
            terms.shopify_customer_id, terms.amount, terms.currency, terms.expires_at
        )
    unit_price = None
    if terms.kind is RedeemRuleKind.FREE_PRODUCT and terms.variant_id is not None:
        unit_price = admin.variant_price(terms.variant_id)
    spec = discount_spec(terms, unit_price)
    try:
        return admin.create_discount_code(spec)
    except ShopifyUserErrors as refused:
        # Our codes are random and unique per shop, so TAKEN means an earlier attempt of ours
        # created it and its answer was lost: record that discount, do not make another.
        if refused.codes != {"TAKEN"}:
            raise
        found = admin.find_discount_by_code(spec.code)
        if found is None:
            raise
        log.info("reward %s: code existed already (lost answer), recorded", terms.reward_id)
        return found


def find_in_shopify(admin: ShopifyAdmin, terms: RewardTerms) -> str | None:
    """The reward's discount or credit if an earlier attempt made it, else None.

    Raises the adapter's errors (a look-up that fails tells nothing either way).
    """
    if terms.reward_type is RewardType.STORE_CREDIT:
        assert terms.amount is not None and terms.shopify_customer_id is not None
        return admin.find_store_credit(
            terms.shopify_customer_id,
            terms.amount,
            terms.currency,
            since=terms.first_attempt_at,
            expires_at=terms.expires_at,
            exclude=terms.known_credit_ids,
        )
    return admin.find_discount_by_code(terms.code) if terms.code else None
