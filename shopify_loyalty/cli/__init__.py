"""Operator commands: ``flask --app app …``. JSON on stdout."""

from __future__ import annotations

from flask import Flask

from shopify_loyalty.cli import (
    admin_link,
    api_keys,
    db,
    earn_rules,
    events,
    jobs,
    ledger,
    points,
    privacy,
    referrals,
    rules,
    shops,
    tiers,
    tokens,
    webhooks,
)


def register_commands(app: Flask) -> None:
    for group in (db.db, shops.shops, rules.redeem_rules, points.points, tokens.customer_token,
                  api_keys.api_keys):
        app.cli.add_command(group)
    for group in (earn_rules.earn_rules, webhooks.webhooks, privacy.privacy, jobs.jobs,
                  ledger.ledger, referrals.referrals, tiers.tiers, admin_link.admin_link,
                  events.events):
        app.cli.add_command(group)
