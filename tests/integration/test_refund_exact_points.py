"""Refunds take back exactly the points of what was refunded: integer arithmetic, cumulative,
over the order's own subtotal (see services.orders.reversals).

The grid drives the services inside the test's transaction (its hundreds of events would
cost several times as much as webhooks); a few cases go end to end as signed webhooks.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from decimal import ROUND_DOWN, Decimal
from functools import cache
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.models import LedgerKind, OrderPoints, PointTransaction, Shop
from shopify_loyalty.services.orders import earning, reversals
from shopify_loyalty.shopify import webhook_payloads as payloads
from tests import shopify_webhooks as hooks
from tests.integration.webhook_setup import assert_balanced, customer, purchase_rule, rows

# (points per currency unit, unit price): whole and fractional prices, whole and fractional
# points a unit. (1, "1.00") is the 14 × 5/14 → 4 case of the old Decimal division.
PAIRS = [(1, "1.00"), (1, "2.35"), (3, "4.00"), (3, "0.99"),
         (7, "5.00"), (7, "1.40"), (10, "1.40"), (10, "0.35")]
MAX_UNITS = 20
_ids = itertools.count(1)


def _earn(session: Session, shop: Shop, lines: tuple[tuple[str, int], ...]) -> int:
    order_id = hooks.ORDER_ID + next(_ids)
    order = replace(_order_facts(lines), id=order_id)
    earning.earn_for_order(session, shop, order, utcnow())
    return order_id


def _refund(session: Session, shop: Shop, order_id: int, units: tuple[tuple[str, int], ...]
            ) -> int:
    refund_id = hooks.REFUND_ID + next(_ids)
    refund = replace(_refund_facts(units), id=refund_id, order_id=order_id)
    reversals.reverse_for_refund(session, shop, refund)
    return refund_id


# Parsed once per shape (a payload is a deep copy of Shopify's sample): the ids change.
@cache
def _order_facts(lines: tuple[tuple[str, int], ...]) -> payloads.OrderFacts:
    return payloads.order_facts(hooks.line_order(lines))


@cache
def _refund_facts(units: tuple[tuple[str, int], ...]) -> payloads.RefundFacts:
    return payloads.refund_facts(hooks.unit_refund(units))


def _taken(session: Session, shop: Shop, refund_ids: Sequence[int]) -> list[int]:
    """The points each refund took back, in the refunds' order (0 for one that took none)."""
    taken = dict(session.execute(
        select(PointTransaction.source_id, PointTransaction.points).where(
            PointTransaction.shop_id == shop.id,
            PointTransaction.kind == LedgerKind.REVERSED,
            PointTransaction.source_type == "refund",
            PointTransaction.source_id.in_([str(i) for i in refund_ids]),
        )
    ).all())
    return [-taken.get(str(i), 0) for i in refund_ids]


def _floor(amount: Decimal) -> int:
    return int(amount.to_integral_value(rounding=ROUND_DOWN))


def _lines_for(pair: int, one_at_a_time: bool) -> range:
    """Line sizes for a pair and mode: 2 or 3 of 1..20, so that each mode meets every size
    once over the eight pairs, and the two modes meet a size with different pairs (every
    size with every pair in both modes takes some twenty seconds)."""
    return range((pair + 4 * one_at_a_time) % len(PAIRS) + 1, MAX_UNITS + 1, len(PAIRS))


@pytest.mark.parametrize("one_at_a_time", [True, False], ids=["one-by-one", "together"])
@pytest.mark.parametrize(("rate", "price"), PAIRS)
def test_refunding_k_of_n_units_takes_back_exactly_their_points(
    session: Session, shop: Any, rate: int, price: str, one_at_a_time: bool
) -> None:
    purchase_rule(session, shop, points_per_unit=rate)
    per_unit = Decimal(price) * rate
    kept = 0  # what the customer still holds of all these orders
    for n in _lines_for(PAIRS.index((rate, price)), one_at_a_time):
        earned = _floor(per_unit * n)
        if per_unit == per_unit.to_integral_value():  # k units: k times a unit's points
            expected = [k * int(per_unit) for k in range(n + 1)]
        else:  # cumulative, rounded down
            expected = [earned * k // n for k in range(n + 1)]
        assert expected[n] == earned  # the whole line: exactly what it earned
        order_id = _earn(session, shop, ((price, n),))
        if one_at_a_time:
            refunds = [_refund(session, shop, order_id, ((price, 1),)) for _ in range(n)]
            assert _taken(session, shop, refunds) == [
                expected[k] - expected[k - 1] for k in range(1, n + 1)]
            continue
        for k in range(1, n + 1):
            with session.begin_nested() as as_earned:  # each k meets the order as it earned
                refund = _refund(session, shop, order_id, ((price, k),))
                assert _taken(session, shop, [refund]) == [expected[k]]
                as_earned.rollback()
        kept += earned
    row = customer(session, shop)
    assert row is not None and row.available_points == kept
    assert_balanced(session, row)


def _deliver_refunds(client: FlaskClient, shop: Shop,
                     refunds: Sequence[Sequence[tuple[str, int]]]) -> list[int]:
    refund_ids = [hooks.REFUND_ID + 100 * next(_ids) for _ in refunds]
    for refund_id, units in zip(refund_ids, refunds, strict=True):
        hooks.deliver(client, shop.domain, "refunds/create",
                      hooks.unit_refund(units, refund_id=refund_id))
    return refund_ids


@pytest.mark.parametrize(("rate", "price", "units", "refunds", "taken"), [
    (1, "1.00", 14, [5, 9], [5, 9]),  # was 4 and 10: 14 × (5.00 / 14.00) = 4.99…
    (10, "1.40", 14, [5, 9], [70, 126]),  # 14 points a unit
    # 16.45 points a unit, 329 for 20: 16 (16.45), 32 (32.9), 49 (49.35), then the rest.
    (7, "2.35", 20, [1, 1, 1, 17], [16, 16, 17, 280]),
])
def test_webhook_refunds_take_back_the_points_of_their_units(
    client: FlaskClient, session: Session, shop: Any, rate: int, price: str, units: int,
    refunds: list[int], taken: list[int]
) -> None:
    purchase_rule(session, shop, points_per_unit=rate)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.line_order([(price, units)]))
    refund_ids = _deliver_refunds(client, shop, [[(price, k)] for k in refunds])
    assert _taken(session, shop, refund_ids) == taken
    row = customer(session, shop)
    assert row is not None and row.available_points == 0
    assert_balanced(session, row)


