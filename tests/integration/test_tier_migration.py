"""Revision 0009 on a database with history: tiers keep their thresholds, and the orders and
sign-ups already recorded become tier progress (PostgreSQL in a scratch schema, and SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from shopify_loyalty.cli.db import alembic_config
from tests.conftest import DATABASE_URL

SCHEMA = "tier_migration_check"

LEGACY = [
    "INSERT INTO shops (id, domain, currency, needs_reauth, installed_at, settings, created_at)"
    " VALUES (1, 'old.myshopify.com', 'USD', false, {t0}, '{{}}', {t0})",
    "INSERT INTO vip_tiers (id, shop_id, name, min_spent_amount, earn_multiplier, created_at)"
    " VALUES (1, 1, 'Gold', 200, 1.5, {t0})",
    "INSERT INTO customers (id, shop_id, shopify_customer_id, tags, status, available_points,"
    " pending_points, credited_points, spent_points, spent_amount, store_credit_balance,"
    " referred_completed, rewarded_for, signup_rewarded, created_at, updated_at)"
    " VALUES (1, 1, 77, '[]', 'ACTIVE', 135, 0, 215, 0, 190, 0, 0, '{{}}', true, {t0}, {t0})",
    # Refunded 30 of 100; cancelled (50 reversed); before revision 0006 (no refund_basis);
    # a guest's order.
    *["INSERT INTO order_points (shop_id, order_id, customer_id, eligible_amount, refund_basis,"
      " earned_points, reversed_points, earn_decided_at, refunds, refunded_amount,"
      f" cancelled_at, created_at, updated_at) VALUES (1, {values}, {{t0}}, {{t0}})"
      for values in (
          "1, 1, 100, 100, 100, 30, {t2}, '[]', 30, NULL",
          "2, 1, 50, 50, 50, 50, {t2}, '[]', 0, {t2}",
          "3, 1, 40, NULL, 40, 0, {t1}, '[]', 0, NULL",
          "4, NULL, 10, 10, 0, 0, {t1}, '[]', 0, NULL",
      )],
    "INSERT INTO point_transactions (shop_id, customer_id, kind, status, points,"
    " available_after, source_type, source_id, created_at)"
    " VALUES (1, 1, 'EARNED', 'APPROVED', 25, 25, 'signup', '77', {t1})",
]


@pytest.fixture(params=["postgresql", "sqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    engine = create_engine(DATABASE_URL)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    try:
        yield f"{DATABASE_URL}?options=-csearch_path%3D{SCHEMA}"
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        engine.dispose()


def test_history_becomes_progress_and_tiers_keep_their_thresholds(url: str) -> None:
    command.upgrade(alembic_config(url), "0007")
    engine = create_engine(url)
    stamp = "'{} 10:00:00+00'" if url.startswith("postgresql") else "'{} 10:00:00.000000'"
    times = {"t0": stamp.format("2025-01-01"), "t1": stamp.format("2025-07-04"),
             "t2": stamp.format("2026-03-01")}
    with engine.begin() as connection:
        for statement in LEGACY:
            connection.execute(text(statement.format(**times)))
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as connection:
        days = connection.execute(text(
            "SELECT day, spent, points, orders FROM tier_progress_days ORDER BY day")).all()
        totals = connection.execute(text(
            "SELECT spent_amount, lifetime_earned_points, lifetime_orders FROM customers")).one()
        tier = connection.execute(text(
            "SELECT threshold, earn_multiplier, entry_points, active FROM vip_tiers")).one()
    engine.dispose()
    # 2025-07-04: the pre-0006 order (40, by its eligible amount) and the sign-up's 25 points;
    # 2026-03-01: 70 + 50 spent (a cancellation keeps its money), 70 + 0 points, one order.
    assert [(str(day), float(spent), points, orders) for day, spent, points, orders in days] == [
        ("2025-07-04", 40.0, 65, 1), ("2026-03-01", 120.0, 70, 1)]
    assert (float(totals[0]), totals[1], totals[2]) == (190.0, 135, 2)
    assert (float(tier[0]), float(tier[1]), tier[2], bool(tier[3])) == (200.0, 1.5, 0, True)
    command.downgrade(alembic_config(url), "0007")
