"""``ledger verify``: prove the books balance, customer by customer, in constant memory.

Every check reads the database as it is (a violation is reported, never repaired):

- ``available_points`` is the sum of the customer's approved rows, ``pending_points`` the sum
  of the pending ones, ``credited_points`` and ``spent_points`` the sums they count;
- ``available_after`` chains: each approved row moved the balance from some earlier row's
  ``available_after`` (or from zero) to its own, and the last one is the balance now. Rows
  approved after a delay take effect when approved, not in id order, so the chain is checked
  as a path through the balances (each row an edge before → after, from 0 to the balance:
  every balance entered as often as left, all in one piece), not as a running sum;
- the store-credit balance is the credit of the store-credit rewards still held;
- the point batches (what is left of each credit, spent oldest first) add up to the balance;
- and, in verify_rewards, every reward has its REDEEMED row, every REFUNDED reward exactly one
  REFUNDED row, every DONE reward a Shopify id that no other reward has.

The customers stream from one server-side cursor with their sums (one pass over the ledger,
grouped), and the rows of one customer at a time for the chain, so memory stays flat however
many customers there are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Numeric, and_, case, func, literal, select
from sqlalchemy.orm import Session

from shopify_loyalty.models import (
    Customer,
    LedgerKind,
    LedgerStatus,
    PointBatch,
    PointTransaction,
    Reward,
    RewardStatus,
    RewardType,
)
from shopify_loyalty.services.points.ledger import REWARD_SOURCE

# Customers (and their rows) fetched per round trip.
STREAM_BATCH = 2000


@dataclass(frozen=True)
class Violation:
    check: str
    shop_id: int
    customer_id: int | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "shopId": self.shop_id, "customerId": self.customer_id,
                "detail": self.detail}


def _sums(shop_id: int | None) -> Any:
    row = PointTransaction
    approved = row.status == LedgerStatus.APPROVED
    credited = and_(approved, (row.kind == LedgerKind.EARNED)
                    | and_(row.kind == LedgerKind.ADJUSTED, row.points > 0))
    # As services.points.ledger counts them: a reward's refund taken back is spending again.
    spent = and_(approved, row.kind.in_([LedgerKind.REDEEMED, LedgerKind.REFUNDED])
                 | and_(row.kind == LedgerKind.REVERSED, row.source_type == REWARD_SOURCE))
    sums = (
        select(
            row.customer_id.label("customer_id"),
            func.sum(case((approved, row.points), else_=0)).label("available"),
            func.sum(case((row.status == LedgerStatus.PENDING, row.points), else_=0))
            .label("pending"),
            func.sum(case((credited, row.points), else_=0)).label("credited"),
            func.sum(case((spent, -row.points), else_=0)).label("spent"),
        )
        .group_by(row.customer_id)
    )
    credit = (
        select(Reward.customer_id.label("customer_id"),
               func.sum(Reward.amount).label("credit"))
        .where(Reward.reward_type == RewardType.STORE_CREDIT,
               Reward.status.in_([RewardStatus.UNUSED, RewardStatus.USED]))
        .group_by(Reward.customer_id)
    )
    batches = (select(PointBatch.customer_id.label("customer_id"),
                      func.sum(PointBatch.remaining).label("remaining"))
               .group_by(PointBatch.customer_id))
    if shop_id is not None:
        sums = sums.where(row.shop_id == shop_id)
        credit = credit.where(Reward.shop_id == shop_id)
        batches = batches.where(PointBatch.shop_id == shop_id)
    return sums.subquery(), credit.subquery(), batches.subquery()


def customer_violations(session: Session, shop_id: int | None) -> Iterator[Violation | int]:
    """The balance checks, customer by customer; yields each violation, and each customer's
    id once it has been checked (the caller counts them)."""
    sums, credit, batches = _sums(shop_id)
    zero = literal(0, BigInteger)
    query = (
        select(Customer.id, Customer.shop_id, Customer.available_points,
               Customer.pending_points, Customer.credited_points, Customer.spent_points,
               Customer.store_credit_balance,
               func.coalesce(sums.c.available, zero), func.coalesce(sums.c.pending, zero),
               func.coalesce(sums.c.credited, zero), func.coalesce(sums.c.spent, zero),
               func.coalesce(credit.c.credit, literal(Decimal(0), Numeric(14, 2))),
               func.coalesce(batches.c.remaining, zero))
        .outerjoin(sums, sums.c.customer_id == Customer.id)
        .outerjoin(credit, credit.c.customer_id == Customer.id)
        .outerjoin(batches, batches.c.customer_id == Customer.id)
        .order_by(Customer.id)
    )
    if shop_id is not None:
        query = query.where(Customer.shop_id == shop_id)
    rows = session.execute(query.execution_options(yield_per=STREAM_BATCH))
    chains = _chains(session, shop_id)
    pending_chain = next(chains, None)
    for (cid, shop, available, pending, credited, spent, store_credit,
         sum_available, sum_pending, sum_credited, sum_spent, sum_credit, in_batches) in rows:
        for check, have, want in (
            ("point_batches", in_batches, available),
            ("available_points", available, sum_available),
            ("pending_points", pending, sum_pending),
            ("credited_points", credited, sum_credited),
            ("spent_points", spent, sum_spent),
            ("store_credit_balance", Decimal(store_credit), Decimal(sum_credit)),
        ):
            if have != want:
                yield Violation(check, shop, cid, f"is {have}, the books say {want}")
        while pending_chain is not None and pending_chain[0] < cid:
            pending_chain = next(chains, None)
        edges = pending_chain[1] if pending_chain and pending_chain[0] == cid else []
        problem = chain_problem(edges, available)
        if problem:
            yield Violation("available_after", shop, cid, problem)
        yield cid


def _chains(session: Session, shop_id: int | None) -> Iterator[tuple[int, list[tuple[int, int]]]]:
    """(customer id, [(balance before, balance after)] of its approved rows), by customer."""
    row = PointTransaction
    query = (select(row.customer_id, row.points, row.available_after)
             .where(row.status == LedgerStatus.APPROVED)
             .order_by(row.customer_id, row.id))
    if shop_id is not None:
        query = query.where(row.shop_id == shop_id)
    current: int | None = None
    edges: list[tuple[int, int]] = []
    for customer_id, points, after in session.execute(
            query.execution_options(yield_per=STREAM_BATCH * 5)):
        if customer_id != current:
            if current is not None:
                yield current, edges
            current, edges = customer_id, []
        after = after if after is not None else -1  # an approved row must have one
        edges.append((after - points, after))
    if current is not None:
        yield current, edges


def chain_problem(edges: list[tuple[int, int]], balance: int) -> str | None:
    """Why the rows cannot be one sequence from 0 to ``balance``, or None when they can."""
    if not edges:
        return None if balance == 0 else f"no approved rows, yet a balance of {balance}"
    if any(after < 0 or before < 0 for before, after in edges):
        return "a row leaves the balance below zero, or has no balance after it"
    flow: Counter[int] = Counter()
    for before, after in edges:
        flow[before] -= 1
        flow[after] += 1
    flow[0] += 1
    flow[balance] -= 1
    unbalanced = {value: n for value, n in flow.items() if n}
    if unbalanced:
        sample = ", ".join(f"{value}: {n:+d}" for value, n in list(unbalanced.items())[:3])
        return f"rows do not chain from 0 to {balance} (unmatched balances {sample})"
    if not _connected(edges):
        return "rows fall into separate chains"
    return None


def _connected(edges: list[tuple[int, int]]) -> bool:
    parent: dict[int, int] = {}

    def root(value: int) -> int:
        parent.setdefault(value, value)
        while parent[value] != value:
            parent[value] = parent[parent[value]]
            value = parent[value]
        return value

    for before, after in edges:
        parent[root(before)] = root(after)
    return len({root(value) for value in list(parent)}) == 1
