"""ORM rows to the storefront API's camelCase shapes (dumped by api.schemas)."""

from __future__ import annotations

from typing import Any

from shopify_loyalty.api.context import settings
from shopify_loyalty.api.schemas import LoyaltyInfoSchema, RewardSchema, TransactionSchema
from shopify_loyalty.models import Customer, PointTransaction, RedeemRule, Reward, Shop, VipTier
from shopify_loyalty.services.customers.portal import LoyaltyInfo, RedeemOption
from shopify_loyalty.services.customers.tiers import TierStatus
from shopify_loyalty.services.shops import links

_loyalty_schema = LoyaltyInfoSchema()
_reward_schema = RewardSchema()
_transaction_schema = TransactionSchema()
_REWARDED_FOR = [n for n in LoyaltyInfoSchema._declared_fields if n.startswith("rewardedFor")]


def reward(row: Reward, shop_domain: str, shopify_customer_id: int | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "shop": shop_domain,
        "customerId": shopify_customer_id,
        "description": row.description,
        "points": row.points,
        "pointTransactionId": row.point_transaction_id,
        "pointRedeemRuleId": row.redeem_rule_id,
        "discountCode": row.discount_code,
        "discountCodeId": row.discount_code_id,
        "usedAt": row.used_at,
        "orderId": row.order_id,
        "orderName": row.order_name,
        "status": row.status.value,
        "expireDate": row.expires_at,
        "variantId": row.variant_id,
        "amount": row.amount,
        "rewardType": row.reward_type.value,
        "fulfillmentStatus": row.fulfillment_status.value,
        "failureReason": row.failure_reason,
        "createdAt": row.created_at,
        "lastExpiryReminderSentDate": row.last_expiry_reminder_sent_at,
    }


def dump_rewards(rows: list[Reward], shop_domain: str, shopify_customer_id: int) -> Any:
    return _reward_schema.dump(
        [reward(r, shop_domain, shopify_customer_id) for r in rows], many=True
    )


def loyalty_info(info: LoyaltyInfo) -> Any:
    customer = info.customer
    flags = {**(customer.rewarded_for or {}), "creatingaccount": customer.signup_rewarded}
    body: dict[str, Any] = {
        "customerId": customer.shopify_customer_id,
        "availablePoints": customer.available_points,
        "pendingPoints": customer.pending_points,
        "creditedPoints": customer.credited_points,
        "spentPoints": customer.spent_points,
        "spentAmount": customer.spent_amount,
        "storeCreditBalance": customer.store_credit_balance,
        "achievableTierId": info.tier.next_tier.id if info.tier.next_tier else None,
        "currentVipTier": info.tier.held.name if info.tier.held else None,
        "vipTierExpiredAt": customer.vip_tier_expires_at,
        "tierProgress": tier_progress(info.tier),
        "createAt": customer.created_at,
        "customerStatus": customer.status.value,
        "dob": customer.dob,
        "referredCompleted": customer.referred_completed,
        "referralLink": referral_link(info.shop, customer),
        "pointsExpiringNext": None if info.points_expiring_next is None else {
            "points": info.points_expiring_next.points, "at": info.points_expiring_next.at},
        "rewards": [
            reward(r, info.shop.domain, customer.shopify_customer_id) for r in info.rewards
        ],
    }
    for name in _REWARDED_FOR:
        body[name] = bool(flags.get(name[len("rewardedFor"):].lower(), False))
    return _loyalty_schema.dump(body)


def referral_link(shop: Shop, customer: Customer) -> str | None:
    if not customer.referral_code:
        return None
    return links.referral_link(settings().app_url, shop.domain, customer.referral_code)


def tier_progress(status: TierStatus) -> dict[str, Any] | None:
    """None when the shop offers no tier."""
    if status.current is None:
        return None
    return {
        "metric": status.metric.value,
        "current": status.current,
        "nextTierId": status.next_tier.id if status.next_tier else None,
        "neededForNext": status.needed_for_next,
    }


def vip_tier(tier: VipTier) -> dict[str, Any]:
    """A tier as the storefront shows it (the admin adds ``active``)."""
    return {
        "id": tier.id,
        "name": tier.name,
        "threshold": tier.threshold,
        "earnMultiplier": tier.earn_multiplier,
        "entryPoints": tier.entry_points,
        "perks": tier.perks,
    }


def transactions(rows: list[PointTransaction]) -> Any:
    return _transaction_schema.dump(
        [
            {
                "id": row.id,
                "points": row.points,
                "kind": row.kind.value,
                "status": row.status.value,
                "availableAfter": row.available_after,
                "description": row.note,
                "sourceType": row.source_type,
                "sourceId": row.source_id,
                "createdAt": row.created_at,
            }
            for row in rows
        ],
        many=True,
    )


def redeem_rule(rule: RedeemRule) -> dict[str, Any]:
    """The rule's own settings, as the storefront and the CLI show them."""
    return {
        "id": rule.id,
        "name": rule.name,
        "description": rule.description,
        "kind": rule.kind.value,
        "rewardType": rule.reward_type.value,
        "pointsCost": rule.points_cost,
        "value": rule.value,
        "maxShipping": rule.max_shipping,
        "minSubtotal": rule.min_subtotal,
        "expiresInDays": rule.expires_in_days,
        "variantIds": rule.variant_ids or [],
        "productIds": rule.product_ids or [],
        "collectionIds": rule.collection_ids or [],
        "pointsPerUnit": rule.points_per_unit,
        "minPoints": rule.min_points,
        "maxPoints": rule.max_points,
        "increment": rule.increment,
        "combinesWith": rule.combines_with or [],
        "limitCount": rule.limit_count,
        "limitInterval": rule.limit_interval.value if rule.limit_interval else None,
        "requiredTierId": rule.required_tier_id,
        "active": rule.active,
    }


def redeem_option(option: RedeemOption) -> dict[str, Any]:
    body = redeem_rule(option.rule)
    body.pop("active")
    body.update(
        pointsCost=option.points_cost,
        canRedeem=option.can_redeem,
        unavailableReason=option.unavailable_reason,
    )
    return body
