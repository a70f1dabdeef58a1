"""Points added or removed by hand (the merchant, the operator, the external API).

An adjustment enrols a customer the shop has not seen yet, so it lives with the customers
rather than with the ledger it writes to.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shopify_loyalty.errors import (
    IdempotencyKeyMismatchError,
    RequestInProgressError,
    ValidationError,
)
from shopify_loyalty.models import Customer, LedgerKind, PointTransaction, Shop
from shopify_loyalty.services.customers.enrolment import enrol
from shopify_loyalty.services.points import ledger


def adjust_points(
    session: Session,
    shop: Shop,
    shopify_customer_id: int,
    points: int,
    reason: str,
    reference: str | None = None,
) -> tuple[Customer, PointTransaction]:
    """Add (or, negative, remove) points by hand; an ADJUSTED ledger row with the reason.

    ``reference`` makes the adjustment idempotent (one row per reference and shop).
    Raises ValidationError, InsufficientPointsError (the balance never drops below zero).
    """
    if points == 0:
        raise ValidationError(errors={"points": ["Must not be zero."]})
    if not reason.strip():
        raise ValidationError(errors={"reason": ["Say why."]})
    customer = enrol(session, shop, shopify_customer_id)
    source = ledger.Source("admin", reference or uuid.uuid4().hex)
    row = ledger.post(session, customer, LedgerKind.ADJUSTED, points, source, note=reason)
    return customer, row


# source_id is 64 characters; the channel prefix takes a few of them.
MAX_KEY_LENGTH = 48


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
            _customer, row = adjust_points(
                session, shop, customer.shopify_customer_id, points, reason, reference
            )
    except IntegrityError as exc:
        # A concurrent request with the same key got there first.
        raise RequestInProgressError() from exc
    return row
