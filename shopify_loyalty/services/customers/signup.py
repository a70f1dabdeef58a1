"""Sign-up points: awarded once, when a customer is enrolled, by whatever route."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from shopify_loyalty.models import Customer, CustomerStatus, EarnRuleKind, LedgerKind, Shop
from shopify_loyalty.services.customers import progress
from shopify_loyalty.services.points import ledger
from shopify_loyalty.services.points import pending as pending_points
from shopify_loyalty.services.program.earn_rules import active_rule


def award_signup(session: Session, shop: Shop, customer: Customer, now: datetime) -> None:
    """Post the SIGNUP rule's points, PENDING for its delay, if this customer has none yet.

    ``signup_rewarded`` says it happened; the ledger's unique key (EARNED, ("signup", id))
    makes a concurrent second award fail rather than pay twice. Excluded customers and
    shops without an active SIGNUP rule get nothing.
    """
    if customer.signup_rewarded or customer.status is not CustomerStatus.ACTIVE:
        return
    rule = active_rule(session, shop, EarnRuleKind.SIGNUP)
    if rule is None or not rule.points:
        return
    customer.signup_rewarded = True
    source = ledger.Source("signup", str(customer.shopify_customer_id))
    event = {"ruleKind": EarnRuleKind.SIGNUP.value}
    if rule.pending_days:
        pending_points.post_pending(
            session, customer, LedgerKind.EARNED, rule.points, source,
            approve_after=now + timedelta(days=rule.pending_days), note="Signed up",
            event_data=event,
        )
    else:
        ledger.post(session, customer, LedgerKind.EARNED, rule.points, source, note="Signed up",
                    event_data=event)
    # Earned points: they count towards a POINTS_EARNED tier (enrol then checks for one).
    progress.record(session, customer, now, points=rule.points)
