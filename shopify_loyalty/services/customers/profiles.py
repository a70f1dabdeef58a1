"""Keeping a customer's profile in step with Shopify: email, names, tags, exclusion, and
what referrals need to know (their addresses, their first paid order)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from shopify_loyalty.models import Customer, CustomerStatus, Shop
from shopify_loyalty.services.customers.identity import address_key
from shopify_loyalty.shopify.webhook_payloads import CustomerProfile, PostalAddress

# The address keys kept per customer (the newest ones): a customer ships to a few places.
MAX_ADDRESS_KEYS = 10


def is_excluded_by_tags(shop: Shop, tags: list[str]) -> bool:
    """Shopify tags are case-insensitive (``VIP`` and ``vip`` are one tag)."""
    excluded = {tag.lower() for tag in shop.setting("exclusion_tags") or []}
    return any(tag.lower() in excluded for tag in tags)


def apply_profile(shop: Shop, customer: Customer, profile: CustomerProfile) -> None:
    """Copy Shopify's profile and apply the shop's exclusion tags.

    An exclusion tag makes an ACTIVE or INACTIVE customer EXCLUDED; removing it makes an
    EXCLUDED customer ACTIVE again. A customer who opted out (EXCLUDED_BY_CUSTOMER) stays
    out whatever the tags say: that was their choice, not the merchant's.

    Webhooks arrive out of order: a profile older than the one applied last is ignored
    (its address is still remembered: it was the customer's).
    """
    remember_address(customer, profile.default_address)
    seen = customer.profile_updated_at
    if profile.updated_at is not None and seen is not None and profile.updated_at < seen:
        return
    if profile.updated_at is not None:
        customer.profile_updated_at = profile.updated_at
    customer.email = profile.email
    customer.first_name = profile.first_name
    customer.last_name = profile.last_name
    if profile.tags is not None:  # no tags in the payload (API 2025-01 on): keep ours
        customer.tags = list(profile.tags)
        apply_exclusion(shop, customer)


def apply_tag_change(shop: Shop, customer: Customer, tags: list[str], added: bool) -> None:
    """Tags added to or removed from the customer in Shopify (the tag topics of API 2025-01
    on), with the shop's exclusion tags applied to the result."""
    known = {tag.lower(): tag for tag in customer.tags or []}
    for tag in tags:
        if added:
            known.setdefault(tag.lower(), tag)
        else:
            known.pop(tag.lower(), None)
    customer.tags = sorted(known.values(), key=str.lower)
    apply_exclusion(shop, customer)


def apply_exclusion(shop: Shop, customer: Customer) -> None:
    """An exclusion tag makes an ACTIVE or INACTIVE customer EXCLUDED, its removal an
    EXCLUDED one ACTIVE; EXCLUDED_BY_CUSTOMER stays (the customer's own choice)."""
    excluded = is_excluded_by_tags(shop, list(customer.tags or []))
    if excluded and customer.status in (CustomerStatus.ACTIVE, CustomerStatus.INACTIVE):
        customer.status = CustomerStatus.EXCLUDED
    elif not excluded and customer.status is CustomerStatus.EXCLUDED:
        customer.status = CustomerStatus.ACTIVE


def remember_address(customer: Customer, address: PostalAddress | None) -> None:
    """Keep the address's key (services.customers.identity) among the customer's."""
    key = address_key(address)
    known = list(customer.address_keys or [])
    if key is None or key in known:
        return
    customer.address_keys = [*known, key][-MAX_ADDRESS_KEYS:]


def remember_paid_order(session: Session, customer: Customer, order_id: int) -> bool:
    """Note the customer's first paid order; True when ``order_id`` is it.

    Conditional, so of two orders paid at once exactly one is the first. Orders paid before
    the app was installed are unknown here: the first one we see counts as the first.
    """
    if customer.first_paid_order_id is None:
        first = session.execute(
            update(Customer)
            .where(Customer.id == customer.id, Customer.first_paid_order_id.is_(None))
            .values(first_paid_order_id=order_id)
            .returning(Customer.first_paid_order_id)
            .execution_options(synchronize_session=False)
        ).scalar()
        if first is None:
            session.refresh(customer, ["first_paid_order_id"])
        else:
            set_committed_value(customer, "first_paid_order_id", first)
    return customer.first_paid_order_id == order_id
