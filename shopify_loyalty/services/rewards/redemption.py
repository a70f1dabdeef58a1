"""Redeeming points for a reward: one transaction, no double spend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from shopify_loyalty.db_driver import DriverStatement, insert_as_stored, run_in
from shopify_loyalty.db_reuse import table_of
from shopify_loyalty.errors import (
    CustomerNotEligibleError,
    RedeemLimitReachedError,
    RedeemRuleNotFoundError,
    ValidationError,
)
from shopify_loyalty.models import (
    Customer,
    CustomerStatus,
    FulfillmentStatus,
    LedgerKind,
    LimitInterval,
    RedeemRule,
    RedeemRuleKind,
    Reward,
    RewardStatus,
    Shop,
    VipTier,
)
from shopify_loyalty.services import outbox
from shopify_loyalty.services.events import catalog
from shopify_loyalty.services.points import ledger
from shopify_loyalty.services.program import tiers
from shopify_loyalty.services.program_cache import program_rows
from shopify_loyalty.services.rewards.codes import generate_code

CENT = Decimal("0.01")
# Claim limits count rolling windows, so "once a week" means once in any seven days,
# whatever the customer's time zone.
LIMIT_WINDOWS = {
    LimitInterval.DAY: timedelta(days=1),
    LimitInterval.WEEK: timedelta(days=7),
    LimitInterval.MONTH: timedelta(days=30),
    LimitInterval.YEAR: timedelta(days=365),
}


@dataclass(frozen=True)
class RedeemCommand:
    redeem_rule_id: int
    points: int | None = None
    variant_id: int | None = None


_SHOP_RULES = select(RedeemRule).where(RedeemRule.shop_id == bindparam("shop"))
_REWARDS = table_of(Reward)
_LINK_LEDGER_ROW = DriverStatement(
    _REWARDS.update().where(_REWARDS.c.id == bindparam("reward"))
    .values(point_transaction_id=bindparam("row"), updated_at=bindparam("at")))


def active_rule(session: Session, shop: Shop, rule_id: int) -> RedeemRule:
    """Raises RedeemRuleNotFoundError for a missing, inactive or other shop's rule. To read
    only (services.program_cache: the shop's rules are one copy, so the ids a client asks
    for, existing or not, add nothing to it)."""
    rules = program_rows(session, shop.id, "redeem_rules",
                         lambda: session.scalars(_SHOP_RULES, {"shop": shop.id}).all())
    rule = next((row for row in rules if row.id == rule_id), None)
    if rule is None or rule.shop_id != shop.id or not rule.active:
        raise RedeemRuleNotFoundError()
    return rule


def check_eligible(session: Session, customer: Customer, rule: RedeemRule) -> None:
    """Raises CustomerNotEligibleError when the customer's status or tier rules it out."""
    if customer.status is not CustomerStatus.ACTIVE:
        raise CustomerNotEligibleError(f"Customer status is {customer.status.value}.")
    if rule.required_tier_id is None or rule.required_tier_id == customer.vip_tier_id:
        return
    required = session.get(VipTier, rule.required_tier_id)
    held = session.get(VipTier, customer.vip_tier_id) if customer.vip_tier_id else None
    # That tier and every higher one: a Gold customer may redeem a Silver reward.
    if required is None or not tiers.at_least(held, required):
        raise CustomerNotEligibleError("This reward needs a higher VIP tier.")


def points_to_spend(rule: RedeemRule, requested: int | None) -> int:
    """The points this redemption costs. Raises ValidationError for a wrong ``points``."""
    if rule.kind is not RedeemRuleKind.VARIABLE_AMOUNT:
        assert rule.points_cost is not None
        # A fixed-cost reward is bought at its price: `points` may only repeat it.
        if requested is not None and requested != rule.points_cost:
            raise ValidationError(errors={"points": [f"This reward costs {rule.points_cost}."]})
        return rule.points_cost
    if requested is None:
        raise ValidationError(errors={"points": ["Choose how many points to redeem."]})
    low, high = rule.min_points or 1, rule.max_points
    step = rule.increment or 1
    if requested < low or (high is not None and requested > high):
        raise ValidationError(errors={"points": [f"Must be between {low} and {high}."]})
    if (requested - low) % step:
        raise ValidationError(errors={"points": [f"Must be {low} plus a multiple of {step}."]})
    return requested


