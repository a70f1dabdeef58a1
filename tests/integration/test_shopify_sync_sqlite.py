"""The Shopify customer sync on the embedded default, SQLite: marks, a tier rename, a run."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import responses
from flask import Flask

from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import Customer, CustomerSync, Shop
from shopify_loyalty.services.customers import tiers as customer_tiers
from shopify_loyalty.services.events.sync import run
from shopify_loyalty.services.events.sync.marks import SYNC_WINDOW
from shopify_loyalty.services.program import tiers
from shopify_loyalty.services.shops.admins import ShopAdmins
from tests.fake_shopify_customers import FakeCustomers, gid


def test_the_sync_marks_and_writes_on_sqlite(
    tmp_path: Path, settings: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    app = make_app(replace(settings, database_url=f"sqlite:///{tmp_path / 'loyalty.db'}"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    domain = "first-sync.myshopify.com"
    for args in (["shops", "add", domain, "--access-token", "shpat_x"],
                 ["points", "adjust", domain, "7", "1000", "--reason", "welcome"],
                 ["points", "adjust", domain, "7", "-300", "--reason", "oops"]):
        assert runner.invoke(args=args).exit_code == 0, args
    tier = json.loads(runner.invoke(args=["tiers", "add", domain, "--name", "Gold",
                                          "--threshold", "0"]).stdout)
    db: Database = app.extensions["loyalty_db"]
    with db.unit_of_work() as session:
        shop = session.query(Shop).one()
        customer = session.query(Customer).one()
        customer_tiers.assign(session, shop, customer, tier["id"], None, utcnow())
    with db.unit_of_work() as session:
        tiers.update_tier(session, session.query(Shop).one(), tier["id"], {"name": "Or"})
        row = session.query(CustomerSync).one()
        # One count a transaction: enrolled with the welcome points, the other adjustment,
        # the tier, its rename.
        assert row.changes == 4
        shop_id = session.query(Shop).one().id

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeCustomers(mock).serve(domain)
        with app.app_context():
            report = run.sync_shop(db, ShopAdmins.from_settings(settings), settings.app_url,
                                   shop_id, utcnow() + SYNC_WINDOW + timedelta(seconds=1),
                                   timedelta(seconds=90))
    assert report.written == 1
    assert fake.of(7)["points_balance"] == "700" and fake.of(7)["vip_tier"] == "Or"
    assert fake.tags[gid(7)] == {"Loyalty tier: Or"}
    with db.unit_of_work() as session:
        assert session.query(CustomerSync).one().due_at is None
