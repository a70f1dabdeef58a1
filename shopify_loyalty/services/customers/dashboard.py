"""The merchant's dashboard: what the program holds and does, in two aggregate queries.

1. *Totals*: the shop's customers grouped by status (count and point sums) and its rewards
   grouped by rule and status, in one ``UNION ALL``; both read covering indexes
   (migration 0012), never the customer or reward rows.
2. *Days*: points earned and redeemed per UTC day over the last 30 days, from the ledger's
   ``(shop_id, created_at)`` index.

Definitions (the README's *Merchant admin* section says the same):

- members: customers taking part (ACTIVE or INACTIVE; not the excluded ones);
- points outstanding: the available points of every customer (an excluded customer keeps
  theirs); their value is that times the point value (program.point_value);
- redemption rate: points redeemed (net of refunds) over points ever credited (earned and
  added by hand), lifetime, from the customers' counters;
- earned per day: EARNED ledger rows not rejected, pending ones included; redeemed per day:
  REDEEMED rows, before any refund;
- top rewards: the rules redeemed most often, refunded rewards left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import ColumnElement, String, case, func, literal, null, select, type_coerce
from sqlalchemy.orm import Session

from shopify_loyalty.models import (
    Customer,
    CustomerStatus,
    LedgerKind,
    LedgerStatus,
    PointTransaction,
    Reward,
    RewardStatus,
    Shop,
)
from shopify_loyalty.services.program import point_value, redeem_rules

DAYS = 30
TOP_REWARDS = 5
MEMBER_STATUSES = (CustomerStatus.ACTIVE, CustomerStatus.INACTIVE)
CENT = Decimal("0.01")
# Four places: a rate reads as 23.47 %.
RATE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Day:
    day: date
    earned: int
    redeemed: int


@dataclass(frozen=True)
class TopReward:
    rule_id: int | None
    name: str
    count: int
    points: int


@dataclass(frozen=True)
class Dashboard:
    currency: str
    customers_by_status: dict[str, int]
    points_outstanding: int
    points_pending: int
    points_credited: int
    points_spent: int
    point_value: point_value.PointValue
    days: Sequence[Day]
    rewards_by_status: dict[str, int]
    top_rewards: Sequence[TopReward]

    @property
    def members(self) -> int:
        return sum(self.customers_by_status[status.value] for status in MEMBER_STATUSES)

    @property
    def outstanding_value(self) -> Decimal | None:
        rate = self.point_value.rate
        if rate is None:
            return None
        return (rate * self.points_outstanding).quantize(CENT, ROUND_HALF_EVEN)

    @property
    def redemption_rate(self) -> Decimal | None:
        if self.points_credited <= 0:
            return None
        share = Decimal(self.points_spent) / self.points_credited
        return share.quantize(RATE_PLACES, ROUND_HALF_EVEN)


def summary(session: Session, shop: Shop, now: datetime) -> Dashboard:
    """The shop's dashboard as of ``now`` (days in UTC, the last one today). Raises nothing."""
    rules = redeem_rules.redeem_rules(session, shop)
    names = {rule.id: rule.name for rule in rules}
    customers: dict[str, list[int]] = {s.value: [0, 0, 0, 0, 0] for s in CustomerStatus}
    rewards: dict[str, int] = {s.value: 0 for s in RewardStatus}
    per_rule: dict[int | None, list[int]] = {}
    for part, status, rule_id, *numbers in session.execute(_totals_query(shop.id)):
        values = [int(n or 0) for n in numbers]
        if part == "customers":
            customers[status] = values
            continue
        rewards[status] += values[0]
        if status != RewardStatus.REFUNDED.value:
            counted = per_rule.setdefault(rule_id, [0, 0])
            counted[0] += values[0]
            counted[1] += values[1]
    top = sorted(per_rule.items(), key=lambda item: (-item[1][0], item[0] or 0))[:TOP_REWARDS]
    return Dashboard(
        currency=shop.currency,
        customers_by_status={status: values[0] for status, values in customers.items()},
        points_outstanding=sum(values[1] for values in customers.values()),
        points_pending=sum(values[2] for values in customers.values()),
        points_credited=sum(values[3] for values in customers.values()),
        points_spent=sum(values[4] for values in customers.values()),
        point_value=point_value.point_value(shop, rules),
        days=_days(session, shop.id, now),
        rewards_by_status=rewards,
        top_rewards=[TopReward(rule_id, names.get(rule_id, "(rule removed)") if rule_id
                               else "(no rule)", count, points)
                     for rule_id, (count, points) in top],
    )


def _totals_query(shop_id: int) -> Any:
    """(part, status, rule id, count, four sums): customers by status, rewards by rule and
    status. Statuses as plain strings: the two parts' enums differ."""
    customers = select(
        literal("customers"), type_coerce(Customer.status, String), null(), func.count(),
        func.sum(Customer.available_points), func.sum(Customer.pending_points),
        func.sum(Customer.credited_points), func.sum(Customer.spent_points),
    ).where(Customer.shop_id == shop_id).group_by(Customer.status)
    rewards = select(
        literal("rewards"), type_coerce(Reward.status, String), Reward.redeem_rule_id,
        func.count(), func.sum(Reward.points), null(), null(), null(),
    ).where(Reward.shop_id == shop_id).group_by(Reward.status, Reward.redeem_rule_id)
    return customers.union_all(rewards)


def _utc_day(session: Session, column: Any) -> ColumnElement[Any]:
    # PostgreSQL's date() would use the session's time zone; SQLite stores UTC already.
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def first_day(now: datetime) -> datetime:
    """The start (UTC midnight) of the first of the DAYS days that end today."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=DAYS - 1)


def _days_query(session: Session, shop_id: int, since: datetime) -> Any:
    """(UTC day, points earned, points redeemed) of the days since ``since`` with any."""
    day = _utc_day(session, PointTransaction.created_at)
    earned = case((PointTransaction.kind == LedgerKind.EARNED, PointTransaction.points), else_=0)
    redeemed = case((PointTransaction.kind == LedgerKind.REDEEMED, -PointTransaction.points),
                    else_=0)
    return (
        select(day, func.sum(earned), func.sum(redeemed))
        .where(
            PointTransaction.shop_id == shop_id,
            PointTransaction.created_at >= since,
            PointTransaction.kind.in_((LedgerKind.EARNED, LedgerKind.REDEEMED)),
            PointTransaction.status != LedgerStatus.REJECTED,
        )
        .group_by(day)
    )


def _days(session: Session, shop_id: int, now: datetime) -> list[Day]:
    since = first_day(now)
    rows = session.execute(_days_query(session, shop_id, since))
    found = {date.fromisoformat(str(d)): (int(e or 0), int(r or 0)) for d, e, r in rows}
    days = [since.date() + timedelta(days=i) for i in range(DAYS)]
    return [Day(day, *found.get(day, (0, 0))) for day in days]