def chosen_variant(rule: RedeemRule, requested: int | None) -> int | None:
    """Raises ValidationError when a free product needs a variant that was not given."""
    if rule.kind is not RedeemRuleKind.FREE_PRODUCT:
        if requested is not None:
            raise ValidationError(errors={"variantId": ["This reward is not a product."]})
        return None
    variants = list(rule.variant_ids or [])
    if requested is None:
        if len(variants) == 1:
            return int(variants[0])
        raise ValidationError(errors={"variantId": ["Choose one of the reward's variants."]})
    if requested not in variants:
        raise ValidationError(errors={"variantId": ["Not one of the reward's variants."]})
    return requested


def reward_amount(rule: RedeemRule, points: int) -> Decimal | None:
    if rule.kind is RedeemRuleKind.VARIABLE_AMOUNT:
        assert rule.points_per_unit
        return (Decimal(points) / rule.points_per_unit).quantize(CENT, rounding=ROUND_DOWN)
    if rule.kind is RedeemRuleKind.FREE_SHIPPING:
        return rule.max_shipping
    if rule.kind is RedeemRuleKind.FREE_PRODUCT:
        return None  # one unit's price, read from Shopify when the code is created
    return rule.value


def claims_of(customer: Customer, rule: RedeemRule, now: datetime) -> Select[int]:
    """How many of this rule's rewards count against its claim limit now."""
    query = select(func.count(Reward.id)).where(
        Reward.customer_id == customer.id,
        Reward.redeem_rule_id == rule.id,
        Reward.status != RewardStatus.REFUNDED,
    )
    window = LIMIT_WINDOWS.get(rule.limit_interval) if rule.limit_interval else None
    if window is not None:
        query = query.where(Reward.created_at > now - window)
    return query


def check_limit(
    session: Session, customer: Customer, rule: RedeemRule, reward: Reward, now: datetime
) -> None:
    """Raises RedeemLimitReachedError.

    Called after the debit: the debit's row lock makes concurrent redemptions of one
    customer take turns, so each counts the others' committed rewards.
    """
    if rule.limit_count is None or rule.limit_interval is None:
        return
    others = claims_of(customer, rule, now).where(Reward.id != reward.id)
    if (session.scalar(others) or 0) >= rule.limit_count:
        raise RedeemLimitReachedError()


def redeem_points(
    session: Session, shop: Shop, customer: Customer, command: RedeemCommand, now: datetime
) -> Reward:
    """Debit the points, append the REDEEMED row, create the reward UNUSED, queue fulfilment.

    Raises RedeemRuleNotFoundError, CustomerNotEligibleError, ValidationError,
    InsufficientPointsError, RedeemLimitReachedError; on any of them the caller's
    transaction must roll back (nothing of the redemption is kept).
    """
    rule = active_rule(session, shop, command.redeem_rule_id)
    check_eligible(session, customer, rule)
    points = points_to_spend(rule, command.points)
    variant_id = chosen_variant(rule, command.variant_id)
    is_credit = rule.kind is RedeemRuleKind.STORE_CREDIT
    amount = reward_amount(rule, points)

    # Written by one INSERT and attached as stored (db_driver), its ledger row's id set by
    # one UPDATE: no ORM flush on the redemption's path.
    reward = insert_as_stored(session, Reward, {
        "shop_id": shop.id, "customer_id": customer.id, "redeem_rule_id": rule.id,
        "point_transaction_id": None, "reward_type": rule.reward_type, "discount_kind": None,
        "description": rule.name, "points": points,
        "discount_code": None if is_credit else generate_code(shop.setting("code_prefix")),
        "discount_code_id": None, "amount": amount, "status": RewardStatus.UNUSED,
        "fulfillment_status": FulfillmentStatus.PENDING, "attempts": 0,
        "failure_reason": None, "first_attempt_at": None, "lease_until": None,
        "expires_at": now + timedelta(days=rule.expires_in_days)
        if rule.expires_in_days else None,
        "used_at": None, "expiry_reminder_days": None, "last_expiry_reminder_sent_at": None,
        "order_id": None, "order_name": None, "variant_id": variant_id,
        "created_at": now, "updated_at": now,
    })
    row = ledger.post(
        session, customer, LedgerKind.REDEEMED, -points, ledger.Source("reward", str(reward.id)),
        note=rule.name,
    )
    check_limit(session, customer, rule, reward, now)
    run_in(session, _LINK_LEDGER_ROW, {"reward": reward.id, "row": row.id, "at": now})
    set_committed_value(reward, "point_transaction_id", row.id)
    if is_credit and amount is not None:
        customer.store_credit_balance = Customer.store_credit_balance + amount
    catalog.emit_reward(session, customer, catalog.REWARD_CREATED, reward)
    outbox.enqueue(session, shop.id, outbox.FULFIL_REWARD, reward.id)
    return reward
