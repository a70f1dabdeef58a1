"""Keeping a customer's profile in step with Shopify: email, names, tags, exclusion."""

from __future__ import annotations

from shopify_loyalty.models import Customer, CustomerStatus, Shop
from shopify_loyalty.shopify.webhook_payloads import CustomerProfile


def is_excluded_by_tags(shop: Shop, tags: list[str]) -> bool:
    """Shopify tags are case-insensitive (``VIP`` and ``vip`` are one tag)."""
    excluded = {tag.lower() for tag in shop.setting("exclusion_tags") or []}
    return any(tag.lower() in excluded for tag in tags)


def apply_profile(shop: Shop, customer: Customer, profile: CustomerProfile) -> None:
    """Copy Shopify's profile and apply the shop's exclusion tags.

    An exclusion tag makes an ACTIVE or INACTIVE customer EXCLUDED; removing it makes an
    EXCLUDED customer ACTIVE again. A customer who opted out (EXCLUDED_BY_CUSTOMER) stays
    out whatever the tags say: that was their choice, not the merchant's.

    Webhooks arrive out of order: a profile older than the one applied last is ignored.
    """
    seen = customer.profile_updated_at
    if profile.updated_at is not None and seen is not None and profile.updated_at < seen:
        return
    if profile.updated_at is not None:
        customer.profile_updated_at = profile.updated_at
    customer.email = profile.email
    customer.first_name = profile.first_name
    customer.last_name = profile.last_name
    customer.tags = list(profile.tags)
    excluded = is_excluded_by_tags(shop, profile.tags)
    if excluded and customer.status in (CustomerStatus.ACTIVE, CustomerStatus.INACTIVE):
        customer.status = CustomerStatus.EXCLUDED
    elif not excluded and customer.status is CustomerStatus.EXCLUDED:
        customer.status = CustomerStatus.ACTIVE
