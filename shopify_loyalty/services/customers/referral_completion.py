"""A referral's outcome: completed by the friend's first paid order, or refused, or undone.

An order whose ``discount_codes`` hold a CLAIMED referral's code completes it when it is
paid, comes from a customer whose first paid order it is, and that customer is not the
referrer (not the same customer, email or shipping address). The referrer then earns the
REFERRAL rule's points (PENDING for its delay) as the ledger row EARNED ("referral", id):
once per referral, and a friend completes one referral only. A referrer is paid for at most
``referral_weekly_cap`` referrals in any 7 days; beyond it a referral is COMPLETED with
``paid`` false, reason ``weekly_cap``. An order refunded in full or cancelled undoes its
referral: the points are reversed and the referral is REJECTED.

The referrer's row is locked before the cap is counted, so two friends ordering at once are
counted one after the other. Callers (services.orders) hold the order's row lock, so the
events of one order take turns here too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.models import (
    Customer,
    CustomerStatus,
    EarnRule,
    EarnRuleKind,
    LedgerKind,
    PointTransaction,
    Referral,
    ReferralState,
    Reward,
    Shop,
)
from shopify_loyalty.services.customers import progress
from shopify_loyalty.services.customers.actions import earn
from shopify_loyalty.services.customers.identity import (
    address_key,
    masked_email,
    same_person_email,
)
from shopify_loyalty.services.events import catalog
from shopify_loyalty.services.points import ledger
from shopify_loyalty.services.points import pending as pending_points
from shopify_loyalty.services.points.reversal import take_back
from shopify_loyalty.services.program.earn_rules import active_rule
from shopify_loyalty.services.rewards.codes import normalise_code
from shopify_loyalty.shopify.webhook_payloads import OrderFacts

CAP_WINDOW = timedelta(days=7)
UNDONE_BY = {"order_refunded": "refunded", "order_cancelled": "cancelled"}


def complete_for_order(session: Session, shop: Shop, friend: Customer | None,
                       order: OrderFacts, first_order: bool, closed: str | None,
                       now: datetime) -> Referral | None:
    """Complete (or refuse) the CLAIMED referral whose code the paid ``order`` used; None
    when it used none. ``first_order``: the friend's first paid order; ``closed``:
    ``order_refunded`` or ``order_cancelled`` when that happened before it got here."""
    referral = _claimed_for_codes(session, shop, order.discount_codes)
    if referral is None:
        return None
    referral.order_id, referral.order_subtotal = order.id, order.subtotal
    referral.friend_customer_id = friend.id if friend else None
    referrer = pending_points.lock_customer(session, referral.referrer_id)
    reason = _refusal(session, referral, referrer, friend, order, first_order, closed)
    if reason is not None:
        referral.state, referral.reason = ReferralState.REJECTED, reason
        return referral
    assert friend is not None
    _attach_code(session, referral, friend)
    referral.state, referral.completed_at = ReferralState.COMPLETED, now
    rule = active_rule(session, shop, EarnRuleKind.REFERRAL)
    referral.reason = _unpaid_reason(session, shop, referrer, rule, now)
    if referral.reason is None:
        assert rule is not None
        _pay(session, referral, referrer, rule, now)
    catalog.emit(session, referrer, catalog.REFERRAL_COMPLETED, {"referral": describe(referral)})
    return referral


def _claimed_for_codes(session: Session, shop: Shop, codes: list[str]) -> Referral | None:
    wanted = {normalise_code(code) for code in codes if code.strip()}
    if not wanted:
        return None
    return session.scalars(
        select(Referral).join(Reward, Reward.id == Referral.reward_id)
        .where(Reward.shop_id == shop.id, Reward.discount_code.in_(wanted),
               Referral.state == ReferralState.CLAIMED)
        .order_by(Referral.id).limit(1).with_for_update(of=Referral)
    ).first()


def _refusal(session: Session, referral: Referral, referrer: Customer, friend: Customer | None,
             order: OrderFacts, first_order: bool, closed: str | None) -> str | None:
    if friend is None:
        return "guest_order"  # no customer to tell a first order from a tenth
    if friend.id == referrer.id:
        return "self_referral_customer"
    if same_person_email(referrer.email, order.email or friend.email):
        return "self_referral_email"
    shipping = address_key(order.shipping_address)
    if shipping is not None and shipping in (referrer.address_keys or []):
        return "self_referral_address"
    if not first_order:
        return "not_first_order"
    if session.scalar(select(Referral.id).where(
            Referral.friend_customer_id == friend.id, Referral.id != referral.id,
            Referral.state == ReferralState.COMPLETED)):
        return "already_referred"
    return closed


def _unpaid_reason(session: Session, shop: Shop, referrer: Customer, rule: EarnRule | None,
                   now: datetime) -> str | None:
    if referrer.status is not CustomerStatus.ACTIVE:
        return "referrer_not_active"
    if rule is None or not rule.points:
        return "no_active_rule"
    paid_lately = session.scalar(select(func.count(Referral.id)).where(
        Referral.referrer_id == referrer.id, Referral.state == ReferralState.COMPLETED,
        Referral.paid.is_(True), Referral.completed_at > now - CAP_WINDOW,
    )) or 0
    return "weekly_cap" if paid_lately >= shop.setting("referral_weekly_cap") else None


def _pay(session: Session, referral: Referral, referrer: Customer, rule: EarnRule,
         now: datetime) -> None:
    assert rule.points
    earn(session, referrer, rule, ledger.Source("referral", str(referral.id)),
         f"Referral of order {referral.order_id}", now)
    referral.paid, referral.points = True, rule.points
    referrer.referred_completed = referrer.referred_completed + 1


def _attach_code(session: Session, referral: Referral, friend: Customer) -> None:
    """The friend's code becomes theirs, so it shows among their rewards."""
    reward = session.get(Reward, referral.reward_id) if referral.reward_id else None
    if reward is not None and reward.customer_id is None:
        reward.customer_id = friend.id


