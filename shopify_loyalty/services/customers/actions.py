"""Ways to earn beside purchases: a newsletter or SMS subscription, a social follow or share,
and the date of birth the birthday job pays on (services.customers.birthdays).

Each action pays its rule's points once per customer, ever: the customer row is locked
first, so concurrent claims take turns and the later ones see the first one's flag in
``customers.rewarded_for``; the ledger's unique source (one per action and customer) is the
backstop. Unsubscribing and subscribing again pays nothing more.

``rewarded_for`` keys are the storefront flags' names without ``rewardedFor``, lower-cased
(``newsletter`` is ``rewardedForNewsLetter``, ``sharingonx`` is ``rewardedForSharingOnX``),
each with the time it was rewarded.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from shopify_loyalty.errors import (
    CustomerNotEligibleError,
    DobAlreadySetError,
    EarnRuleNotFoundError,
    ValidationError,
)
from shopify_loyalty.models import (
    Customer,
    CustomerStatus,
    EarnRule,
    EarnRuleKind,
    LedgerKind,
    Shop,
)
from shopify_loyalty.services.customers import progress, tiers
from shopify_loyalty.services.points import ledger
from shopify_loyalty.services.points import pending as pending_points
from shopify_loyalty.services.program import earn_rules

SUBSCRIBED = "subscribed"
# Nobody is older; a date before this is a typo.
MAX_AGE_YEARS = 120
SHARE_FLAGS = {"facebook": "sharingonfacebook", "x": "sharingonx"}
ACTIONS = {"follow": EarnRuleKind.SOCIAL_FOLLOW, "share": EarnRuleKind.SOCIAL_SHARE}


def pay_once(session: Session, customer: Customer, rule: EarnRule, flag: str,
             source: ledger.Source, note: str, now: datetime) -> bool:
    """Pay ``rule``'s points for the action ``flag`` unless the customer had them; True when
    paid now. Customers not ACTIVE get nothing (and no flag: they may be paid once back)."""
    locked = pending_points.lock_customer(session, customer.id)
    if (locked.rewarded_for or {}).get(flag) or locked.status is not CustomerStatus.ACTIVE:
        return False
    locked.rewarded_for = {**(locked.rewarded_for or {}), flag: now.isoformat()}
    earn(session, locked, rule, source, note, now)
    return True


def earn(session: Session, customer: Customer, rule: EarnRule, source: ledger.Source,
         note: str, now: datetime) -> None:
    """Post ``rule``'s points, PENDING for its delay if it has one, with the rule's kind in
    the ``points.earned`` event; they count as earned for the customer's tier (POINTS_EARNED),
    which may move them up at once. Raises IntegrityError if ``source`` was paid already."""
    points = rule.points or 0
    event = {"ruleKind": rule.kind.value, "ruleId": rule.id}
    if rule.pending_days:
        pending_points.post_pending(session, customer, LedgerKind.EARNED, points, source,
                                    now + timedelta(days=rule.pending_days), note, event)
    else:
        ledger.post(session, customer, LedgerKind.EARNED, points, source, note, event)
    progress.record(session, customer, now, points=points)
    tiers.upgrade(session, session.get_one(Shop, customer.shop_id), customer, now)


def apply_consent(session: Session, shop: Shop, customer: Customer, email_state: str | None,
                  sms_state: str | None, now: datetime) -> None:
    """Pay the NEWSLETTER / SMS rule when Shopify says the customer is subscribed."""
    for state, kind, flag, note in (
        (email_state, EarnRuleKind.NEWSLETTER, "newsletter", "Subscribed to the newsletter"),
        (sms_state, EarnRuleKind.SMS, "sms", "Subscribed to SMS"),
    ):
        if state != SUBSCRIBED or (customer.rewarded_for or {}).get(flag):
            continue
        rule = earn_rules.active_rule(session, shop, kind)
        if rule is not None:
            source = ledger.Source(kind.value.lower(), str(customer.shopify_customer_id))
            pay_once(session, customer, rule, flag, source, note, now)


def claim_social(session: Session, shop: Shop, customer: Customer, network: str, action: str,
                 now: datetime) -> bool:
    """A follow or a share the storefront reports; True when it paid now, False when it was
    rewarded before. Raises ValidationError (an unknown action or network),
    EarnRuleNotFoundError (no active rule for it), CustomerNotEligibleError."""
    kind = ACTIONS.get(action)
    if kind is None:
        raise ValidationError(errors={"action": ["follow or share."]})
    name = earn_rules.network_of(kind, network)
    if name not in earn_rules.NETWORKS[kind]:
        raise ValidationError(errors={"network": [
            f"One of {', '.join(earn_rules.NETWORKS[kind])}."]})
    if customer.status is not CustomerStatus.ACTIVE:
        raise CustomerNotEligibleError(f"Customer status is {customer.status.value}.")
    rule = earn_rules.active_rule(session, shop, kind, name)
    if rule is None:
        raise EarnRuleNotFoundError(f"No active {kind.value} rule for {name}.")
    flag = SHARE_FLAGS[name] if kind is EarnRuleKind.SOCIAL_SHARE else name
    source = ledger.Source(kind.value.lower(), f"{name}:{customer.shopify_customer_id}")
    return pay_once(session, customer, rule, flag, source, f"{action.title()} on {name}", now)


def check_dob(dob: date, today: date) -> None:
    """Raises ValidationError for a date in the future or an impossible age."""
    oldest = today.replace(year=today.year - MAX_AGE_YEARS, day=min(today.day, 28))
    if dob > today or dob < oldest:
        raise ValidationError(errors={"dob": [
            f"A date of birth from {oldest.isoformat()} to today."]})


def set_dob(session: Session, customer: Customer, dob: date, now: datetime) -> None:
    """The customer's own date of birth, once (two at once: the second is refused). Raises
    ValidationError, DobAlreadySetError (the shop can change it: ``change_dob``)."""
    check_dob(dob, now.date())
    locked = pending_points.lock_customer(session, customer.id)
    if locked.dob is not None:
        raise DobAlreadySetError()
    _store_dob(locked, dob, now)


def change_dob(customer: Customer, dob: date | None, now: datetime) -> None:
    """The merchant sets or corrects a date of birth (None erases it). The 30-day clock of
    the birthday rule keeps the time a date was first given, so a correction does not delay
    a birthday, and a year's birthday is paid once whatever the changes. Raises
    ValidationError."""
    if dob is None:
        customer.dob, customer.birth_month_day = None, None
        return
    check_dob(dob, now.date())
    _store_dob(customer, dob, now)


def _store_dob(customer: Customer, dob: date, now: datetime) -> None:
    customer.dob = dob
    customer.birth_month_day = dob.month * 100 + dob.day
    customer.dob_set_at = customer.dob_set_at or now
