"""Operator commands: JSON on stdout, errors on stderr with status 1."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.config import Settings
from shopify_loyalty.models import Customer, LedgerKind, PointTransaction, Shop
from shopify_loyalty.shopify.auth import decode_customer_token
from shopify_loyalty.token_cipher import TokenCipher
from tests.conftest import API_KEY, API_SECRET

DOMAIN = "cli-shop.myshopify.com"


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def ok(app: Flask, *args: str) -> Any:
    result = run(app, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


@pytest.fixture
def cli_shop(app: Flask, session: Session) -> Any:
    return ok(app, "shops", "add", DOMAIN, "--access-token", "shpat_secret_token",
              "--currency", "eur")


def test_shops_add_stores_the_token_encrypted(
    cli_shop: Any, session: Session, settings: Settings
) -> None:
    assert cli_shop["domain"] == DOMAIN and cli_shop["currency"] == "EUR"
    shop = session.scalars(select(Shop).where(Shop.domain == DOMAIN)).one()
    assert shop.access_token_enc and "shpat_secret_token" not in shop.access_token_enc
    cipher = TokenCipher(settings.token_encryption_key)
    assert cipher.decrypt(shop.access_token_enc) == "shpat_secret_token"


def test_shops_set_changes_settings(app: Flask, cli_shop: Any) -> None:
    shown = ok(app, "shops", "set", DOMAIN, "--code-prefix", "vip-", "--exclusion-tags",
               "staff, wholesale", "--earn-on", "fulfilled")
    changed = {key: shown["settings"][key] for key in ("code_prefix", "exclusion_tags", "earn_on")}
    assert changed == {"code_prefix": "VIP-", "exclusion_tags": ["staff", "wholesale"],
                       "earn_on": "fulfilled"}
    bad = run(app, "shops", "set", DOMAIN, "--code-prefix", "no spaces!")
    assert bad.exit_code == 1
    assert json.loads(bad.stderr)["code"] == "validation_error"


def test_redeem_rules_add_takes_every_option(app: Flask, cli_shop: Any) -> None:
    rule = ok(app, "redeem-rules", "add", DOMAIN, "--name", "Five off", "--kind", "FIXED_AMOUNT",
              "--points", "500", "--value", "5.00", "--min-subtotal", "25", "--expires-in-days",
              "30", "--product-ids", "11,12", "--limit-count", "2", "--limit-interval", "month",
              "--combines-with", "order,shipping")
    assert rule["pointsCost"] == 500 and rule["value"] == "5.00"
    assert rule["productIds"] == [11, 12] and rule["limitInterval"] == "month"
    assert rule["combinesWith"] == ["order", "shipping"] and rule["active"] is True
    variable = ok(app, "redeem-rules", "add", DOMAIN, "--name", "Any amount", "--kind",
                  "VARIABLE_AMOUNT", "--points-per-unit", "100", "--min-points", "100",
                  "--max-points", "5000", "--increment", "50", "--inactive")
    assert variable["pointsCost"] is None and variable["increment"] == 50
    ok(app, "redeem-rules", "add", DOMAIN, "--name", "Socks", "--kind", "FREE_PRODUCT",
       "--points", "900", "--variant-ids", "4401,4402", "--collection-ids", "7")
    ok(app, "redeem-rules", "add", DOMAIN, "--name", "Ship", "--kind", "FREE_SHIPPING",
       "--points", "300", "--max-shipping", "12.5")
    listed = ok(app, "redeem-rules", "list", DOMAIN)
    assert [r["name"] for r in listed] == ["Five off", "Any amount", "Socks", "Ship"]


@pytest.mark.parametrize(
    "args",
    [
        ["--kind", "FIXED_AMOUNT", "--points", "500"],  # no value
        ["--kind", "PERCENTAGE", "--points", "500", "--value", "150"],
        ["--kind", "FREE_PRODUCT", "--points", "500"],  # no variants
        ["--kind", "VARIABLE_AMOUNT", "--min-points", "100"],  # no points per unit
        ["--kind", "FIXED_AMOUNT", "--value", "5"],  # no points
        ["--kind", "FIXED_AMOUNT", "--points", "5", "--value", "5", "--limit-count", "1"],
        ["--kind", "FIXED_AMOUNT", "--points", "5", "--value", "5", "--combines-with", "all"],
    ],
)
def test_redeem_rules_add_refuses_rules_that_cannot_work(
    app: Flask, cli_shop: Any, args: list[str]
) -> None:
    result = run(app, "redeem-rules", "add", DOMAIN, "--name", "Bad", *args)
    assert result.exit_code == 1
    assert json.loads(result.stderr)["code"] == "validation_error"


def test_points_adjust_writes_the_ledger_and_never_goes_below_zero(
    app: Flask, cli_shop: Any, session: Session
) -> None:
    added = ok(app, "points", "adjust", DOMAIN, "42", "300", "--reason", "welcome gift")
    assert added == {"customerId": 42, "transactionId": added["transactionId"], "points": 300,
                     "availablePoints": 300}
    removed = ok(app, "points", "adjust", DOMAIN, "42", "-100", "--reason", "typo")
    assert removed["availablePoints"] == 200
    too_much = run(app, "points", "adjust", DOMAIN, "42", "-201", "--reason", "oops")
    assert too_much.exit_code == 1
    assert json.loads(too_much.stderr)["code"] == "insufficient_points"
    customer = session.scalars(select(Customer).where(Customer.shopify_customer_id == 42)).one()
    rows = session.scalars(select(PointTransaction).where(
        PointTransaction.customer_id == customer.id).order_by(PointTransaction.id)).all()
    assert [(r.kind, r.points, r.note) for r in rows] == [
        (LedgerKind.ADJUSTED, 300, "welcome gift"), (LedgerKind.ADJUSTED, -100, "typo")]
    assert customer.available_points == 200


def test_commands_about_an_unknown_shop_fail_cleanly(app: Flask, session: Session) -> None:
    result = run(app, "points", "adjust", "ghost.myshopify.com", "1", "5", "--reason", "x")
    assert result.exit_code == 1
    assert json.loads(result.stderr)["code"] == "not_found"


def test_customer_token_prints_a_bare_verifiable_token(app: Flask) -> None:
    result = run(app, "customer-token", DOMAIN, "42", "--ttl", "120")
    assert result.exit_code == 0
    token = result.stdout.strip()
    claims = decode_customer_token(token, api_key=API_KEY, secrets=[API_SECRET])
    assert (claims.shop_domain, claims.customer_id) == (DOMAIN, 42)
