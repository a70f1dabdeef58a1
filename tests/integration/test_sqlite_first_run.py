"""The embedded default: SQLite, migrated by the CLI, tasks in-process. A first run works."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import responses
from alembic import command
from flask import Flask
from sqlalchemy import inspect

from shopify_loyalty.cli.db import alembic_config
from shopify_loyalty.config import Settings
from shopify_loyalty.shopify.auth import issue_admin_token
from tests.conftest import API_KEY, auth
from tests.fake_shopify import FakeShopify


def test_migrations_run_on_sqlite_and_a_redemption_completes(
    tmp_path: Path, settings: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    url = f"sqlite:///{tmp_path / 'loyalty.db'}"
    app = make_app(replace(settings, database_url=url))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    db = app.extensions["loyalty_db"]
    tables = set(inspect(db.engine).get_table_names())
    assert {"shops", "customers", "point_transactions", "rewards", "outbox"} <= tables

    domain = "first-run.myshopify.com"
    for args in (
        ["shops", "add", domain, "--access-token", "shpat_x"],
        ["points", "adjust", domain, "7", "1000", "--reason", "welcome"],
    ):
        assert runner.invoke(args=args).exit_code == 0
    rule = json.loads(runner.invoke(args=[
        "redeem-rules", "add", domain, "--name", "Ten off", "--kind", "FIXED_AMOUNT",
        "--points", "400", "--value", "10.00",
    ]).stdout)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        shopify = FakeShopify(mock)
        shopify.serve(domain)
        response = app.test_client().post(
            "/loyalty/cp/api/redeem-points", json={"redeemRuleId": rule["id"]},
            headers=auth(domain, 7),
        )
        assert response.status_code == 200, response.json
        assert response.json["availablePoints"] == 600
        reward = response.json["rewards"][0]
        assert reward["amount"] == 10.0
        # Tasks ran in-process right after the commit: the code exists in "Shopify" now.
        assert [c.upper() for c in shopify.codes] == [reward["discountCode"]]
        rewards = app.test_client().get("/loyalty/cp/api/rewards", headers=auth(domain, 7)).json
        assert rewards[0]["fulfillmentStatus"] == "DONE"
        assert rewards[0]["discountCodeId"] in shopify.codes.values()

    # The dashboard's queries run on SQLite too (its UTC days, its UNION ALL).
    token = issue_admin_token(domain, api_key=API_KEY, secret=settings.shopify_api_secret)
    board = app.test_client().get("/api/admin/dashboard",
                                  headers={"Authorization": f"Bearer {token}"}).json
    assert (board["members"], board["pointsOutstanding"], board["pointValue"]) == (
        1, 600, "0.025")
    assert board["days"][-1]["redeemed"] == 400
    assert board["topRewards"][0]["name"] == "Ten off"

    command.downgrade(alembic_config(url), "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
