"""Tier progress: every metric over every period, each order, refund and cancellation on its
own day, in any arrival order (services.customers.progress, services.orders.progress)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.models import Shop, TierProgressDay
from shopify_loyalty.services.customers import progress
from shopify_loyalty.services.orders import earning
from shopify_loyalty.shopify import webhook_payloads as payloads
from tests import factories
from tests import shopify_webhooks as hooks
from tests.integration.tier_setup import (
    NOW,
    at,
    cancel,
    configure,
    customer,
    earn,
    refund,
)
from tests.integration.webhook_setup import purchase_rule, signup_rule

ORDER = 5_000_000_001
REFUND = 6_000_000_001


def _history(session: Session, shop: Shop) -> None:
    """Four orders of one customer, seen from NOW (2026-06-15), one point per unit."""
    earn(session, shop, ORDER, "100.00", NOW - timedelta(days=400))  # 2025-05-11
    earn(session, shop, ORDER + 1, "50.00", at("2025-12-20T10:00"))
    earn(session, shop, ORDER + 2, "30.00", at("2026-03-01T10:00"))
    refund(session, shop, ORDER + 2, REFUND, "10.00", at("2026-04-01T10:00"))
    earn(session, shop, ORDER + 3, "20.00", at("2026-05-01T10:00"))
    cancel(session, shop, ORDER + 3, at("2026-05-02T10:00"))


# SPENT is net of refunds only (a cancelled order's money counts until it is refunded);
# POINTS_EARNED net of every reversal; ORDERS net of cancellations.
EXPECTED = {
    ("SPENT", "LIFETIME"): 190, ("SPENT", "CALENDAR_YEAR"): 40,
    ("SPENT", "ROLLING_12_MONTHS"): 90,
    ("POINTS_EARNED", "LIFETIME"): 170, ("POINTS_EARNED", "CALENDAR_YEAR"): 20,
    ("POINTS_EARNED", "ROLLING_12_MONTHS"): 70,
    ("ORDERS", "LIFETIME"): 3, ("ORDERS", "CALENDAR_YEAR"): 1,
    ("ORDERS", "ROLLING_12_MONTHS"): 2,
}


@pytest.mark.parametrize("metric, period", list(EXPECTED))
def test_every_metric_over_every_period(
    session: Session, shop: Shop, metric: str, period: str
) -> None:
    purchase_rule(session, shop)
    _history(session, shop)
    configure(shop, metric, period)
    row = customer(session, shop)
    assert progress.current(session, shop, row, NOW) == EXPECTED[(metric, period)]
    if period == "ROLLING_12_MONTHS" and metric == "ORDERS":
        # Six months on, the December order has left the window too.
        assert progress.current(session, shop, row, at("2026-12-21T00:00")) == 1


def test_an_order_400_days_old_counts_for_life_but_not_in_a_rolling_window(
    session: Session, shop: Shop
) -> None:
    purchase_rule(session, shop)
    earn(session, shop, ORDER, "80.00", NOW - timedelta(days=400))
    row = customer(session, shop)
    configure(shop, "SPENT", "ROLLING_12_MONTHS")
    assert progress.current(session, shop, row, NOW) == 0
    assert progress.current(session, shop, row, NOW - timedelta(days=36)) == 80  # day 364
    assert progress.current(session, shop, row, NOW - timedelta(days=35)) == 0  # day 365
    configure(shop, "SPENT", "LIFETIME")
    assert progress.current(session, shop, row, NOW) == 80


def test_a_refund_before_its_order_counts_on_its_own_day_when_the_order_does(
    session: Session, shop: Shop
) -> None:
    purchase_rule(session, shop)
    refund(session, shop, ORDER, REFUND, "40.00", at("2026-02-10T09:00"))
    earn(session, shop, ORDER, "100.00", at("2025-12-30T09:00"))
    row = customer(session, shop)
    assert (row.spent_amount, row.lifetime_earned_points, row.lifetime_orders) == (
        Decimal("60.00"), 60, 1)
    days = session.execute(select(TierProgressDay.day, TierProgressDay.spent,
                                  TierProgressDay.points, TierProgressDay.orders)
                           .order_by(TierProgressDay.day)).all()
    assert [(str(d), s, p, o) for d, s, p, o in days] == [
        ("2025-12-30", Decimal("100.00"), 100, 1), ("2026-02-10", Decimal("-40.00"), -40, 0)]
    configure(shop, "SPENT", "CALENDAR_YEAR")
    assert progress.current(session, shop, row, NOW) == 0  # 2026 holds only the refund
    assert progress.current(session, shop, row, at("2025-12-31T00:00")) == 100


def test_refunds_beyond_the_subtotal_take_back_no_more_than_it(
    session: Session, shop: Shop
) -> None:
    purchase_rule(session, shop)
    earn(session, shop, ORDER, "50.00", NOW)
    refund(session, shop, ORDER, REFUND, "30.00", NOW)
    refund(session, shop, ORDER, REFUND + 1, "30.00", NOW)
    refund(session, shop, ORDER, REFUND + 1, "30.00", NOW)  # a replay: nothing more
    assert customer(session, shop).spent_amount == 0


def test_sign_up_points_count_as_points_earned_and_guest_orders_for_nobody(
    session: Session, shop: Shop
) -> None:
    signup_rule(session, shop, points=25)
    purchase_rule(session, shop)
    earning.earn_for_order(session, shop, payloads.order_facts(
        hooks.order(order_id=ORDER, customer_id=None)), NOW)
    factories.customer(session, shop, 4242)
    configure(shop, "POINTS_EARNED", "CALENDAR_YEAR")
    row = customer(session, shop, 4242)
    assert row.lifetime_earned_points == 25
    assert progress.current(session, shop, row, utcnow()) == 25
    assert session.scalars(select(TierProgressDay.customer_id)).all() == [row.id]


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02}"


Event = tuple[str, int]  # ("refund", n) or ("cancel", 0) or ("earn", 0)


@st.composite
def histories(draw: st.DrawFn) -> tuple[int, list[int], bool, list[Event]]:
    subtotal = draw(st.integers(1, 50_000))
    refunds = draw(st.lists(st.integers(1, 30_000), max_size=4))
    cancelled = draw(st.booleans())
    events: list[Event] = [("earn", 0), *[("refund", n) for n in range(len(refunds))]]
    if cancelled:
        events.append(("cancel", 0))
    return subtotal, refunds, cancelled, draw(st.permutations(events))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_any_arrival_order_gives_the_same_progress_day_by_day(
    session: Session, history: tuple[int, list[int], bool, list[Event]]
) -> None:
    subtotal, refunds, cancelled, events = history
    shop = factories.shop(session)
    purchase_rule(session, shop)
    order_day, cancel_day = at("2026-01-05T10:00"), at("2026-03-01T10:00")
    for kind, n in events:
        if kind == "earn":
            earn(session, shop, ORDER, _amount(subtotal), order_day)
        elif kind == "refund":
            refund(session, shop, ORDER, REFUND + n, _amount(refunds[n]),
                   at("2026-02-01T10:00") + timedelta(days=n))
        else:
            cancel(session, shop, ORDER, cancel_day)
    row = customer(session, shop)
    # Money: the subtotal on its day, each refund (in arrival order) on its own day while
    # any is left.
    expected_spent: dict[str, int] = {"2026-01-05": subtotal}
    left = subtotal
    for n in [n for kind, n in events if kind == "refund"]:
        taken = min(refunds[n], left)
        left -= taken
        expected_spent[str((at("2026-02-01T10:00") + timedelta(days=n)).date())] = -taken
    days = {str(d.day): d for d in session.scalars(
        select(TierProgressDay).where(TierProgressDay.customer_id == row.id))}
    assert {d: int(r.spent * 100) for d, r in days.items() if r.spent} == {
        d: v for d, v in expected_spent.items() if v}
    assert row.spent_amount * 100 == left
    assert row.lifetime_orders == (0 if cancelled else 1)
    assert sum(r.points for r in days.values()) == row.lifetime_earned_points
    assert row.lifetime_earned_points == row.available_points  # earned less reversed


def test_webhooks_count_each_event_on_the_day_shopify_gives_it(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    purchase_rule(session, shop)
    paid = hooks.order(subtotal="80.00", processed_at="2026-01-31T23:30:00-05:00")
    hooks.deliver(client, shop.domain, "orders/paid", paid)
    returned = hooks.refund(subtotals=("30.00",))
    returned.update(processed_at="2026-02-10T08:00:00+01:00")
    hooks.deliver(client, shop.domain, "refunds/create", returned)
    hooks.deliver(client, shop.domain, "orders/cancelled",
                  {**paid, "cancelled_at": "2026-03-03T12:00:00Z"})
    days = session.execute(select(TierProgressDay.day, TierProgressDay.spent,
                                  TierProgressDay.points, TierProgressDay.orders)
                           .order_by(TierProgressDay.day)).all()
    # UTC days: 23:30 in New York on 31 January is 1 February.
    assert [(str(d), s, p, o) for d, s, p, o in days] == [
        ("2026-02-01", Decimal("80.00"), 80, 1), ("2026-02-10", Decimal("-30.00"), -30, 0),
        ("2026-03-03", Decimal("0.00"), -50, -1)]
