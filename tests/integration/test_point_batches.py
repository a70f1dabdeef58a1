"""Point batches: every credit opens one, every debit spends the oldest points first, and the
batches always add up to the available balance; migration 0010 rebuilds the same batches from
the ledger alone."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path
from types import ModuleType

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.errors import LoyaltyError
from shopify_loyalty.models import LedgerKind, PointBatch, Shop
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.points import ledger, pending
from shopify_loyalty.services.rewards import admin as rewards_admin
from shopify_loyalty.services.rewards import redemption
from tests import factories

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0010_expiry.py"


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("migration_0010", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def adjust(session: Session, shop: Shop, points: int) -> None:
    adjustments.adjust_points(session, shop, 1001, points, "test")


def test_spending_uses_the_oldest_points_first(session: Session, shop: Shop) -> None:
    customer = factories.customer(session, shop, 1001)
    for points in (100, 200, 300):
        adjust(session, shop, points)
    rule = factories.rule(session, shop, points_cost=250)
    redemption.redeem_points(session, shop, customer, redemption.RedeemCommand(rule.id),
                             utcnow())
    assert factories.batches(session, customer.id) == [0, 50, 300]
    adjust(session, shop, -100)  # a negative adjustment spends the oldest first too
    assert factories.batches(session, customer.id) == [0, 0, 250]
    adjust(session, shop, 40)
    assert factories.batches(session, customer.id) == [0, 0, 250, 40]
    assert sum(factories.batches(session, customer.id)) == customer.available_points == 290


def test_pending_points_have_no_batch_until_approved(session: Session, shop: Shop) -> None:
    customer = factories.customer(session, shop, 1001, points=100)
    due = utcnow() + timedelta(days=14)
    pending.post_pending(session, customer, LedgerKind.EARNED, 70,
                         ledger.Source("order", "1"), due)
    pending.post_pending(session, customer, LedgerKind.REVERSED, -20,
                         ledger.Source("refund", "1"), due)
    assert factories.batches(session, customer.id) == [100]
    pending.approve_due(session, customer.id, due)
    # The earning opened its batch at approval; its reversal spent the oldest points.
    assert factories.batches(session, customer.id) == [80, 70]
    opened = session.scalars(select(PointBatch.earned_at).order_by(PointBatch.id)).all()
    assert opened[-1] == due
    session.refresh(customer)
    assert customer.last_activity_at == due


def test_a_refunded_reward_comes_back_as_a_new_batch(session: Session, shop: Shop) -> None:
    customer = factories.customer(session, shop, 1001, points=600)
    rule = factories.rule(session, shop, points_cost=500)
    reward = redemption.redeem_points(session, shop, customer,
                                      redemption.RedeemCommand(rule.id), utcnow())
    rewards_admin.refund_reward(session, shop, reward.id)
    assert factories.batches(session, customer.id) == [100, 500]


operation = st.one_of(
    st.tuples(st.just("adjust"), st.integers(min_value=-400, max_value=400)),
    st.tuples(st.just("redeem"), st.sampled_from([100, 250])),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, max_size=20))
def test_batches_follow_fifo_and_the_migration_rebuilds_them(
    session: Session, ops: list[tuple[str, int]]
) -> None:
    shop = factories.shop(session)
    customer = factories.customer(session, shop, 1001)
    rules = {cost: factories.rule(session, shop, points_cost=cost) for cost in (100, 250)}
    model: list[int] = []  # what FIFO says is left of each credit, oldest first
    for op, value in ops:
        try:
            with session.begin_nested():
                if op == "adjust" and value:
                    adjust(session, shop, value)
                elif op == "redeem":
                    redemption.redeem_points(session, shop, customer,
                                             redemption.RedeemCommand(rules[value].id), utcnow())
                    value = -value
                else:
                    continue
        except LoyaltyError:
            continue
        if value > 0:
            model.append(value)
        else:
            spend = -value
            for n, left in enumerate(model):
                model[n] -= min(left, spend)
                spend -= min(left, spend)
        session.refresh(customer)
        assert factories.batches(session, customer.id) == model
        assert sum(model) == customer.available_points

    kept = _live_batches(session, customer.id)
    session.execute(delete(PointBatch).where(PointBatch.customer_id == customer.id))
    _rebuild(session, customer.id)
    assert _live_batches(session, customer.id) == kept


def _live_batches(session: Session, customer_id: int) -> list[tuple[int | None, int]]:
    return [(row.transaction_id, row.remaining) for row in session.execute(
        select(PointBatch.transaction_id, PointBatch.remaining)
        .where(PointBatch.customer_id == customer_id, PointBatch.remaining > 0)
        .order_by(PointBatch.transaction_id))]


def _rebuild(session: Session, customer_id: int) -> None:
    """The migration's backfill, for this one customer (others' rows are left alone)."""
    fill = _migration().FILL_BATCHES.replace(
        "WHERE t.status = 'APPROVED' AND t.points > 0",
        "WHERE t.status = 'APPROVED' AND t.points > 0 AND t.customer_id = :customer")
    session.execute(text(fill), {"customer": customer_id})
    session.execute(delete(PointBatch).where(PointBatch.customer_id == customer_id,
                                             PointBatch.remaining == 0))
    assert session.scalar(select(func.count()).select_from(PointBatch).where(
        PointBatch.customer_id == customer_id, PointBatch.remaining < 0)) == 0
