"""flask tiers add|list|assign, and shops set --tier-metric --tier-period."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from tests import factories
from tests.integration.tier_setup import tier_changes


def _ok(app: Flask, *args: str) -> Any:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def _refused(app: Flask, *args: str) -> dict[str, Any]:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code != 0, result.output
    return json.loads(result.stderr) if result.stderr.startswith("{") else {"usage": True}


def test_add_list_and_assign(app: Flask, session: Session, shop: Any) -> None:
    gold = _ok(app, "tiers", "add", shop.domain, "--name", "Gold", "--threshold", "500",
               "--multiplier", "1.25", "--entry-points", "100", "--perks", "Early access")
    silver = _ok(app, "tiers", "add", shop.domain, "--name", "Silver", "--threshold", "100")
    assert (gold["threshold"], gold["earnMultiplier"], gold["entryPoints"], gold["perks"]) == (
        "500", "1.25", 100, "Early access")
    listed = _ok(app, "tiers", "list", shop.domain)
    assert [(t["id"], t["active"]) for t in listed] == [(silver["id"], True), (gold["id"], True)]
    customer = factories.customer(session, shop, 8101)
    session.commit()
    given = _ok(app, "tiers", "assign", shop.domain, "8101", str(gold["id"]),
                "--until", "2099-01-01T00:00")
    assert given == {"customerId": 8101, "vipTierId": gold["id"],
                     "vipTierExpiredAt": "2099-01-01T00:00:00+00:00"}
    session.expire_all()
    assert tier_changes(session, customer.id) == [(None, "Gold", "manual")]
    assert customer.available_points == 0  # no entry points for a manual tier


def test_mistakes_are_refused_with_a_json_error(app: Flask, session: Session, shop: Any) -> None:
    other = factories.shop(session)
    factories.customer(session, shop, 8102)
    session.commit()
    theirs = _ok(app, "tiers", "add", other.domain, "--name", "Gold", "--threshold", "5")
    assert _refused(app, "tiers", "add", shop.domain, "--name", "X", "--threshold", "-5")[
        "errors"] == {"threshold": ["From 0 to 1000000000, at most 2 decimals."]}
    assert _refused(app, "tiers", "add", shop.domain, "--name", "X", "--threshold", "ten") == {
        "usage": True}
    assert _refused(app, "tiers", "assign", shop.domain, "8102", str(theirs["id"]))[
        "errors"] == {"tierId": ["No such VIP tier in this shop."]}
    assert _refused(app, "tiers", "assign", shop.domain, "9999", str(theirs["id"]))[
        "code"] == "not_found"
    assert _refused(app, "tiers", "list", "nowhere.myshopify.com")["code"] == "not_found"
