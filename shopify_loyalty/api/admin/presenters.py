"""ORM rows and request bodies to and from the admin API's camelCase shapes."""

from __future__ import annotations

import re
from typing import Any

from shopify_loyalty.api import presenters
from shopify_loyalty.api.admin.schemas import CustomerDetailSchema
from shopify_loyalty.models import (
    ApiKey,
    Customer,
    EarnRule,
    EarnRuleKind,
    LimitInterval,
    RedeemRuleKind,
    Reward,
)
from shopify_loyalty.services.customers.admin import CustomerDetail

_detail_schema = CustomerDetailSchema(exclude=("transactions",))
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def _changes(body: dict[str, Any], kind_enum: type) -> dict[str, Any]:
    changes = {snake(k): v for k, v in body.items()}
    if changes.get("kind") is not None:
        changes["kind"] = kind_enum(changes["kind"])
    if changes.get("referee_kind") is not None:
        changes["referee_kind"] = RedeemRuleKind(changes["referee_kind"])
    if changes.get("limit_interval") is not None:
        changes["limit_interval"] = LimitInterval(changes["limit_interval"])
    return changes


def redeem_rule_changes(body: dict[str, Any]) -> dict[str, Any]:
    """``pointsCost`` → ``points_cost`` …, enums as enums (RedeemRuleSpec's names)."""
    return _changes(body, RedeemRuleKind)


def earn_rule_changes(body: dict[str, Any]) -> dict[str, Any]:
    return _changes(body, EarnRuleKind)


def tier_changes(body: dict[str, Any]) -> dict[str, Any]:
    """``earnMultiplier`` → ``earn_multiplier`` … (TierSpec's names)."""
    return {snake(k): v for k, v in body.items()}


def earn_rule(rule: EarnRule) -> dict[str, Any]:
    return {
        "id": rule.id, "kind": rule.kind.value, "name": rule.name, "points": rule.points,
        "pointsPerUnit": rule.points_per_unit, "minOrder": rule.min_order,
        "includeShipping": rule.include_shipping, "includeTax": rule.include_tax,
        "pendingDays": rule.pending_days, "network": rule.network,
        "refereeValue": rule.referee_value,
        "refereeKind": rule.referee_kind.value if rule.referee_kind else None,
        "active": rule.active,
    }


def customer(row: Customer) -> dict[str, Any]:
    return {
        "customerId": row.shopify_customer_id, "email": row.email,
        "firstName": row.first_name, "lastName": row.last_name, "tags": row.tags or [],
        "customerStatus": row.status.value, "availablePoints": row.available_points,
        "pendingPoints": row.pending_points, "creditedPoints": row.credited_points,
        "spentPoints": row.spent_points, "spentAmount": row.spent_amount,
        "storeCreditBalance": row.store_credit_balance, "createdAt": row.created_at,
        "dob": row.dob, "referralCode": row.referral_code,
        "referredCompleted": row.referred_completed,
        "vipTierId": row.vip_tier_id, "vipTierExpiredAt": row.vip_tier_expires_at,
    }


def customer_detail(detail: CustomerDetail, shop_domain: str) -> Any:
    body = customer(detail.customer)
    shopify_id = detail.customer.shopify_customer_id
    body["rewards"] = [presenters.reward(r, shop_domain, shopify_id) for r in detail.rewards]
    body["tierProgress"] = presenters.tier_progress(detail.tier)
    dumped = _detail_schema.dump(body)
    dumped["transactions"] = presenters.transactions(list(detail.ledger))  # dumped already
    return dumped


def rewards(rows: list[Reward], shop_domain: str, shopify_ids: dict[int, int]) -> list[Any]:
    return [presenters.reward(r, shop_domain,
                              shopify_ids.get(r.customer_id) if r.customer_id else None)
            for r in rows]


def api_key(row: ApiKey) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "hint": row.key_hint,
            "createdAt": row.created_at, "revokedAt": row.revoked_at}
