"""What a point is worth in the shop's currency: the merchant's ``point_value`` setting, or
else the best rate the active rules offer.

Only the rules that turn points into an amount of money give a rate: a fixed amount off or
a store credit (value / points cost) and a variable amount (1 / points per unit). Percent
off, free shipping and free products have no fixed worth, so they are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from shopify_loyalty.models import RedeemRule, RedeemRuleKind, Shop

# Six places: a rate such as $5 for 300 points (0.016667) keeps four significant digits.
RATE_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class PointValue:
    rate: Decimal | None  # currency per point; None when nothing gives one
    source: Literal["setting", "rules", "none"]


def rule_rate(rule: RedeemRule) -> Decimal | None:
    """The currency one point buys through this rule, or None for kinds without a fixed worth."""
    if rule.kind in (RedeemRuleKind.FIXED_AMOUNT, RedeemRuleKind.STORE_CREDIT):
        if rule.value and rule.points_cost:
            return (rule.value / rule.points_cost).quantize(RATE_PLACES, ROUND_HALF_EVEN)
    if rule.kind is RedeemRuleKind.VARIABLE_AMOUNT and rule.points_per_unit:
        return (Decimal(1) / rule.points_per_unit).quantize(RATE_PLACES, ROUND_HALF_EVEN)
    return None


def point_value(shop: Shop, rules: Iterable[RedeemRule]) -> PointValue:
    """The ``point_value`` setting when set, else the best rate of the active ``rules``."""
    setting = shop.setting("point_value")
    if setting is not None:
        return PointValue(Decimal(setting), "setting")
    rates = [rate for rule in rules if rule.active and (rate := rule_rate(rule)) is not None]
    return PointValue(max(rates), "rules") if rates else PointValue(None, "none")
