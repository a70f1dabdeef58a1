"""Property: however an order's units are split into refunds, and in whatever order those
(and the earning event) arrive, what they take back never exceeds what the order earned,
is ``earned * refunded // subtotal`` so far, and is all of it once every unit is refunded or
the order is cancelled (see services.orders.reversals)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.models import EarnRuleKind, LedgerKind, PointTransaction, Shop
from shopify_loyalty.services.orders import earning, reversals
from shopify_loyalty.services.program import earn_rules
from shopify_loyalty.shopify import webhook_payloads as payloads
from tests import factories
from tests import shopify_webhooks as hooks
from tests.integration.webhook_setup import assert_balanced, customer

MAX_REFUNDS = 6
Units = tuple[tuple[str, int], ...]  # (unit price, quantity) per line


@dataclass(frozen=True)
class Scenario:
    rule: dict[str, Any]
    order: dict[str, Any]
    lines: Units
    refunds: list[Units]  # the ones delivered, in arrival order
    earn_at: int  # how many of them arrive before the earning event
    complete: bool  # every unit refunded
    cancel: bool


def _cents(amount: str | Decimal) -> int:
    return int(Decimal(amount) * 100)


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02}"


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    amounts = st.integers(1, 20_000).map(_amount)
    lines = tuple(draw(st.lists(st.tuples(amounts, st.integers(1, 6)), min_size=1, max_size=4)))
    # The line of each unit, and the refund each unit goes to (empty refunds are not sent).
    unit_lines = [n for n, (_, quantity) in enumerate(lines) for _ in range(quantity)]
    groups = draw(st.lists(st.integers(0, MAX_REFUNDS - 1), min_size=len(unit_lines),
                           max_size=len(unit_lines)))
    refunds: list[Units] = []
    for group in sorted(set(groups)):
        per_line = Counter(line for g, line in zip(groups, unit_lines, strict=True)
                           if g == group)
        refunds.append(tuple((lines[n][0], count) for n, count in sorted(per_line.items())))
    refunds = draw(st.permutations(refunds))
    # Half the time all of them, else the first few (possibly all the same).
    delivered = len(refunds) if draw(st.booleans()) else draw(st.integers(1, len(refunds)))
    subtotal = sum(_cents(p) * q for p, q in lines)
    return Scenario(
        rule={"points_per_unit": draw(st.sampled_from([1, 3, 7, 10])),
              "include_shipping": draw(st.booleans()), "include_tax": draw(st.booleans()),
              "pending_days": draw(st.sampled_from([0, 30]))},
        # A sixth of the subtotal in tax (20% VAT), inside it when prices include tax.
        order={"taxes_included": draw(st.booleans()), "tax": _amount(subtotal // 6),
               "shipping": draw(amounts)},
        lines=lines, refunds=refunds[:delivered], earn_at=draw(st.integers(0, delivered)),
        complete=delivered == len(refunds), cancel=draw(st.booleans()),
    )


def _points(session: Session, shop: Shop) -> tuple[int, int]:
    """What the order earned and what has been taken back, pending or not."""
    totals = dict(session.execute(
        select(PointTransaction.kind, func.sum(PointTransaction.points))
        .where(PointTransaction.shop_id == shop.id).group_by(PointTransaction.kind)
    ).all())
    return int(totals.get(LedgerKind.EARNED, 0)), -int(totals.get(LedgerKind.REVERSED, 0))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
def test_refunds_never_take_back_more_than_earned_and_all_of_it_once_complete(
    session: Session, scenario: Scenario
) -> None:
    shop = factories.shop(session)
    earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
        kind=EarnRuleKind.PURCHASE, **scenario.rule))
    order = payloads.order_facts(hooks.line_order(scenario.lines, **scenario.order))
    for n, units in enumerate(scenario.refunds):
        if n == scenario.earn_at:
            earning.earn_for_order(session, shop, order, utcnow())
        refund = hooks.unit_refund(units, refund_id=hooks.REFUND_ID + 100 * n)
        reversals.reverse_for_refund(session, shop, payloads.refund_facts(refund))
        earned, taken = _points(session, shop)
        assert 0 <= taken <= earned
    if scenario.earn_at == len(scenario.refunds):
        earning.earn_for_order(session, shop, order, utcnow())
    refunded = sum(_cents(price) * count for units in scenario.refunds for price, count in units)
    earned, taken = _points(session, shop)
    assert taken == earned * refunded // _cents(order.subtotal)
    if scenario.cancel:
        reversals.reverse_for_cancel(session, shop, order.id, utcnow())
    if scenario.complete or scenario.cancel:
        earned, taken = _points(session, shop)
        assert taken == earned
    row = customer(session, shop)
    assert row is not None
    assert_balanced(session, row)
