"""The merchant's view of customers: search, detail, adjustments, exclusion.

Admin and external callers never create customers here (a customer enrols through the
storefront, a webhook or an import), so an id the shop does not know, another shop's
customer included, is a 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shopify_loyalty.errors import (
    ConflictError,
    IdempotencyKeyMismatchError,
    NotFoundError,
    RequestInProgressError,
    ValidationError,
)
from shopify_loyalty.models import (
    Customer,
    CustomerStatus,
    LedgerKind,
    PointTransaction,
    Reward,
    Shop,
)
from shopify_loyalty.services import portal, program
from shopify_loyalty.services.portal import Page

# source_id is 64 characters; the channel prefix takes a few of them.
MAX_KEY_LENGTH = 48
DETAIL_LEDGER_ROWS = 20


@dataclass(frozen=True)
class CustomerDetail:
    customer: Customer
    rewards: Sequence[Reward]
    ledger: Sequence[PointTransaction]


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
    return portal.page_of(session, query.order_by(Customer.id.desc()), page, size)


def detail(session: Session, shop: Shop, shopify_customer_id: int) -> CustomerDetail:
    """Balances, rewards (every UNUSED one and the recent others) and the latest ledger rows.

    Raises NotFoundError."""
    customer = known_customer(session, shop, shopify_customer_id)
    info = portal.loyalty_info(session, shop, customer)
    rows = portal.ledger_page(session, customer, 0, DETAIL_LEDGER_ROWS).items
    return CustomerDetail(customer, info.rewards, rows)


def adjust(session: Session, shop: Shop, customer: Customer, points: int, reason: str,
           key: str | None, channel: str) -> PointTransaction:
    """An ADJUSTED ledger row; with ``key``, at most one per key and shop (a retry gets the
    first row back). Raises ValidationError, InsufficientPointsError,
    IdempotencyKeyMismatchError, RequestInProgressError."""
    reference = None
    if key is not None:
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationError(errors={"Idempotency-Key": [
                f"1 to {MAX_KEY_LENGTH} characters."]})
        reference = f"{channel}:{key}"
        earlier = session.scalars(select(PointTransaction).where(
            PointTransaction.shop_id == shop.id, PointTransaction.kind == LedgerKind.ADJUSTED,
            PointTransaction.source_type == "admin", PointTransaction.source_id == reference,
        )).first()
        if earlier is not None:
            if earlier.customer_id != customer.id or earlier.points != points:
                raise IdempotencyKeyMismatchError()
            return earlier
    try:
        with session.begin_nested():
            _customer, row = program.adjust_points(
                session, shop, customer.shopify_customer_id, points, reason, reference
            )
    except IntegrityError as exc:
        # A concurrent request with the same key got there first.
        raise RequestInProgressError() from exc
    return row


def set_excluded(session: Session, shop: Shop, shopify_customer_id: int,
                 excluded: bool) -> Customer:
    """EXCLUDED customers neither earn nor redeem. Raises NotFoundError, ConflictError
    (a customer who opted out is not brought back by the merchant)."""
    customer = known_customer(session, shop, shopify_customer_id)
    if customer.status is CustomerStatus.EXCLUDED_BY_CUSTOMER:
        raise ConflictError("The customer opted out of the program.")
    customer.status = CustomerStatus.EXCLUDED if excluded else CustomerStatus.ACTIVE
    return customer