def test_refunds_before_the_order_earns_take_back_as_exactly(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop, points_per_unit=3)
    refund_ids = _deliver_refunds(client, shop, [[("2.35", 5)], [("2.35", 4)]])
    hooks.deliver(client, shop.domain, "orders/paid", hooks.line_order([("2.35", 14)]))
    # 7.05 points a unit, 98 for 14: 5 units 35 (35.25), 9 units 63 (63.45).
    assert _taken(session, shop, refund_ids) == [35, 28]


@pytest.mark.parametrize(("rule", "lines", "order", "taken"), [
    # Prices include 20% tax: 120.00 paid, 100.00 earns 100 points; the 36.00 line holds
    # 30.00 of them (over the eligible amount it took back 36, the other line 64).
    ({}, [("36.00", 1), ("84.00", 1)], {"tax": "20.00", "taxes_included": True}, [30, 70]),
    # 100.00 of lines and 10.00 of shipping earn 110 points: each line takes back its share
    # of the shipping's too (over the eligible amount 40 and 60, and 10 were left).
    ({"include_shipping": True}, [("40.00", 1), ("60.00", 1)], {"shipping": "10.00"},
     [44, 66]),
])
def test_a_whole_line_takes_back_exactly_its_share(
    client: FlaskClient, session: Session, shop: Any, rule: dict[str, Any],
    lines: list[tuple[str, int]], order: dict[str, Any], taken: list[int]
) -> None:
    purchase_rule(session, shop, **rule)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.line_order(lines, **order))
    refund_ids = _deliver_refunds(client, shop, [[line] for line in lines])
    assert _taken(session, shop, refund_ids) == taken
    row = customer(session, shop)
    assert row is not None and row.available_points == 0
    assert_balanced(session, row)


def test_a_cancellation_after_partial_refunds_takes_back_exactly_the_rest(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop, points_per_unit=7)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.line_order([("2.35", 13)]))
    # 16.45 points a unit, 213 for 13: 3 units 49 (49.15), 7 units 114 (114.69…).
    refund_ids = _deliver_refunds(client, shop, [[("2.35", 3)], [("2.35", 4)]])
    assert _taken(session, shop, refund_ids) == [49, 65]
    cancelled = hooks.line_order([("2.35", 13)], cancelled_at="2026-11-22T10:00:00-05:00",
                                 cancel_reason="customer")
    for _ in range(2):
        hooks.deliver(client, shop.domain, "orders/cancelled", cancelled)
    row = customer(session, shop)
    assert row is not None and row.available_points == 0
    assert [(r.points, r.source_type) for r in rows(session, row.id)] == [
        (213, "order"), (-49, "refund"), (-65, "refund"), (-99, "order_cancel")]
    # The refund Shopify sends with the cancellation finds nothing left to take.
    assert _taken(session, shop, _deliver_refunds(client, shop, [[("2.35", 6)]])) == [0]
    assert_balanced(session, row)


def test_an_order_row_from_before_the_refund_basis_measures_against_the_eligible_amount(
    session: Session, shop: Any
) -> None:
    purchase_rule(session, shop, include_shipping=True)
    order = hooks.line_order([("40.00", 1), ("60.00", 1)], shipping="10.00")
    earning.earn_for_order(session, shop, payloads.order_facts(order), utcnow())  # 110
    record = session.scalars(select(OrderPoints).where(
        OrderPoints.shop_id == shop.id, OrderPoints.order_id == hooks.ORDER_ID)).one()
    record.refund_basis = None  # as revision 0005 left the rows it found
    refund = _refund(session, shop, hooks.ORDER_ID, (("40.00", 1),))
    assert _taken(session, shop, [refund]) == [40]


def test_an_order_that_earned_on_its_shipping_alone_loses_it_only_to_a_cancellation(
    session: Session, shop: Any
) -> None:
    purchase_rule(session, shop, include_shipping=True)
    order = hooks.line_order([("0.00", 1)], shipping="10.00")
    earning.earn_for_order(session, shop, payloads.order_facts(order), utcnow())  # 10
    # No line has anything to share out: refunding one takes nothing.
    refund = _refund(session, shop, hooks.ORDER_ID, (("0.00", 1),))
    assert _taken(session, shop, [refund]) == [0]
    reversals.reverse_for_cancel(session, shop, hooks.ORDER_ID, utcnow())
    row = customer(session, shop)
    assert row is not None and row.available_points == 0
    assert [r.points for r in rows(session, row.id)] == [10, -10]
