"""Refer-a-friend: a friend claims a referrer's link and gets a single-use code at once.

The friend's code is a reward with no customer (the friend is usually not one yet), of the
REFERRAL rule's referee kind and value, made in Shopify by the fulfilment worker like any
reward (``loyalty.fulfil_reward``), usable once by any buyer. The referral pays the referrer
later, when a first paid order uses the code (services.customers.referral_completion).

A claim is refused (422 ``referral_not_allowed``, nothing stored) for the referrer's own
email, an email of a customer who already has a paid order, and an email that claimed
before in this shop (compared in canonical form: services.customers.identity).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shopify_loyalty.errors import EarnRuleNotFoundError, ReferralNotAllowedError
from shopify_loyalty.models import (
    Customer,
    CustomerStatus,
    EarnRuleKind,
    Referral,
    ReferralState,
    Reward,
    RewardType,
    Shop,
)
from shopify_loyalty.services import outbox
from shopify_loyalty.services.customers.identity import email_key, same_person_email
from shopify_loyalty.services.customers.referral_codes import referrer_by_code
from shopify_loyalty.services.paging import Page, page_of
from shopify_loyalty.services.program.earn_rules import active_rule
from shopify_loyalty.services.rewards.codes import generate_code

log = logging.getLogger(__name__)

# The friend's code is for a first order soon after the invitation, not a coupon for ever.
REFEREE_CODE_DAYS = 30


@dataclass(frozen=True)
class Claimed:
    referral: Referral
    reward: Reward


def claim(session: Session, shop: Shop, code: str, email: str, now: datetime) -> Claimed:
    """Give the friend with ``email`` (a valid address) a single-use code for a first order.

    Raises ReferralNotFoundError (no such code in this shop), EarnRuleNotFoundError (no
    active REFERRAL rule), ReferralNotAllowedError.
    """
    referrer = referrer_by_code(session, shop, code)
    rule = active_rule(session, shop, EarnRuleKind.REFERRAL)
    if rule is None or rule.referee_kind is None or rule.referee_value is None:
        raise EarnRuleNotFoundError("The shop runs no referral program now.")
    email = email.strip().lower()
    _check_allowed(session, shop, referrer, email)
    reward = Reward(
        shop_id=shop.id, customer_id=None, reward_type=RewardType.DISCOUNT_CODE,
        discount_kind=rule.referee_kind.value, amount=rule.referee_value, points=0,
        description=f"Referral: {_offer(rule.referee_kind.value, str(rule.referee_value))}",
        discount_code=generate_code(shop.setting("code_prefix")),
        expires_at=now + timedelta(days=REFEREE_CODE_DAYS), created_at=now,
    )
    referral = Referral(shop_id=shop.id, referrer_id=referrer.id, friend_email=email,
                        friend_email_key=email_key(email), created_at=now)
    try:
        with session.begin_nested():
            session.add(reward)
            session.flush()
            referral.reward_id = reward.id
            session.add(referral)
            session.flush()
    except IntegrityError as exc:
        # The same email claimed at the same moment, and got there first.
        raise ReferralNotAllowedError("This email has claimed a referral already.") from exc
    outbox.enqueue(session, shop.id, outbox.FULFIL_REWARD, reward.id)
    return Claimed(referral, reward)


def _offer(kind: str, value: str) -> str:
    return f"{value}% off" if kind == "PERCENTAGE" else f"{value} off"


def _check_allowed(session: Session, shop: Shop, referrer: Customer, email: str) -> None:
    """Raises ReferralNotAllowedError. Why is logged, not told: the refusal is the same for
    each reason, so the endpoint does not reveal who is a customer."""
    reason = None
    if referrer.status is not CustomerStatus.ACTIVE:
        reason = "referrer not active"
    elif same_person_email(referrer.email, email):
        reason = "the referrer's own email"
    elif _has_paid_order(session, shop, email):
        reason = "a customer with a paid order"
    elif session.scalar(select(Referral.id).where(
            Referral.shop_id == shop.id, Referral.friend_email_key == email_key(email))):
        reason = "claimed before"
    if reason is not None:
        log.info("referral claim refused in %s: %s", shop.domain, reason)
        raise ReferralNotAllowedError()


def _has_paid_order(session: Session, shop: Shop, email: str) -> bool:
    # Shopify keeps customers' emails lower-case; the (shop, email) index answers this.
    return session.scalar(select(Customer.id).where(
        Customer.shop_id == shop.id, Customer.email == email,
        Customer.first_paid_order_id.is_not(None),
    ).limit(1)) is not None


def referrals_of(session: Session, referrer: Customer, page: int, size: int) -> Page[Referral]:
    """The referrer's referrals, newest first."""
    query = select(Referral).where(Referral.shop_id == referrer.shop_id,
                                   Referral.referrer_id == referrer.id)
    return page_of(session, query.order_by(Referral.id.desc()), page, size)


@dataclass(frozen=True)
class ReferralView:
    """A referral with what the merchant's list shows beside it."""

    referral: Referral
    referrer: Customer
    friend: Customer | None
    code: str | None


def shop_referrals(session: Session, shop: Shop, state: ReferralState | None, page: int,
                   size: int) -> Page[ReferralView]:
    """Every referral of the shop, newest first; ``state`` filters."""
    query = select(Referral).where(Referral.shop_id == shop.id)
    if state is not None:
        query = query.where(Referral.state == state)
    found = page_of(session, query.order_by(Referral.id.desc()), page, size)
    rows = list(found.items)
    people = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(
        {r.referrer_id for r in rows} | {r.friend_customer_id for r in rows
                                         if r.friend_customer_id is not None})))}
    codes = {reward_id: code for reward_id, code in session.execute(
        select(Reward.id, Reward.discount_code).where(
            Reward.id.in_({r.reward_id for r in rows if r.reward_id is not None})))}
    views = [ReferralView(r, people[r.referrer_id],
                          people.get(r.friend_customer_id) if r.friend_customer_id else None,
                          codes.get(r.reward_id) if r.reward_id else None) for r in rows]
    return Page(views, found.total)
