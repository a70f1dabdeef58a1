"""``ledger verify``: clean books pass; each kind of corruption, made by direct SQL, is caught
and makes the command exit 1."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.models import LedgerKind, RedeemRuleKind, Shop
from shopify_loyalty.services.points import ledger, pending
from shopify_loyalty.services.points.verify import chain_problem
from tests import factories
from tests.conftest import auth


def verify(app: Flask, *args: str) -> tuple[int, dict[str, Any]]:
    result = app.test_cli_runner().invoke(args=["ledger", "verify", *args])
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def books(client: FlaskClient, session: Session, shop: Shop) -> Shop:
    """A shop with real history: adjustments, a redemption, a credit, pending points approved
    late (out of id order), a refund."""
    customer = factories.customer(session, shop, 1001, points=2000)
    other = factories.customer(session, shop, 1002, points=50)
    pending.post_pending(session, other, LedgerKind.EARNED, 30, ledger.Source("order", "9"),
                         utcnow() - timedelta(seconds=1))
    rule = factories.rule(session, shop)
    credit = factories.rule(session, shop, RedeemRuleKind.STORE_CREDIT)
    session.commit()
    for rule_id in (rule.id, credit.id):
        assert client.post("/loyalty/cp/api/redeem-points", json={"redeemRuleId": rule_id},
                           headers=auth(shop.domain, 1001)).status_code == 200
    ledger.post(session, other, LedgerKind.ADJUSTED, -20, ledger.Source("admin", "x"), "spent")
    pending.approve_due(session, other.id, utcnow())
    session.commit()
    assert customer.id
    return shop


def test_clean_books_pass(app: Flask, books: Shop) -> None:
    status, report = verify(app)
    assert status == 0, report
    assert report["violations"] == [] and report["customers"] >= 2
    status, mine = verify(app, books.domain)
    assert status == 0 and mine["customers"] == 2


@pytest.mark.parametrize("corruption,check", [
    ("UPDATE customers SET available_points = available_points + 7 "
     "WHERE shopify_customer_id = 1001", "available_points"),
    ("UPDATE customers SET pending_points = 5 WHERE shopify_customer_id = 1002",
     "pending_points"),
    ("UPDATE point_transactions SET available_after = available_after + 100 "
     "WHERE id = (SELECT min(id) FROM point_transactions WHERE kind = 'REDEEMED')",
     "available_after"),
    ("UPDATE rewards SET status = 'REFUNDED' "
     "WHERE id = (SELECT min(id) FROM rewards)", "refund_without_ledger_row"),
    ("UPDATE rewards SET fulfillment_status = 'DONE', discount_code_id = 'gid://x/1'",
     "shopify_id_shared"),
    ("UPDATE customers SET store_credit_balance = 0", "store_credit_balance"),
    ("UPDATE point_batches SET remaining = remaining + 1 "
     "WHERE id = (SELECT max(id) FROM point_batches)", "point_batches"),
])
def test_each_corruption_is_caught(app: Flask, session: Session, books: Shop,
                                   corruption: str, check: str) -> None:
    session.execute(text(corruption))
    session.commit()
    status, report = verify(app, books.domain)
    assert status == 1
    assert check in report["violationCounts"], report
    assert all(v["shopId"] == books.id for v in report["violations"])


def test_a_reward_without_its_redemption_row_is_caught(
    app: Flask, session: Session, books: Shop,
) -> None:
    session.execute(text("UPDATE rewards SET point_transaction_id = NULL"))
    session.execute(text("DELETE FROM point_transactions WHERE kind = 'REDEEMED' AND id = "
                         "(SELECT min(id) FROM point_transactions WHERE kind = 'REDEEMED')"))
    session.commit()
    status, report = verify(app)
    assert status == 1 and "reward_without_redemption" in report["violationCounts"]


def test_an_unknown_shop_is_a_json_error(app: Flask, session: Session) -> None:
    result = app.test_cli_runner().invoke(args=["ledger", "verify", "nope.myshopify.com"])
    assert result.exit_code == 1 and json.loads(result.stderr)["code"] == "not_found"


@pytest.mark.parametrize("edges,balance,ok", [
    ([], 0, True),
    ([(0, 100), (100, 40)], 40, True),
    ([(0, 100), (100, 40), (40, 70)], 70, True),
    ([(0, 100), (70, 40)], 40, False),                  # a gap
    ([(0, 100), (100, 0), (0, 100), (100, 60)], 60, True),  # balances repeat
    ([(0, 100), (100, 40)], 41, False),                 # the balance is not where rows end
    ([(0, 10), (5, 5)], 10, False),                     # a row that moves nothing, elsewhere
])
def test_the_chain_is_a_path_from_zero_to_the_balance(
    edges: list[tuple[int, int]], balance: int, ok: bool,
) -> None:
    assert (chain_problem(edges, balance) is None) is ok
