"""Points for purchases (taking them back on refunds and cancellations: reversals.py), and
the order's count in its customer's tier progress (progress.py).

Every order event first locks the order's ``OrderPoints`` row, so the events of one order
take turns and each sees what the others did: an order earns once, a refund is taken back
once, and a refund that arrives before the earning event is applied when the order earns.
The ledger's unique keys (EARNED ("order", id), REVERSED ("refund", id) and
("order_cancel", id)) are the backstop.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy.orm import Session

from shopify_loyalty.models import (
    Customer,
    CustomerStatus,
    EarnRule,
    EarnRuleKind,
    LedgerKind,
    OrderPoints,
    Shop,
)
from shopify_loyalty.services.customers import profiles, referral_completion, tiers
from shopify_loyalty.services.customers.enrolment import enrol
from shopify_loyalty.services.orders import progress as order_progress
from shopify_loyalty.services.orders.records import lock_order
from shopify_loyalty.services.orders.reversals import reverse_earlier_refunds
from shopify_loyalty.services.points import ledger
from shopify_loyalty.services.points import pending as pending_points
from shopify_loyalty.services.program import tiers as ladder_of
from shopify_loyalty.services.program.earn_rules import active_rule
from shopify_loyalty.shopify.webhook_payloads import OrderFacts


def eligible_amount(order: OrderFacts, rule: EarnRule | None) -> Decimal:
    """The subtotal after discounts, plus shipping and tax if the rule says so."""
    amount = order.subtotal
    # With tax-inclusive prices the subtotal already holds the tax.
    if order.taxes_included and not (rule and rule.include_tax):
        amount -= order.tax
    if rule and rule.include_tax and not order.taxes_included:
        amount += order.tax
    if rule and rule.include_shipping:
        amount += order.shipping
    return max(amount, Decimal("0"))


def purchase_points(amount: Decimal, rule: EarnRule, multiplier: Decimal) -> int:
    """Points per whole currency unit, times the tier's multiplier, rounded down."""
    if rule.min_order is not None and amount < rule.min_order:
        return 0
    points = amount * (rule.points_per_unit or 0) * multiplier
    return int(points.to_integral_value(rounding=ROUND_DOWN))


def _multiplier(session: Session, shop: Shop, customer: Customer) -> Decimal:
    held = [t for t in ladder_of.tiers(session, shop) if t.id == customer.vip_tier_id]
    return held[0].earn_multiplier if held else Decimal("1")


def earn_for_order(session: Session, shop: Shop, order: OrderFacts, now: datetime) -> None:
    """Award the PURCHASE rule's points for this order, once, and apply earlier refunds;
    count the order in the customer's tier progress and move them up if it reaches a tier.

    The customer is enrolled from the order if unknown. Guest orders, excluded customers,
    cancelled orders and orders below the rule's minimum earn nothing.
    """
    record = lock_order(session, shop, order.id)
    if record.earn_decided_at is not None or order.customer is None:
        return
    # Locked until commit: the tier read for the multiplier is the one this order earns at,
    # and a concurrent order of this customer waits, then sees this one's upgrade.
    customer = enrol(session, shop, order.customer.shopify_customer_id, order.customer,
                     lock=True)
    rule = active_rule(session, shop, EarnRuleKind.PURCHASE)
    # Set together after the reads, so the row is written once (the lock is what makes this
    # call the one that decides; the flush can wait).
    record.earn_decided_at = now
    record.customer_id = customer.id
    record.eligible_amount = eligible_amount(order, rule)
    record.refund_basis = order.subtotal
    if order.cancelled and record.cancelled_at is None:
        record.cancelled_at = now  # known cancelled: a later orders/cancelled has nothing to do
    _earn_points(session, shop, customer, order, record, rule, now)
    order_progress.count_order(session, customer, record, order_progress.order_time(order, now))
    tiers.upgrade(session, shop, customer, now)


def _earn_points(session: Session, shop: Shop, customer: Customer, order: OrderFacts,
                 record: OrderPoints, rule: EarnRule | None, now: datetime) -> None:
    if rule is None or customer.status is not CustomerStatus.ACTIVE:
        return
    if record.cancelled_at is not None:
        return
    # The multiplier of the tier held before this order: an order that crosses a threshold
    # earns at the old tier's rate, the next one at the new tier's.
    points = purchase_points(record.eligible_amount or Decimal("0"), rule,
                             _multiplier(session, shop, customer))
    if points <= 0:
        return
    source = ledger.Source("order", str(order.id))
    note = f"Order {order.name or order.id}"
    event = {"ruleKind": EarnRuleKind.PURCHASE.value, "orderId": order.id}
    # Before the posting, whose statements flush it with the rest of the row's changes.
    record.earned_points = points
    if rule.pending_days:
        pending_points.post_pending(session, customer, LedgerKind.EARNED, points, source,
                                    now + timedelta(days=rule.pending_days), note, event)
    else:
        ledger.post(session, customer, LedgerKind.EARNED, points, source, note, event)
    reverse_earlier_refunds(session, record)


def on_paid(session: Session, shop: Shop, order: OrderFacts, now: datetime) -> None:
    """A paid order: note its customer's first paid order and addresses, and complete the
    referral whose code it used (whatever event the shop earns on; once: a completed
    referral is no longer CLAIMED)."""
    record = lock_order(session, shop, order.id)
    friend = None
    first = False
    if order.customer is not None:
        friend = enrol(session, shop, order.customer.shopify_customer_id, order.customer)
        first = profiles.remember_paid_order(session, friend, order.id)
        profiles.remember_address(friend, order.customer.default_address)
        profiles.remember_address(friend, order.shipping_address)
    closed = None
    if order.cancelled or record.cancelled_at is not None:
        closed = "order_cancelled"
    elif order.subtotal > 0 and record.refunded_amount >= order.subtotal:
        closed = "order_refunded"
    referral_completion.complete_for_order(session, shop, friend, order, first, closed, now)
