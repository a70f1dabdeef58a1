"""How customers earn points: the merchant's earn rules (a purchase, signing up)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.errors import NotFoundError, ValidationError
from shopify_loyalty.models import EarnRule, EarnRuleKind, Shop
from shopify_loyalty.services.program.changes import apply_changes

# Longer than any return window; a rule asking more is a typo.
MAX_PENDING_DAYS = 365


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
    active: bool = True


def _errors(spec: EarnRuleSpec) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if spec.kind is EarnRuleKind.PURCHASE:
        if (spec.points_per_unit or 0) <= 0:
            errors["pointsPerUnit"] = ["Points earned per currency unit: a positive number."]
        if spec.points is not None:
            errors["points"] = ["A purchase earns per unit: use pointsPerUnit."]
    if spec.kind is EarnRuleKind.SIGNUP:
        if (spec.points or 0) <= 0:
            errors["points"] = ["Points for signing up: a positive number."]
        for name, value in (("pointsPerUnit", spec.points_per_unit),
                            ("minOrder", spec.min_order)):
            if value is not None:
                errors[name] = ["Only for PURCHASE rules."]
        if spec.include_shipping or spec.include_tax:
            errors["includeShipping"] = ["Only for PURCHASE rules."]
    if spec.min_order is not None and spec.min_order < 0:
        errors["minOrder"] = ["Not negative."]
    if not 0 <= spec.pending_days <= MAX_PENDING_DAYS:
        errors["pendingDays"] = [f"From 0 to {MAX_PENDING_DAYS} days."]
    return errors


def create_earn_rule(session: Session, shop: Shop, spec: EarnRuleSpec) -> EarnRule:
    """Raises ValidationError."""
    errors = _errors(spec)
    if errors:
        raise ValidationError(errors=errors)
    rule = EarnRule(shop_id=shop.id, **asdict(spec))
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
    rule = apply_changes(earn_rule(session, shop, rule_id), EarnRuleSpec, _errors, changes)
    session.flush()
    return rule


def deactivate_earn_rule(session: Session, shop: Shop, rule_id: int) -> EarnRule:
    """Rules are never deleted: ledger rows name them. Raises NotFoundError."""
    rule = earn_rule(session, shop, rule_id)
    rule.active = False
    return rule


def active_rule(session: Session, shop: Shop, kind: EarnRuleKind) -> EarnRule | None:
    """The shop's rule of this kind that applies now: the newest active one.

    A merchant who adds a rule means it to apply from now on; the older ones stay listed
    until deactivated, and a program never earns twice for one purchase.
    """
    return session.scalars(
        select(EarnRule)
        .where(EarnRule.shop_id == shop.id, EarnRule.kind == kind, EarnRule.active.is_(True))
        .order_by(EarnRule.id.desc())
        .limit(1)
    ).first()
