"""Operator commands: ``flask --app app …`` (design section 8). JSON on stdout."""

from __future__ import annotations

from flask import Flask

from shopify_loyalty.cli import api_keys, db, points, rules, shops, tokens


def register_commands(app: Flask) -> None:
    for group in (db.db, shops.shops, rules.redeem_rules, points.points, tokens.customer_token,
                  api_keys.api_keys):
        app.cli.add_command(group)
