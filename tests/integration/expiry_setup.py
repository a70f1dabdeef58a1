"""Helpers of the expiry tests: a shop's policy set as of a given moment, aged points."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.models import (
    Customer,
    LedgerKind,
    LoyaltyEvent,
    PointBatch,
    PointTransaction,
    Shop,
)
from shopify_loyalty.services.program import settings as shop_settings

LONG_AGO = utcnow() - timedelta(days=3650)


def set_policy(session: Session, shop: Shop, kind: str, days: int,
               since: datetime | None = LONG_AGO, **others: Any) -> None:
    """The shop's points expiry, as if set at ``since`` (None: the change time it records)."""
    shop_settings.update_settings(shop, points_expiry=kind, points_expiry_days=days, **others)
    if since is not None:
        shop.points_expiry_since = since
    session.flush()


def age_batches(session: Session, customer: Customer, days_ago: Sequence[float]) -> None:
    """Give the customer's batches, oldest first, these ages (in days, from now)."""
    ids = session.scalars(select(PointBatch.id).where(PointBatch.customer_id == customer.id)
                          .order_by(PointBatch.id)).all()
    assert len(ids) == len(days_ago)
    for batch_id, days in zip(ids, days_ago, strict=True):
        session.execute(update(PointBatch).where(PointBatch.id == batch_id)
                        .values(earned_at=utcnow() - timedelta(days=days)))
    session.flush()


def last_active(session: Session, customer: Customer, days_ago: float) -> datetime:
    moment = utcnow() - timedelta(days=days_ago)
    customer.last_activity_at = moment
    session.flush()
    return moment


def expired_rows(session: Session, customer: Customer) -> list[tuple[int, str | None]]:
    session.expire_all()
    return [(row.points, row.source_id) for row in session.scalars(
        select(PointTransaction).where(PointTransaction.customer_id == customer.id,
                                       PointTransaction.kind == LedgerKind.EXPIRED)
        .order_by(PointTransaction.id))]


def events_of(session: Session, customer: Customer, event_type: str) -> list[dict[str, Any]]:
    session.expire_all()
    return [event.body["data"] for event in session.scalars(
        select(LoyaltyEvent).where(LoyaltyEvent.customer_id == customer.id,
                                   LoyaltyEvent.type == event_type)
        .order_by(LoyaltyEvent.id))]