def order_refunded(session: Session, shop: Shop, order_id: int, refunded: Decimal) -> None:
    """Refunds of ``order_id`` now add up to ``refunded``: all of it undoes its referral."""
    referral = _completed_for_order(session, shop, order_id)
    if referral is not None and referral.order_subtotal is not None \
            and refunded >= referral.order_subtotal:
        _undo(session, referral, "order_refunded")


def order_cancelled(session: Session, shop: Shop, order_id: int) -> None:
    referral = _completed_for_order(session, shop, order_id)
    if referral is not None:
        _undo(session, referral, "order_cancelled")


def _completed_for_order(session: Session, shop: Shop, order_id: int) -> Referral | None:
    return session.scalars(select(Referral).where(
        Referral.shop_id == shop.id, Referral.order_id == order_id,
        Referral.state == ReferralState.COMPLETED,
    ).with_for_update()).first()


def _undo(session: Session, referral: Referral, reason: str) -> None:
    """Take the referrer's points back (pending first, never below zero) and reject it."""
    referral.state, referral.reason = ReferralState.REJECTED, reason
    if not referral.paid:
        return
    referrer = pending_points.lock_customer(session, referral.referrer_id)
    earned = session.scalars(select(PointTransaction).where(
        PointTransaction.shop_id == referral.shop_id, PointTransaction.kind == LedgerKind.EARNED,
        PointTransaction.source_type == "referral", PointTransaction.source_id == str(referral.id),
    )).one()
    take_back(session, referrer, earned, referral.points,
              ledger.Source("referral", str(referral.id)),
              f"Referral undone: order {referral.order_id} {UNDONE_BY[reason]}")
    # Not earned after all: the tier progress loses them too (never a downgrade by itself).
    progress.record(session, referrer, utcnow(), points=-referral.points)
    referral.paid = False
    referrer.referred_completed = max(referrer.referred_completed - 1, 0)


def describe(referral: Referral) -> dict[str, Any]:
    """The referral as events carry it (the friend's email masked)."""
    return {
        "id": referral.id, "friendEmail": masked_email(referral.friend_email),
        "state": referral.state.value, "paid": referral.paid, "points": referral.points,
        "reason": referral.reason, "orderId": referral.order_id,
        "completedAt": referral.completed_at.isoformat() if referral.completed_at else None,
    }
