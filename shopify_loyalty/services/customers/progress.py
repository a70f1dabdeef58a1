"""Tier progress: what a customer's orders and earnings add up to, by day and for good.

Whatever changes progress calls ``record`` in its own transaction, with the instant the
change counts at (an order's ``processed_at``, a refund's or a cancellation's own time):
the customer's day row (``tier_progress_days``) and their lifetime totals on the customer
row (``spent_amount``, ``lifetime_earned_points``, ``lifetime_orders``) move together, by SQL
increments, so two writers at once never lose each other's change.

Reading costs at most one indexed query: LIFETIME is on the customer row, a period is the
sum of its days over the customer's primary-key range (at most 366 rows; two years, 731,
for the tiers job's CALENDAR_YEAR review). Progress is never shown or compared below zero:
a refund taken back in a later period than its order leaves that period negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.orm.attributes import set_committed_value

from shopify_loyalty.db import backend_insert, utcnow
from shopify_loyalty.db_driver import DriverStatement, run_in
from shopify_loyalty.db_reuse import per_backend, table_of
from shopify_loyalty.models import Customer, Shop, TierMetric, TierPeriod, TierProgressDay
from shopify_loyalty.services.program.tier_periods import (
    day_of,
    metric_of,
    period_of,
    window,
)

ZERO = Decimal("0")
DAY_COLUMNS: dict[TierMetric, InstrumentedAttribute[Any]] = {
    TierMetric.SPENT: TierProgressDay.spent,
    TierMetric.POINTS_EARNED: TierProgressDay.points,
    TierMetric.ORDERS: TierProgressDay.orders,
}


@dataclass(frozen=True)
class Standing:
    """A customer's progress as the tiers job weighs it."""

    current: Decimal
    # CALENDAR_YEAR only: last year's progress, which holds a tier through this year.
    last_year: Decimal = ZERO


def record(session: Session, customer: Customer, at: datetime, spent: Decimal = ZERO,
           points: int = 0, orders: int = 0) -> None:
    """Add signed changes to the customer's progress on ``at``'s UTC day and for good."""
    if not (spent or points or orders):
        return
    run_in(session, _ADD_TO_DAY, {
        "customer_id": customer.id, "day": day_of(at), "shop_id": customer.shop_id,
        "spent": spent, "points": points, "orders": orders,
    })
    (totals,) = run_in(session, _ADD_FOR_GOOD, {
        "customer": customer.id, "add_spent": spent, "add_points": points,
        "add_orders": orders, "at": utcnow(),
    })
    # Keep the loaded object in step without another SELECT.
    set_committed_value(customer, "spent_amount", totals[0])
    set_committed_value(customer, "lifetime_earned_points", totals[1])
    set_committed_value(customer, "lifetime_orders", totals[2])


# Built once (db.table_of, db.per_backend), run on the driver (db_driver): every order event
# runs both.
def _add_to_day(dialect: str) -> Any:
    days = table_of(TierProgressDay)
    insert = backend_insert(dialect, days)
    return insert.on_conflict_do_update(
        index_elements=["customer_id", "day"],
        set_={"spent": days.c.spent + insert.excluded.spent,
              "points": days.c.points + insert.excluded.points,
              "orders": days.c.orders + insert.excluded.orders},
    )


_ADD_TO_DAY = DriverStatement(_add_to_day("postgresql"),
                              ["customer_id", "day", "shop_id", "spent", "points", "orders"],
                              elsewhere=per_backend(_add_to_day))
_TOTALS = table_of(Customer).c
_ADD_FOR_GOOD = DriverStatement(
    table_of(Customer).update()
    .where(_TOTALS.id == bindparam("customer"))
    .values(spent_amount=_TOTALS.spent_amount + bindparam("add_spent"),
            lifetime_earned_points=_TOTALS.lifetime_earned_points + bindparam("add_points"),
            lifetime_orders=_TOTALS.lifetime_orders + bindparam("add_orders"),
            updated_at=bindparam("at"))
    .returning(_TOTALS.spent_amount, _TOTALS.lifetime_earned_points, _TOTALS.lifetime_orders)
)


def lifetime(customer: Customer, metric: TierMetric) -> Decimal:
    if metric is TierMetric.SPENT:
        value = Decimal(customer.spent_amount)
    elif metric is TierMetric.POINTS_EARNED:
        value = Decimal(customer.lifetime_earned_points)
    else:
        value = Decimal(customer.lifetime_orders)
    return max(value, ZERO)


def current(session: Session, shop: Shop, customer: Customer, now: datetime) -> Decimal:
    """The customer's progress in the shop's metric over its period, as of ``now``."""
    metric = metric_of(shop)
    days = window(period_of(shop), now)
    if days is None:
        return lifetime(customer, metric)
    first, end = days
    query = select(func.coalesce(func.sum(DAY_COLUMNS[metric]), 0)).where(
        TierProgressDay.customer_id == customer.id,
        TierProgressDay.shop_id == shop.id,
        TierProgressDay.day >= first,
    )
    if end is not None:
        query = query.where(TierProgressDay.day < end)
    return max(Decimal(session.scalar(query) or 0), ZERO)


def standings(session: Session, shop: Shop, customers: Sequence[Customer],
              now: datetime) -> dict[int, Standing]:
    """Every customer's standing (one of the shop's), in one grouped query."""
    metric, period = metric_of(shop), period_of(shop)
    days = window(period, now)
    if days is None:
        return {c.id: Standing(lifetime(c, metric)) for c in customers}
    start, end = days
    first = date(start.year - 1, 1, 1) if period is TierPeriod.CALENDAR_YEAR else start
    column, day = DAY_COLUMNS[metric], TierProgressDay.day
    query = (
        select(TierProgressDay.customer_id,
               func.sum(case((day >= start, column), else_=0)),
               func.sum(case((day < start, column), else_=0)))
        .where(TierProgressDay.customer_id.in_([c.id for c in customers]),
               TierProgressDay.shop_id == shop.id, day >= first)
        .group_by(TierProgressDay.customer_id)
    )
    if end is not None:
        query = query.where(day < end)
    rows = session.execute(query).all()
    found = {row[0]: Standing(max(Decimal(row[1] or 0), ZERO), max(Decimal(row[2] or 0), ZERO))
             for row in rows}
    return {c.id: found.get(c.id, Standing(ZERO)) for c in customers}
