"""flask earn-rules add|list."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session


def test_add_and_list(app: Flask, session: Session, shop: Any) -> None:
    runner = app.test_cli_runner()
    purchase = runner.invoke(args=[
        "earn-rules", "add", shop.domain, "--kind", "PURCHASE", "--points-per-unit", "5",
        "--min-order", "10.50", "--include-shipping", "--pending-days", "14"])
    assert purchase.exit_code == 0, purchase.output
    signup = runner.invoke(args=["earn-rules", "add", shop.domain, "--kind", "SIGNUP",
                                 "--points", "100", "--inactive"])
    assert signup.exit_code == 0, signup.output
    listed = json.loads(runner.invoke(args=["earn-rules", "list", shop.domain]).output)
    assert [(r["kind"], r["pointsPerUnit"], r["points"], r["minOrder"], r["includeShipping"],
             r["includeTax"], r["pendingDays"], r["active"]) for r in listed] == [
        ("PURCHASE", 5, None, "10.50", True, False, 14, True),
        ("SIGNUP", None, 100, None, False, False, 0, False),
    ]


def test_a_rule_that_cannot_earn_is_refused(app: Flask, session: Session, shop: Any) -> None:
    result = app.test_cli_runner().invoke(
        args=["earn-rules", "add", shop.domain, "--kind", "PURCHASE", "--points", "5"])
    assert result.exit_code == 1
    error = json.loads(result.stderr)
    assert error["code"] == "validation_error"
    assert set(error["errors"]) == {"pointsPerUnit", "points"}


def test_the_action_and_referral_kinds(app: Flask, session: Session, shop: Any) -> None:
    runner = app.test_cli_runner()
    for args in (
        ["--kind", "BIRTHDAY", "--points", "200"],
        ["--kind", "NEWSLETTER", "--points", "50"],
        ["--kind", "SMS", "--points", "40"],
        ["--kind", "SOCIAL_FOLLOW", "--points", "20", "--network", "tiktok"],
        ["--kind", "SOCIAL_SHARE", "--points", "30", "--network", "x"],
        ["--kind", "REFERRAL", "--points", "500", "--referee-value", "10.00",
         "--referee-kind", "FIXED_AMOUNT", "--pending-days", "14"],
    ):
        result = runner.invoke(args=["earn-rules", "add", shop.domain, *args])
        assert result.exit_code == 0, (args, result.output)
    listed = json.loads(runner.invoke(args=["earn-rules", "list", shop.domain]).output)
    assert [(r["kind"], r["points"], r["network"], r["refereeValue"], r["refereeKind"],
             r["pendingDays"]) for r in listed] == [
        ("BIRTHDAY", 200, None, None, None, 0), ("NEWSLETTER", 50, None, None, None, 0),
        ("SMS", 40, None, None, None, 0), ("SOCIAL_FOLLOW", 20, "tiktok", None, None, 0),
        ("SOCIAL_SHARE", 30, "x", None, None, 0),
        ("REFERRAL", 500, None, "10.00", "FIXED_AMOUNT", 14),
    ]
    refused = runner.invoke(args=["earn-rules", "add", shop.domain, "--kind", "SOCIAL_FOLLOW",
                                  "--points", "20", "--network", "friendster"])
    assert refused.exit_code == 1 and "network" in json.loads(refused.stderr)["errors"]
    jobs = json.loads(runner.invoke(args=["jobs", "list"]).stdout)
    assert "birthdays" in {job["name"] for job in jobs}
