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
