"""``events endpoints add|list|disable|enable``, ``events deliveries``, ``events replay``."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database
from shopify_loyalty.services.events import delivery
from tests.integration.event_receiver import receiving
from tests.integration.events_setup import emit, shop_with_customer


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def ok(app: Flask, *args: str) -> Any:
    result = run(app, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


@pytest.fixture
def private_ok(app: Flask, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.extensions, "loyalty_settings",
                        dataclasses.replace(settings, event_endpoints_allow_private=True))


def test_the_operator_adds_lists_disables_enables_and_replays(
    app: Flask, session: Session, db: Database, live_deliverer: delivery.Deliverer,
    private_ok: None,
) -> None:
    shop, customer = shop_with_customer(session)
    with receiving(answers=[500, 200]) as receiver:
        added = ok(app, "events", "endpoints", "add", shop.domain, receiver.url,
                   "--events", "points.adjusted,reward.created")
        assert set(added) == {"id", "secret"} and added["secret"].startswith("whsec_")
        (listed,) = ok(app, "events", "endpoints", "list", shop.domain)
        assert listed["id"] == added["id"] and "secret" not in listed
        assert listed["eventTypes"] == ["points.adjusted", "reward.created"]

        emit(db, customer.id)
        (failed,) = ok(app, "events", "deliveries", shop.domain, "--failed")
        assert failed["status"] == "PENDING" and failed["lastStatusCode"] == 500
        replayed = ok(app, "events", "replay", str(failed["id"]))
        assert replayed["status"] == "DELIVERED" and replayed["attempts"] == 2
        assert ok(app, "events", "deliveries", shop.domain, "--failed") == []
        assert len(ok(app, "events", "deliveries", shop.domain)) == 1
        Webhook(added["secret"]).verify(receiver.received[-1].body,
                                        receiver.received[-1].headers)

        off = ok(app, "events", "endpoints", "disable", shop.domain, str(added["id"]))
        assert off["enabled"] is False and off["disabledReason"] == "disabled by the operator"
        emit(db, customer.id)  # nothing for a disabled endpoint
        assert len(receiver.received) == 2
        refused = run(app, "events", "replay", str(failed["id"]))
        assert refused.exit_code == 1 and json.loads(refused.stderr)["status"] == 409
        on = ok(app, "events", "endpoints", "enable", shop.domain, str(added["id"]))
        assert on["enabled"] is True and on["disabledReason"] is None


def test_bad_input_is_a_json_error(app: Flask, session: Session) -> None:
    shop, _customer = shop_with_customer(session)
    for args in (("endpoints", "add", shop.domain, "https://127.0.0.1/x"),
                 ("endpoints", "add", shop.domain, "https://example.com/", "--events", "nope"),
                 ("endpoints", "disable", shop.domain, "999999"),
                 ("endpoints", "list", "unknown.myshopify.com"),
                 ("replay", "999999")):
        result = run(app, "events", *args)
        assert result.exit_code == 1, (args, result.output)
        assert json.loads(result.stderr)["status"] in (404, 422), args
