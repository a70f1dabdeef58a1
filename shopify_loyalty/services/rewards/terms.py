"""What a reward must become in Shopify, read from the database once, before any call.

A `RewardTerms` is a plain snapshot: the worker builds it in a short transaction and then talks
to Shopify without holding a session ("never hold a transaction open across a
Shopify call").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from shopify_loyalty.models import Customer, RedeemRule, RedeemRuleKind, Reward, RewardType, Shop
from shopify_loyalty.shopify.discounts import DiscountCodeSpec, DiscountKind


class RewardNotFulfillableError(Exception):
    """The reward's terms cannot be expressed in Shopify (a rule gone or misconfigured)."""


@dataclass(frozen=True, slots=True)
class RewardTerms:
    reward_id: int
    shop_id: int
    shop_domain: str
    currency: str
    # None: a code for any buyer (a referred friend's, made before they are a customer).
    shopify_customer_id: int | None
    reward_type: RewardType
    kind: RedeemRuleKind | None
    code: str | None
    title: str
    amount: Decimal | None
    variant_id: int | None
    created_at: datetime
    expires_at: datetime | None
    min_subtotal: Decimal | None
    product_ids: tuple[int, ...]
    collection_ids: tuple[int, ...]
    combines_with: frozenset[str]
    # When this reward's first attempt began, and whether an earlier run got that far (its
    # request may have reached Shopify with the answer lost).
    first_attempt_at: datetime
    resumed: bool
    # 5xx/timeout failures so far.
    attempts: int
    # Store-credit transactions already recorded on the customer's other rewards.
    known_credit_ids: tuple[str, ...]


def terms_of(
    reward: Reward,
    shop: Shop,
    customer: Customer | None,
    rule: RedeemRule | None,
    *,
    resumed: bool,
    known_credit_ids: tuple[str, ...],
) -> RewardTerms:
    assert reward.first_attempt_at is not None
    return RewardTerms(
        reward_id=reward.id,
        shop_id=shop.id,
        shop_domain=shop.domain,
        currency=shop.currency,
        shopify_customer_id=customer.shopify_customer_id if customer else None,
        reward_type=reward.reward_type,
        kind=_kind(reward, rule),
        code=reward.discount_code,
        title=reward.description or (rule.name if rule else "Loyalty reward"),
        amount=reward.amount,
        variant_id=reward.variant_id,
        # In UTC whatever the database session's time zone, so the dates sent are stable.
        created_at=reward.created_at.astimezone(UTC),
        expires_at=reward.expires_at.astimezone(UTC) if reward.expires_at else None,
        min_subtotal=rule.min_subtotal if rule else None,
        product_ids=tuple(int(i) for i in (rule.product_ids if rule else ()) or ()),
        collection_ids=tuple(int(i) for i in (rule.collection_ids if rule else ()) or ()),
        combines_with=frozenset(rule.combines_with if rule else ()),
        first_attempt_at=reward.first_attempt_at,
        resumed=resumed,
        attempts=reward.attempts,
        known_credit_ids=known_credit_ids,
    )


def _kind(reward: Reward, rule: RedeemRule | None) -> RedeemRuleKind | None:
    """The rule's kind; a reward without a rule carries its own (``discount_kind``)."""
    if rule is not None:
        return rule.kind
    return RedeemRuleKind(reward.discount_kind) if reward.discount_kind else None


def discount_spec(terms: RewardTerms, unit_price: Decimal | None = None) -> DiscountCodeSpec:
    """The discount code of a DISCOUNT_CODE reward.

    The value is the reward's own amount, fixed when it was redeemed (a later edit of the rule
    does not change what the customer bought). A free product takes ``unit_price``, read from
    Shopify just before. Raises RewardNotFulfillableError.
    """
    if terms.kind is None or terms.code is None or terms.kind is RedeemRuleKind.STORE_CREDIT:
        raise RewardNotFulfillableError("The reward has no discount rule to follow.")
    free_product = terms.kind is RedeemRuleKind.FREE_PRODUCT
    try:
        return DiscountCodeSpec(
            code=terms.code,
            title=terms.title,
            customer_id=terms.shopify_customer_id,
            kind=DiscountKind(terms.kind.value),
            starts_at=terms.created_at,
            ends_at=terms.expires_at,
            value=None if free_product or terms.kind is RedeemRuleKind.FREE_SHIPPING
            else terms.amount,
            max_shipping=terms.amount if terms.kind is RedeemRuleKind.FREE_SHIPPING else None,
            min_subtotal=terms.min_subtotal,
            # A free product is limited to its variant, never to the rule's other limits.
            product_ids=() if free_product else terms.product_ids,
            collection_ids=() if free_product else terms.collection_ids,
            variant_id=terms.variant_id if free_product else None,
            unit_price=unit_price,
            combines_with=terms.combines_with,
        )
    except ValueError as error:
        raise RewardNotFulfillableError(f"The reward's rule cannot be applied: {error}") from error
