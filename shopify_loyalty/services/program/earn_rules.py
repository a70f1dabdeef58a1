"""How customers earn points: the merchant's earn rules (a purchase, signing up, an action
such as a birthday, a newsletter or a follow, a referral)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.errors import NotFoundError, ValidationError
from shopify_loyalty.models import EarnRule, EarnRuleKind, RedeemRuleKind, Shop
from shopify_loyalty.services.program.changes import apply_changes
from shopify_loyalty.services.program_cache import program_rows

# Longer than any return window; a rule asking more is a typo.
MAX_PENDING_DAYS = 365
# The networks a customer can follow or share on (design: one rule per network). X is
# Twitter's new name: a follow rule for "x" is a follow rule for "twitter".
FOLLOW_NETWORKS = ("facebook", "instagram", "tiktok", "twitter", "pinterest", "youtube")
SHARE_NETWORKS = ("facebook", "x")
NETWORK_ALIASES = {EarnRuleKind.SOCIAL_FOLLOW: {"x": "twitter"}}
NETWORKS = {EarnRuleKind.SOCIAL_FOLLOW: FOLLOW_NETWORKS, EarnRuleKind.SOCIAL_SHARE: SHARE_NETWORKS}
REFEREE_KINDS = (RedeemRuleKind.FIXED_AMOUNT, RedeemRuleKind.PERCENTAGE)


@dataclass
class EarnRuleSpec:
    kind: EarnRuleKind
    name: str | None = None
    points: int | None = None
    points_per_unit: int | None = None
    min_order: Decimal | None = None
    include_shipping: bool = False
    include_tax: bool = False
    pending_days: int = 0
    network: str | None = None
    referee_value: Decimal | None = None
    referee_kind: RedeemRuleKind | None = None
    active: bool = True


def network_of(kind: EarnRuleKind, network: str | None) -> str | None:
    """The network as stored: lower-case, aliases resolved (None stays None)."""
    if network is None:
        return None
    name = network.strip().lower()
    return NETWORK_ALIASES.get(kind, {}).get(name, name)


def _errors(spec: EarnRuleSpec) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if spec.kind is EarnRuleKind.PURCHASE:
        if (spec.points_per_unit or 0) <= 0:
            errors["pointsPerUnit"] = ["Points earned per currency unit: a positive number."]
        if spec.points is not None:
            errors["points"] = ["A purchase earns per unit: use pointsPerUnit."]
    else:
        errors.update(_fixed_points_errors(spec))
    if spec.kind in NETWORKS:
        if network_of(spec.kind, spec.network) not in NETWORKS[spec.kind]:
            errors["network"] = [f"One of {', '.join(NETWORKS[spec.kind])}."]
    elif spec.network is not None:
        errors["network"] = ["Only for SOCIAL_FOLLOW and SOCIAL_SHARE rules."]
    errors.update(_referee_errors(spec))
    if spec.min_order is not None and spec.min_order < 0:
        errors["minOrder"] = ["Not negative."]
    if not 0 <= spec.pending_days <= MAX_PENDING_DAYS:
        errors["pendingDays"] = [f"From 0 to {MAX_PENDING_DAYS} days."]
    return errors


def _fixed_points_errors(spec: EarnRuleSpec) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if (spec.points or 0) <= 0:
        errors["points"] = [f"Points for {spec.kind.value}: a positive number."]
    for name, value in (("pointsPerUnit", spec.points_per_unit), ("minOrder", spec.min_order)):
        if value is not None:
            errors[name] = ["Only for PURCHASE rules."]
    if spec.include_shipping or spec.include_tax:
        errors["includeShipping"] = ["Only for PURCHASE rules."]
    return errors


def _referee_errors(spec: EarnRuleSpec) -> dict[str, list[str]]:
    if spec.kind is not EarnRuleKind.REFERRAL:
        if spec.referee_value is not None or spec.referee_kind is not None:
            return {"refereeValue": ["Only for REFERRAL rules."]}
        return {}
    errors: dict[str, list[str]] = {}
    if spec.referee_kind not in REFEREE_KINDS:
        errors["refereeKind"] = ["FIXED_AMOUNT or PERCENTAGE: what the friend's code gives."]
    value = spec.referee_value
    if value is None or value <= 0:
        errors["refereeValue"] = ["The friend's discount: a positive amount or percentage."]
    elif spec.referee_kind is RedeemRuleKind.PERCENTAGE and value > 100:
        errors["refereeValue"] = ["A percentage is at most 100."]
    return errors


def create_earn_rule(session: Session, shop: Shop, spec: EarnRuleSpec) -> EarnRule:
    """Raises ValidationError."""
    errors = _errors(spec)
    if errors:
        raise ValidationError(errors=errors)
    rule = EarnRule(shop_id=shop.id, **{**asdict(spec),
                                        "network": network_of(spec.kind, spec.network)})
    session.add(rule)
    session.flush()
    return rule


def earn_rules(session: Session, shop: Shop, active_only: bool = False) -> Sequence[EarnRule]:
    query = select(EarnRule).where(EarnRule.shop_id == shop.id)
    if active_only:
        query = query.where(EarnRule.active.is_(True))
    return session.scalars(query.order_by(EarnRule.id)).all()


def earn_rule(session: Session, shop: Shop, rule_id: int) -> EarnRule:
    """Raises NotFoundError (another shop's rule too)."""
    rule = session.get(EarnRule, rule_id)
    if rule is None or rule.shop_id != shop.id:
        raise NotFoundError("No such earn rule.")
    return rule


def update_earn_rule(session: Session, shop: Shop, rule_id: int,
                     changes: dict[str, Any]) -> EarnRule:
    """Raises NotFoundError, ValidationError (the kind cannot change)."""
    rule = earn_rule(session, shop, rule_id)
    if changes.get("network") is not None:
        changes = {**changes, "network": network_of(rule.kind, changes["network"])}
    apply_changes(rule, EarnRuleSpec, _errors, changes)
    session.flush()
    return rule


def deactivate_earn_rule(session: Session, shop: Shop, rule_id: int) -> EarnRule:
    """Rules are never deleted: ledger rows name them. Raises NotFoundError."""
    rule = earn_rule(session, shop, rule_id)
    rule.active = False
    return rule


def active_rule(session: Session, shop: Shop, kind: EarnRuleKind,
                network: str | None = None) -> EarnRule | None:
    """The shop's rule of this kind (and network, for social rules) that applies now: the
    newest active one.

    A merchant who adds a rule means it to apply from now on; the older ones stay listed
    until deactivated, and a program never earns twice for one purchase. To read only
    (services.program_cache).
    """
    query = select(EarnRule).where(
        EarnRule.shop_id == shop.id, EarnRule.kind == kind, EarnRule.active.is_(True)
    )
    if network is not None:
        query = query.where(EarnRule.network == network_of(kind, network))
    key = f"earn_rule {kind.value} {network_of(kind, network)}"  # the networks are few
    found = program_rows(session, shop.id, key, lambda: list(
        session.scalars(query.order_by(EarnRule.id.desc()).limit(1))))
    return found[0] if found else None
