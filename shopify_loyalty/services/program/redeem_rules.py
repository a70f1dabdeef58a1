"""The merchant's redeem rules: what customers can buy with points, and at what cost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.errors import NotFoundError, ValidationError
from shopify_loyalty.models import (
    LimitInterval,
    RedeemRule,
    RedeemRuleKind,
    Shop,
    VipTier,
)
from shopify_loyalty.services.program.changes import apply_changes

COMBINES_WITH = ("order", "product", "shipping")


@dataclass
class RedeemRuleSpec:
    name: str
    kind: RedeemRuleKind
    points_cost: int | None = None
    value: Decimal | None = None
    description: str | None = None
    min_subtotal: Decimal | None = None
    expires_in_days: int | None = None
    variant_ids: list[int] = field(default_factory=list)
    product_ids: list[int] = field(default_factory=list)
    collection_ids: list[int] = field(default_factory=list)
    points_per_unit: int | None = None
    min_points: int | None = None
    max_points: int | None = None
    increment: int | None = None
    max_shipping: Decimal | None = None
    limit_count: int | None = None
    limit_interval: LimitInterval | None = None
    required_tier_id: int | None = None
    combines_with: list[str] = field(default_factory=list)
    active: bool = True


def _rule_errors(spec: RedeemRuleSpec) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def need(name: str, ok: bool, message: str) -> None:
        if not ok:
            errors.setdefault(name, []).append(message)

    kind = spec.kind
    need("name", bool(spec.name.strip()), "Required.")
    variable = kind is RedeemRuleKind.VARIABLE_AMOUNT
    need("pointsCost", variable or (spec.points_cost or 0) > 0, "A positive points cost.")
    if kind in (RedeemRuleKind.FIXED_AMOUNT, RedeemRuleKind.STORE_CREDIT):
        need("value", spec.value is not None and spec.value > 0, "A positive amount.")
    if kind is RedeemRuleKind.PERCENTAGE:
        need("value", spec.value is not None and 0 < spec.value <= 100, "A percent in (0, 100].")
    if kind is RedeemRuleKind.FREE_PRODUCT:
        need("variantIds", bool(spec.variant_ids), "At least one variant.")
    if variable:
        need("pointsPerUnit", (spec.points_per_unit or 0) > 0, "Points that buy one unit.")
        low, high = spec.min_points or 0, spec.max_points
        need("minPoints", low > 0, "A positive minimum.")
        need("maxPoints", high is None or high >= low, "At least the minimum.")
        need("increment", spec.increment is None or spec.increment > 0, "Positive.")
    for name, number in (("minSubtotal", spec.min_subtotal), ("maxShipping", spec.max_shipping)):
        need(name, number is None or number >= 0, "Not negative.")
    need("expiresInDays", spec.expires_in_days is None or spec.expires_in_days > 0, "Positive.")
    need("limitCount", spec.limit_count is None or spec.limit_count > 0, "Positive.")
    need("limitInterval", (spec.limit_count is None) == (spec.limit_interval is None),
         "Give both a count and an interval, or neither.")
    need("combinesWith", set(spec.combines_with) <= set(COMBINES_WITH),
         f"Any of {', '.join(COMBINES_WITH)}.")
    for name, ids in (("variantIds", spec.variant_ids), ("productIds", spec.product_ids),
                      ("collectionIds", spec.collection_ids)):
        need(name, all(isinstance(i, int) and i > 0 for i in ids), "Shopify ids.")
    return errors


def _tier_errors(session: Session, shop: Shop, tier_id: int | None) -> dict[str, list[str]]:
    """A tier id that names no tier of this shop is refused here, as assigning one to a
    customer is (services.customers.tiers), not by a foreign key at commit."""
    if tier_id is not None:
        tier = session.get(VipTier, tier_id)
        if tier is None or tier.shop_id != shop.id:
            return {"requiredTierId": ["No such VIP tier in this shop."]}
    return {}


def create_redeem_rule(session: Session, shop: Shop, spec: RedeemRuleSpec) -> RedeemRule:
    """Raises ValidationError for a rule that could not be redeemed or fulfilled,
    or a required tier the shop does not have."""
    errors = {**_rule_errors(spec), **_tier_errors(session, shop, spec.required_tier_id)}
    if errors:
        raise ValidationError(errors=errors)
    values = asdict(spec)
    if spec.kind is RedeemRuleKind.VARIABLE_AMOUNT:
        values["points_cost"] = None
    rule = RedeemRule(shop_id=shop.id, **values)
    session.add(rule)
    session.flush()
    return rule


def redeem_rules(session: Session, shop: Shop) -> Sequence[RedeemRule]:
    return session.scalars(
        select(RedeemRule).where(RedeemRule.shop_id == shop.id).order_by(RedeemRule.id)
    ).all()


def redeem_rule(session: Session, shop: Shop, rule_id: int) -> RedeemRule:
    """The shop's rule, active or not. Raises NotFoundError (another shop's rule too)."""
    rule = session.get(RedeemRule, rule_id)
    if rule is None or rule.shop_id != shop.id:
        raise NotFoundError("No such redeem rule.")
    return rule


def update_redeem_rule(session: Session, shop: Shop, rule_id: int,
                       changes: dict[str, Any]) -> RedeemRule:
    """Change some of a rule's settings (not its kind: rewards already refer to it).

    ``changes`` holds RedeemRuleSpec field names. Raises NotFoundError,
    ValidationError (a tier the shop does not have too).
    """
    rule = redeem_rule(session, shop, rule_id)
    errors = _tier_errors(session, shop, changes.get("required_tier_id"))
    if errors:
        raise ValidationError(errors=errors)
    rule = apply_changes(rule, RedeemRuleSpec, _rule_errors, changes)
    session.flush()
    return rule


def deactivate_redeem_rule(session: Session, shop: Shop, rule_id: int) -> RedeemRule:
    """Rules are never deleted: their rewards keep pointing at them. Raises NotFoundError."""
    rule = redeem_rule(session, shop, rule_id)
    rule.active = False
    return rule
