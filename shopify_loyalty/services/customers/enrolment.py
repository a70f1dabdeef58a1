"""Enrolling customers: the first contact, by whatever route, creates them once."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, inspect, select
from sqlalchemy.orm import Session

from shopify_loyalty.db import upsert_insert, utcnow
from shopify_loyalty.db_reuse import transaction_memo
from shopify_loyalty.errors import UnauthorizedError
from shopify_loyalty.models import Customer, Shop
from shopify_loyalty.services.customers import tiers
from shopify_loyalty.services.customers.profiles import apply_profile
from shopify_loyalty.services.customers.referral_codes import with_fresh_code
from shopify_loyalty.services.customers.signup import award_signup
from shopify_loyalty.services.events import catalog
from shopify_loyalty.shopify.webhook_payloads import CustomerProfile


def signed_in(session: Session, domain: str, shopify_customer_id: int) -> tuple[Shop, Customer]:
    """The installed shop and its customer (enrolled on first contact), in one round trip
    when the customer is known. Raises UnauthorizedError for an unknown or uninstalled shop.
    """
    row = session.execute(_SIGNED_IN, {"domain": domain, "customer": shopify_customer_id}).first()
    if row is None or not row[0].installed:
        raise UnauthorizedError("Unknown or uninstalled shop.")
    shop, customer = row
    return shop, customer or enrol(session, shop, shopify_customer_id)


# Built once: every storefront request and every order event runs one of them.
_SIGNED_IN = (
    select(Shop, Customer)
    .outerjoin(Customer, and_(Customer.shop_id == Shop.id,
                              Customer.shopify_customer_id == bindparam("customer")))
    .where(Shop.domain == bindparam("domain"))
)
_FIND = select(Customer).where(Customer.shop_id == bindparam("shop"),
                               Customer.shopify_customer_id == bindparam("customer"))
_FIND_LOCKED = _FIND.with_for_update().execution_options(populate_existing=True)


def find_customer(session: Session, shop: Shop, shopify_customer_id: int,
                  lock: bool = False) -> Customer | None:
    """The shop's customer with this Shopify id; ``lock``: locked until commit and freshly
    read."""
    return session.scalars(_FIND_LOCKED if lock else _FIND,
                           {"shop": shop.id, "customer": shopify_customer_id}).first()


def enrol(
    session: Session, shop: Shop, shopify_customer_id: int,
    profile: CustomerProfile | None = None, lock: bool = False,
) -> Customer:
    """The shop's customer with this Shopify id, created ACTIVE on first contact.

    Concurrent first contacts create one row: the insert skips on the unique key, and only
    the call that inserted it applies ``profile`` (so exclusion tags count), awards the
    sign-up points and gives the tier they reach. The new customer has a referral code
    (services.customers.referral_codes). ``lock``: the row is locked until commit and read
    fresh (as ``pending.lock_customer``) in the same round trip. Raises
    InsufficientPointsError only if the ledger is inconsistent.
    """
    known = transaction_memo(session, "enrolled")
    key = (shop.id, shopify_customer_id)
    # An order's events ask for its customer twice in one transaction: the second time is
    # answered with the object the first one loaded (held here: the session's identity map
    # lets go of unchanged objects), unless it was deleted since.
    customer = None if lock else known.get(key)
    if customer is None or not inspect(customer).persistent:
        customer = find_customer(session, shop, shopify_customer_id, lock)
    if customer is not None:
        known[key] = customer
        return customer
    inserted = with_fresh_code(session, lambda code: session.execute(
        upsert_insert(session, Customer)
        .values(shop_id=shop.id, shopify_customer_id=shopify_customer_id, referral_code=code)
        .on_conflict_do_nothing(index_elements=["shop_id", "shopify_customer_id"])
        .returning(Customer.id)
    ).first())
    customer = find_customer(session, shop, shopify_customer_id, lock)
    assert customer is not None
    known[key] = customer
    if inserted is not None:
        if profile is not None:
            apply_profile(shop, customer, profile)
        catalog.emit(session, customer, catalog.CUSTOMER_ENROLLED)
        now = utcnow()
        award_signup(session, shop, customer, now)
        # A tier with threshold 0 (or one the sign-up points reach) is theirs from the start.
        tiers.upgrade(session, shop, customer, now)
    return customer
