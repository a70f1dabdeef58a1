"""A redemption that fails half-way leaves nothing behind, and sends nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from shopify_loyalty.db import Database
from shopify_loyalty.models import Customer, IdempotencyKey, OutboxMessage, PointTransaction, Reward
from shopify_loyalty.services import outbox
from tests import factories
from tests.conftest import SentTasks, auth

URL = "/loyalty/cp/api/redeem-points"


class Crash(Exception):
    pass


def test_a_failure_after_the_debit_rolls_everything_back(
    app: Flask, committed_db: Database, sent_tasks: SentTasks, monkeypatch: pytest.MonkeyPatch
) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        customer = factories.customer(session, shop, 1001, points=800)
        rule = factories.rule(session, shop)
        domain, customer_id, rule_id = shop.domain, customer.id, rule.id
        ledger_rows_before = session.scalar(select(func.count(PointTransaction.id)))

    def crash(*args: Any, **kwargs: Any) -> None:
        raise Crash("the process died between the debit and the outbox row")

    monkeypatch.setattr(outbox, "enqueue", crash)
    client = app.test_client()
    headers = {**auth(domain, 1001), "Idempotency-Key": "crashy"}
    response = client.post(URL, json={"redeemRuleId": rule_id}, headers=headers)

    assert response.status_code == 500
    assert response.json == {"code": "internal_error", "status": 500,
                             "message": "Something went wrong on our side."}
    with committed_db.unit_of_work() as session:
        assert session.get_one(Customer, customer_id).available_points == 800
        assert session.scalar(select(func.count(PointTransaction.id))) == ledger_rows_before
        assert session.scalar(select(func.count(Reward.id))) == 0
        assert session.scalar(select(func.count(OutboxMessage.id))) == 0
        # The key is released, so the customer's retry is not stuck behind it.
        assert session.scalar(select(func.count(IdempotencyKey.id))) == 0
    assert sent_tasks == []

    monkeypatch.undo()
    retry = client.post(URL, json={"redeemRuleId": rule_id}, headers=headers)
    assert retry.status_code == 200 and retry.json["availablePoints"] == 300
    assert len(sent_tasks) == 1


def test_the_balance_cannot_go_negative_even_bypassing_the_service(
    committed_db: Database,
) -> None:
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        customer_id = factories.customer(session, shop, 1001, points=10).id
    with pytest.raises(IntegrityError), committed_db.unit_of_work() as session:
        session.execute(update(Customer).where(Customer.id == customer_id)
                        .values(available_points=-1))


def test_ledger_rows_cannot_be_rewritten(committed_db: Database) -> None:
    from sqlalchemy import update
    from sqlalchemy.exc import DBAPIError

    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        customer_id = factories.customer(session, shop, 1001, points=10).id
    with pytest.raises(DBAPIError, match="append-only"), committed_db.unit_of_work() as session:
        session.execute(update(PointTransaction)
                        .where(PointTransaction.customer_id == customer_id)
                        .values(points=1_000_000))
