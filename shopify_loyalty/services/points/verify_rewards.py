"""``ledger verify``'s reward checks: each a query that returns only what breaks a rule.

- every reward that cost points has its REDEEMED ledger row (source ``reward:<id>``);
- every REFUNDED reward has its REFUNDED row (exactly one: the ledger's unique key allows no
  second);
- every DONE reward has a Shopify id, and no two rewards of a shop share one;
- every ledger row belongs to a customer of its own shop.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import ColumnElement, Select, String, and_, cast, func, select
from sqlalchemy.orm import Session, aliased

from shopify_loyalty.models import (
    Customer,
    FulfillmentStatus,
    LedgerKind,
    PointTransaction,
    Reward,
    RewardStatus,
)
from shopify_loyalty.services.points.verify import STREAM_BATCH, Violation


def _rewards_without_row(kind: LedgerKind, shop_id: int | None,
                         *conditions: ColumnElement[bool]) -> Select[int, int, int | None]:
    """The rewards (matching ``conditions``) that have no ledger row of ``kind``."""
    row = aliased(PointTransaction)
    query = (
        select(Reward.id, Reward.shop_id, Reward.customer_id)
        .outerjoin(row, and_(row.shop_id == Reward.shop_id, row.kind == kind,
                             row.source_type == "reward",
                             row.source_id == cast(Reward.id, String)))
        .where(row.id.is_(None), *conditions)
        .order_by(Reward.id)
    )
    if shop_id is not None:
        query = query.where(Reward.shop_id == shop_id)
    return query


def reward_violations(session: Session, shop_id: int | None) -> Iterator[Violation]:
    checks = (
        ("reward_without_redemption", LedgerKind.REDEEMED, (Reward.points > 0,),
         "has no REDEEMED ledger row"),
        ("refund_without_ledger_row", LedgerKind.REFUNDED,
         (Reward.status == RewardStatus.REFUNDED, Reward.points > 0),
         "is REFUNDED but its points never came back"),
    )
    for check, kind, conditions, detail in checks:
        query = _rewards_without_row(kind, shop_id, *conditions)
        for reward_id, shop, customer in session.execute(
                query.execution_options(yield_per=STREAM_BATCH)):
            yield Violation(check, shop, customer, f"reward {reward_id} {detail}")
    yield from _done_rewards(session, shop_id)
    yield from _foreign_rows(session, shop_id)


def _done_rewards(session: Session, shop_id: int | None) -> Iterator[Violation]:
    unmade = select(Reward.id, Reward.shop_id, Reward.customer_id).where(
        Reward.fulfillment_status == FulfillmentStatus.DONE, Reward.discount_code_id.is_(None))
    shared = (
        select(Reward.shop_id, Reward.discount_code_id, func.count(), func.min(Reward.id))
        .where(Reward.discount_code_id.is_not(None))
        .group_by(Reward.shop_id, Reward.discount_code_id)
        .having(func.count() > 1)
    )
    if shop_id is not None:
        unmade = unmade.where(Reward.shop_id == shop_id)
        shared = shared.where(Reward.shop_id == shop_id)
    for reward_id, shop, customer in session.execute(unmade):
        yield Violation("done_without_shopify_id", shop, customer,
                        f"reward {reward_id} is DONE with no Shopify id")
    for shop, gid, count, first in session.execute(shared):
        yield Violation("shopify_id_shared", shop, None,
                        f"{count} rewards (from {first}) share Shopify id {gid}")


def _foreign_rows(session: Session, shop_id: int | None) -> Iterator[Violation]:
    query = (
        select(PointTransaction.id, PointTransaction.shop_id, PointTransaction.customer_id)
        .join(Customer, Customer.id == PointTransaction.customer_id)
        .where(Customer.shop_id != PointTransaction.shop_id)
    )
    if shop_id is not None:
        query = query.where(PointTransaction.shop_id == shop_id)
    for row_id, shop, customer in session.execute(query):
        yield Violation("row_of_another_shop", shop, customer,
                        f"ledger row {row_id} belongs to a customer of another shop")
