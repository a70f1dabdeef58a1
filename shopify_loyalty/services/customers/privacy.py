"""The privacy topics: export, redact a customer, redact a shop.

See https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance: ``shop/redact``
comes 48 hours after an uninstall, and ``customers/redact`` when a merchant erases a
customer; both must be honoured even though the shop is no longer installed.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from shopify_loyalty.errors import NotFoundError
from shopify_loyalty.models import (
    Customer,
    DataExport,
    LoyaltyEvent,
    PointTransaction,
    Referral,
    Reward,
    Shop,
    WebhookEvent,
)
from shopify_loyalty.services.customers.enrolment import find_customer
from shopify_loyalty.services.customers.identity import email_key

REDACTED_PAYLOAD: dict[str, Any] = {"redacted": True}


def export_customer(session: Session, shop: Shop, shopify_customer_id: int) -> dict[str, Any]:
    """Everything we keep about the customer, as JSON-ready values.

    Raises NotFoundError when the shop has no such customer.
    """
    customer = find_customer(session, shop, shopify_customer_id)
    if customer is None:
        raise NotFoundError(f"No customer {shopify_customer_id} in {shop.domain}.")
    ledger = session.scalars(
        select(PointTransaction).where(PointTransaction.customer_id == customer.id)
        .order_by(PointTransaction.id)
    ).all()
    rewards = session.scalars(
        select(Reward).where(Reward.customer_id == customer.id).order_by(Reward.id)
    ).all()
    return {
        "shop": shop.domain,
        "customerId": customer.shopify_customer_id,
        "email": customer.email,
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "dob": customer.dob.isoformat() if customer.dob else None,
        "tags": list(customer.tags or []),
        "status": customer.status.value,
        "availablePoints": customer.available_points,
        "pendingPoints": customer.pending_points,
        "creditedPoints": customer.credited_points,
        "spentPoints": customer.spent_points,
        "spentAmount": str(customer.spent_amount),
        "storeCreditBalance": str(customer.store_credit_balance),
        "createdAt": customer.created_at.isoformat(),
        "transactions": [
            {"id": row.id, "points": row.points, "kind": row.kind.value,
             "status": row.status.value, "sourceType": row.source_type,
             "sourceId": row.source_id, "note": row.note,
             "createdAt": row.created_at.isoformat()}
            for row in ledger
        ],
        "rewards": [
            {"id": reward.id, "description": reward.description, "points": reward.points,
             "discountCode": reward.discount_code, "status": reward.status.value,
             "amount": str(reward.amount) if reward.amount is not None else None,
             "orderId": reward.order_id, "usedAt":
             reward.used_at.isoformat() if reward.used_at else None,
             "createdAt": reward.created_at.isoformat()}
            for reward in rewards
        ],
    }


def store_export(
    session: Session, shop: Shop, shopify_customer_id: int, data_request_id: int | None
) -> DataExport | None:
    """Export the customer for the merchant; None when we hold nothing about them."""
    if find_customer(session, shop, shopify_customer_id) is None:
        return None
    export = DataExport(
        shop_id=shop.id, shopify_customer_id=shopify_customer_id,
        data_request_id=data_request_id,
        data=export_customer(session, shop, shopify_customer_id),
    )
    session.add(export)
    session.flush()
    return export


def latest_export(session: Session, shop: Shop, shopify_customer_id: int) -> DataExport | None:
    return session.scalars(
        select(DataExport)
        .where(DataExport.shop_id == shop.id,
               DataExport.shopify_customer_id == shopify_customer_id)
        .order_by(DataExport.id.desc())
        .limit(1)
    ).first()


def redact_customer(
    session: Session, shop: Shop, shopify_customer_id: int, order_ids: list[int]
) -> None:
    """Erase the customer's personal data; keep the amounts, so the ledger still adds up.

    Also erased: our exports of them, their email in the loyalty events we keep (and may
    replay), and the stored webhook payloads that carry their data (their customer and order
    events, the redaction request itself included: it runs in the transaction that processes
    that request, so a failure rolls it all back).
    """
    customer = find_customer(session, shop, shopify_customer_id)
    if customer is not None:
        customer.first_name = None
        customer.last_name = None
        erase_referral_emails(session, shop, customer)
        customer.email = None
        customer.dob = None
        customer.birth_month_day = None
        customer.address_keys = []
        customer.tags = []
        _redact_events(session, customer.id)
    session.execute(
        delete(DataExport).where(DataExport.shop_id == shop.id,
                                 DataExport.shopify_customer_id == shopify_customer_id)
    )
    payload = WebhookEvent.payload
    names_customer = or_(
        payload["customer"]["id"].as_string() == str(shopify_customer_id),
        (WebhookEvent.topic.like("customers/%"))
        & (payload["id"].as_string() == str(shopify_customer_id)),
        payload["id"].as_string().in_([str(i) for i in order_ids]),
        payload["order_id"].as_string().in_([str(i) for i in order_ids]),
    )
    session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.shop_id == shop.id, names_customer)
        .values(payload=REDACTED_PAYLOAD)
        .execution_options(synchronize_session=False)
    )


def erase_referral_emails(session: Session, shop: Shop, customer: Customer) -> None:
    """The customer's email as a referred friend (their claims are kept by hash only, so a
    second claim of that email is still refused)."""
    named = [Referral.friend_customer_id == customer.id]
    if customer.email:
        named.append(Referral.friend_email_key == email_key(customer.email))
    session.execute(
        update(Referral).where(Referral.shop_id == shop.id, or_(*named))
        .values(friend_email=None).execution_options(synchronize_session=False)
    )


def redact_shop(session: Session, shop: Shop) -> None:
    """Delete every row of the shop: the foreign keys cascade from ``shops``.

    The session is emptied: every object it held may be gone.
    """
    session.execute(delete(WebhookEvent).where(WebhookEvent.shop_domain == shop.domain))
    session.execute(delete(Shop).where(Shop.id == shop.id))
    session.expunge_all()


def _redact_events(session: Session, customer_id: int) -> None:
    events = session.scalars(select(LoyaltyEvent).where(LoyaltyEvent.customer_id == customer_id)
                             .execution_options(yield_per=500))
    for event in events:
        body = copy.deepcopy(event.body)
        body["data"]["customer"]["email"] = None
        event.body = body
