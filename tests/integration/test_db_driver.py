"""Statements run on the driver inside a session's transaction (db_driver.run_in) and rows
written as stored (db_driver.insert_as_stored) behave as through the ORM: values through their
column types, the session's autoflush, SQLAlchemy's errors, nothing kept after a rollback; on
PostgreSQL (the driver) and on SQLite (Session.execute)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.db_driver import DriverStatement, insert_as_stored, run_in
from shopify_loyalty.db_reuse import table_of
from shopify_loyalty.models import (
    Customer,
    CustomerSync,
    FulfillmentStatus,
    OutboxMessage,
    Reward,
    RewardStatus,
    RewardType,
)
from shopify_loyalty.services import outbox
from shopify_loyalty.services.events.sync import marks
from tests import factories


def _reward_values(shop_id: int, customer_id: int, code: str) -> dict[str, object]:
    now = utcnow()
    return {
        "shop_id": shop_id, "customer_id": customer_id, "redeem_rule_id": None,
        "point_transaction_id": None, "reward_type": RewardType.DISCOUNT_CODE,
        "discount_kind": None, "description": "Ten off", "points": 400, "discount_code": code,
        "discount_code_id": None, "amount": Decimal("10.00"), "status": RewardStatus.UNUSED,
        "fulfillment_status": FulfillmentStatus.PENDING, "attempts": 0,
        "failure_reason": None, "first_attempt_at": None, "lease_until": None,
        "expires_at": now + timedelta(days=30), "used_at": None, "expiry_reminder_days": None,
        "last_expiry_reminder_sent_at": None, "order_id": None, "order_name": None,
        "variant_id": None, "created_at": now, "updated_at": now,
    }


def test_a_row_written_as_stored_reads_back_as_the_orm_would_write_it(
        both_backends_db: Database) -> None:
    with both_backends_db.unit_of_work() as session:
        customer = factories.customer(session, factories.shop(session))
        values = _reward_values(customer.shop_id, customer.id, "TENOFF-1")
        reward = insert_as_stored(session, Reward, values)
        state = inspect(reward)
        # Attached as stored: persistent, and nothing of it left to load.
        assert state.persistent and not state.unloaded and state.session is session
        # Due tomorrow: not sent after the commit (in-process it would fulfil the reward).
        task_id = outbox.enqueue(session, customer.shop_id, outbox.FULFIL_REWARD, reward.id,
                                 due_at=utcnow() + timedelta(days=1))
        reward_id = reward.id
    with both_backends_db.unit_of_work() as session:
        stored = session.get_one(Reward, reward_id)
        # The enums, the decimal and the aware datetimes went through their column types.
        assert {name: getattr(stored, name) for name in values} == values
        task = session.get_one(OutboxMessage, task_id)
        # JSON through its encoder; the scalar defaults the caller did not give, bound.
        assert (task.args, task.attempts, task.abandoned) == ([reward_id], 0, False)


_CUSTOMERS = DriverStatement(select(func.count()).select_from(table_of(Customer)))


def test_what_the_session_holds_pending_is_flushed_first_unless_told_not_to(
        both_backends_db: Database) -> None:
    with both_backends_db.unit_of_work() as session:
        shop = factories.shop(session)
        session.add(Customer(shop_id=shop.id, shopify_customer_id=79))
        with session.no_autoflush:
            assert run_in(session, _CUSTOMERS, {}) == [(0,)]
        assert run_in(session, _CUSTOMERS, {}) == [(1,)]  # as Session.execute would


def test_an_error_is_sqlalchemys_and_the_rollback_keeps_nothing(both_backends_db: Database) -> None:
    with both_backends_db.unit_of_work() as session:
        customer = factories.customer(session, factories.shop(session))
        shop_id, customer_id = customer.shop_id, customer.id
        insert_as_stored(session, Reward, _reward_values(shop_id, customer_id, "SAME-CODE"))
    with pytest.raises(IntegrityError), both_backends_db.unit_of_work() as session:
        insert_as_stored(session, Reward, _reward_values(shop_id, customer_id, "OTHER-CODE"))
        # The shop's codes are unique (ix_rewards_shop_id_discount_code).
        insert_as_stored(session, Reward, _reward_values(shop_id, customer_id, "SAME-CODE"))
    with both_backends_db.unit_of_work() as session:
        assert session.scalars(select(Reward.discount_code)).all() == ["SAME-CODE"]
        # The connection went back to the pool usable, out of the failed transaction.
        assert session.scalar(select(Reward.id).where(Reward.discount_code == "SAME-CODE"))


def test_several_parameter_sets_go_in_as_one_statement(both_backends_db: Database) -> None:
    def changes() -> dict[int, int]:
        with both_backends_db.unit_of_work() as session:
            return {customer_id: count for customer_id, count in session.execute(
                select(CustomerSync.customer_id, CustomerSync.changes))}

    with both_backends_db.unit_of_work() as session:
        shop = factories.shop(session)
        ids = [factories.customer(session, shop, shopify_id=n).id for n in (1, 2, 3)]
    before = changes()
    with both_backends_db.unit_of_work() as session:
        marks.mark(session, shop.id, ids, utcnow())  # three rows: Session.execute's
        marks.mark(session, shop.id, ids[:1], utcnow())  # one: the driver's on PostgreSQL
    after = changes()
    assert {key: after[key] - before.get(key, 0) for key in after} == {
        ids[0]: 2, ids[1]: 1, ids[2]: 1}


def test_a_statement_the_driver_cannot_take_is_refused_when_compiled(
        session: Session) -> None:
    rewards = table_of(Reward)
    with pytest.raises(ValueError, match="must be named"):
        run_in(session, DriverStatement(rewards.insert()), {})
    with pytest.raises(ValueError, match="created_at"):  # its default is utcnow()
        run_in(session, DriverStatement(rewards.insert(), ["shop_id", "points"]),
               {"shop_id": 1, "points": 1})
    with pytest.raises(ValueError, match="missing or unknown"):
        insert_as_stored(session, Reward, {"shop_id": 1})
