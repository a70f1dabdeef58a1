"""Shared setup for the VIP tier tests: a ladder, and order events at chosen instants."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.models import Customer, LoyaltyEvent, Shop, VipTier
from shopify_loyalty.services.orders import earning, reversals
from shopify_loyalty.services.program import settings as shop_settings
from shopify_loyalty.services.program import tiers
from shopify_loyalty.shopify import webhook_payloads as payloads
from tests import shopify_webhooks as hooks

CUSTOMER = hooks.CUSTOMER_ID
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ladder(session: Session, shop: Shop, *steps: tuple[str, str], **fields: Any
           ) -> list[VipTier]:
    """Tiers of (name, threshold), with the same other fields for each."""
    return [tiers.create_tier(session, shop, tiers.TierSpec(
        name=name, threshold=Decimal(threshold), **fields)) for name, threshold in steps]


def configure(shop: Shop, metric: str = "SPENT", period: str = "LIFETIME") -> None:
    shop_settings.update_settings(shop, tier_metric=metric, tier_period=period)


def order(order_id: int, subtotal: str, processed: datetime, customer_id: int = CUSTOMER,
          **fields: Any) -> payloads.OrderFacts:
    return payloads.order_facts(hooks.order(
        order_id=order_id, customer_id=customer_id, subtotal=subtotal, shipping="0.00",
        processed_at=processed.isoformat(), created_at=processed.isoformat(), **fields))


def earn(session: Session, shop: Shop, order_id: int, subtotal: str, processed: datetime,
         now: datetime = NOW, customer_id: int = CUSTOMER) -> None:
    earning.earn_for_order(session, shop, order(order_id, subtotal, processed, customer_id),
                           now)


def refund(session: Session, shop: Shop, order_id: int, refund_id: int, amount: str,
           processed: datetime, now: datetime = NOW) -> None:
    data = hooks.refund(order_id=order_id, refund_id=refund_id, subtotals=(amount,))
    data.update(processed_at=processed.isoformat(), created_at=processed.isoformat())
    reversals.reverse_for_refund(session, shop, payloads.refund_facts(data), now)


def cancel(session: Session, shop: Shop, order_id: int, cancelled: datetime,
           now: datetime = NOW) -> None:
    reversals.reverse_for_cancel(session, shop, order_id, now, cancelled)


def customer(session: Session, shop: Shop, shopify_id: int = CUSTOMER) -> Customer:
    session.flush()
    session.expire_all()
    return session.scalars(select(Customer).where(
        Customer.shop_id == shop.id, Customer.shopify_customer_id == shopify_id)).one()


def tier_changes(session: Session, customer_id: int) -> list[tuple[Any, Any, str]]:
    """The customer's tier.changed events: (from, to, reason), oldest first."""
    bodies = session.scalars(select(LoyaltyEvent.body).where(
        LoyaltyEvent.customer_id == customer_id, LoyaltyEvent.type == "tier.changed",
    ).order_by(LoyaltyEvent.id)).all()
    return [(b["data"]["tier"]["from"], b["data"]["tier"]["to"], b["data"]["reason"])
            for b in bodies]
