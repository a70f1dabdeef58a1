"""The merchant's view of customers: search, detail, exclusion, tier (adjustments.py: points).

Admin and external callers never create customers here (a customer enrols through the
storefront, a webhook or an import), so an id the shop does not know, another shop's
customer included, is a 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from shopify_loyalty.errors import (
    ConflictError,
    NotFoundError,
)
from shopify_loyalty.models import (
    Customer,
    CustomerStatus,
    PointTransaction,
    Reward,
    Shop,
)
from shopify_loyalty.services.customers import portal, tiers
from shopify_loyalty.services.paging import Page, page_of
from shopify_loyalty.services.points.pending import lock_customer

DETAIL_LEDGER_ROWS = 20


@dataclass(frozen=True)
class CustomerDetail:
    customer: Customer
    rewards: Sequence[Reward]
    ledger: Sequence[PointTransaction]
    tier: tiers.TierStatus


def known_customer(session: Session, shop: Shop, shopify_customer_id: int) -> Customer:
    """Raises NotFoundError."""
    customer = session.scalars(select(Customer).where(
        Customer.shop_id == shop.id, Customer.shopify_customer_id == shopify_customer_id
    )).first()
    if customer is None:
        raise NotFoundError("No such customer in this shop.")
    return customer


def customer_by_email(session: Session, shop: Shop, email: str) -> Customer:
    """Raises NotFoundError."""
    customer = session.scalars(select(Customer).where(
        Customer.shop_id == shop.id, func.lower(Customer.email) == email.strip().lower()
    ).order_by(Customer.id)).first()
    if customer is None:
        raise NotFoundError("No customer with that email in this shop.")
    return customer


def search(session: Session, shop: Shop, email: str | None, q: str | None,
           page: int, size: int) -> Page[Customer]:
    query = select(Customer).where(Customer.shop_id == shop.id)
    if email:
        query = query.where(func.lower(Customer.email) == email.strip().lower())
    if q:
        like = f"%{q.strip().lower()}%"
        query = query.where(or_(
            func.lower(Customer.email).like(like),
            func.lower(Customer.first_name).like(like),
            func.lower(Customer.last_name).like(like),
            cast(Customer.shopify_customer_id, String).like(like),
        ))
    return page_of(session, query.order_by(Customer.id.desc()), page, size)


def detail(session: Session, shop: Shop, shopify_customer_id: int) -> CustomerDetail:
    """Balances, tier and progress, rewards (every UNUSED one and the recent others) and the
    latest ledger rows.

    Raises NotFoundError."""
    customer = known_customer(session, shop, shopify_customer_id)
    info = portal.loyalty_info(session, shop, customer)
    rows = portal.ledger_page(session, customer, 0, DETAIL_LEDGER_ROWS).items
    return CustomerDetail(customer, info.rewards, rows, info.tier)


def ledger(session: Session, shop: Shop, shopify_customer_id: int, page: int,
           size: int) -> Page[PointTransaction]:
    """One page of the customer's ledger, newest first. Raises NotFoundError."""
    return portal.ledger_page(session, known_customer(session, shop, shopify_customer_id),
                              page, size)


def set_excluded(session: Session, shop: Shop, shopify_customer_id: int,
                 excluded: bool) -> Customer:
    """EXCLUDED customers neither earn nor redeem. Raises NotFoundError, ConflictError
    (a customer who opted out is not brought back by the merchant)."""
    customer = known_customer(session, shop, shopify_customer_id)
    if customer.status is CustomerStatus.EXCLUDED_BY_CUSTOMER:
        raise ConflictError("The customer opted out of the program.")
    customer.status = CustomerStatus.EXCLUDED if excluded else CustomerStatus.ACTIVE
    return customer


def assign_tier(session: Session, shop: Shop, shopify_customer_id: int, tier_id: int | None,
                until: datetime | None, now: datetime) -> Customer:
    """Set the customer's tier by hand (services.customers.tiers.assign).

    Raises NotFoundError, ValidationError."""
    customer = lock_customer(session, known_customer(session, shop, shopify_customer_id).id)
    tiers.assign(session, shop, customer, tier_id, until, now)
    return customer
