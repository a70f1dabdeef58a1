"""Expiry settings through the admin API and the CLI, ``pointsExpiringNext`` in the loyalty
info, and the expiry jobs through ``jobs run --now``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.models import Customer, Shop
from tests import factories
from tests.api.test_admin import admin
from tests.conftest import auth
from tests.integration.expiry_setup import age_batches, set_policy

EXPIRY = {"pointsExpiry": "PER_EARNING", "pointsExpiryDays": 180,
          "expiryReminderDays": [3, 14], "rewardReminderDays": [2],
          "refundExpiredRewards": True}


def test_the_admin_api_sets_the_expiry_settings(client: FlaskClient, session: Session) -> None:
    # A stored token: the admin API does not need to exchange one.
    shop = factories.shop(session, access_token_enc="not-used-here")
    session.commit()
    headers = admin(shop.domain)
    defaults = client.get("/api/admin/settings", headers=headers).json
    assert {name: defaults[name] for name in EXPIRY} == {
        "pointsExpiry": "NONE", "pointsExpiryDays": 365, "expiryReminderDays": [30, 7],
        "rewardReminderDays": [7, 1], "refundExpiredRewards": False}
    changed = client.patch("/api/admin/settings", headers=headers, json=EXPIRY).json
    assert {name: changed[name] for name in EXPIRY} == {**EXPIRY, "expiryReminderDays": [14, 3]}
    session.refresh(shop)
    assert shop.points_expiry_since is not None

    for wrong in ({"pointsExpiry": "SOMETIMES"}, {"pointsExpiryDays": 0},
                  {"pointsExpiryDays": "30"}, {"expiryReminderDays": [0]},
                  {"rewardReminderDays": list(range(1, 13))}, {"refundExpiredRewards": "yes"}):
        refused = client.patch("/api/admin/settings", headers=headers, json=wrong)
        assert refused.status_code == 422, wrong
        assert refused.json["code"] == "validation_error"
    again = client.get("/api/admin/settings", headers=headers).json
    assert {name: again[name] for name in EXPIRY} == {**EXPIRY, "expiryReminderDays": [14, 3]}
    # Another shop's credentials see (and change) that shop's settings only.
    other = factories.shop(session, access_token_enc="not-used-here")
    session.commit()
    assert client.get("/api/admin/settings",
                      headers=admin(other.domain)).json["pointsExpiry"] == "NONE"


def test_shops_set_takes_the_expiry_flags(app: Flask, session: Session, shop: Shop) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=[
        "shops", "set", shop.domain, "--points-expiry", "INACTIVITY", "--points-expiry-days",
        "90", "--expiry-reminder-days", "30,7", "--reward-reminder-days", "7,1",
        "--refund-expired-rewards", "on"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)["settings"]
    assert (shown["points_expiry"], shown["points_expiry_days"], shown["expiry_reminder_days"],
            shown["reward_reminder_days"], shown["refund_expired_rewards"]) == (
        "INACTIVITY", 90, [30, 7], [7, 1], True)
    wrong = runner.invoke(args=["shops", "set", shop.domain, "--points-expiry", "WEEKLY"])
    assert wrong.exit_code == 1 and json.loads(wrong.stderr)["code"] == "validation_error"
    switch = runner.invoke(args=["shops", "set", shop.domain, "--refund-expired-rewards", "yes"])
    assert switch.exit_code != 0


def test_loyalty_info_shows_the_next_expiry(
    client: FlaskClient, session: Session, shop: Shop,
) -> None:
    customer: Customer = factories.customer(session, shop, 1001, points=700)
    session.commit()
    url = "/loyalty/cp/api/customer-loyalty"
    assert client.get(url, headers=auth(shop.domain, 1001)).json["pointsExpiringNext"] is None
    set_policy(session, shop, "PER_EARNING", 365)
    age_batches(session, customer, [300])
    session.commit()
    shown = client.get(url, headers=auth(shop.domain, 1001)).json["pointsExpiringNext"]
    assert shown["points"] == 700
    at = datetime.fromisoformat(shown["at"]).astimezone(UTC)
    assert abs(at - (utcnow() + timedelta(days=65))) < timedelta(minutes=1)


def test_jobs_run_expires_as_of_the_given_time(app: Flask, session: Session, shop: Shop) -> None:
    set_policy(session, shop, "PER_EARNING", 30)
    factories.customer(session, shop, 1001, points=100)
    session.commit()
    runner = app.test_cli_runner()
    listed = {job["name"] for job in json.loads(runner.invoke(args=["jobs", "list"]).stdout)}
    assert {"points-expiry", "rewards-expiry", "expiry-reminders"} <= listed
    soon = runner.invoke(args=["jobs", "run", "points-expiry", "--now",
                               (utcnow() + timedelta(days=29)).isoformat()])
    assert json.loads(soon.stdout)["handled"] == 0
    later = (utcnow() + timedelta(days=31)).isoformat()
    report = json.loads(runner.invoke(args=["jobs", "run", "points-expiry", "--now",
                                            later]).stdout)
    assert (report["job"], report["handled"]) == ("points-expiry", 1)
    for job in ("rewards-expiry", "expiry-reminders"):
        done = runner.invoke(args=["jobs", "run", job, "--now", later])
        assert done.exit_code == 0 and json.loads(done.stdout)["job"] == job
