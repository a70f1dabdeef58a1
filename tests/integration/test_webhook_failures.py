"""Failed processing is retried with backoff, then left FAILED for the operator."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.models import Shop, WebhookEvent, WebhookStatus
from shopify_loyalty.services.orders import webhooks
from tests import shopify_webhooks as hooks
from tests.integration.webhook_setup import customer, purchase_rule
from workers.tasks import WEBHOOK_MAX_RETRIES


def _broken(session: Session, shop: Shop, topic: str, payload: Any, now: datetime) -> None:
    raise RuntimeError("database hiccup")


def test_a_failing_event_is_retried_then_failed_and_blocks_nothing(
    app: Flask, client: FlaskClient, session: Session, shop: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    purchase_rule(session, shop)
    monkeypatch.setitem(webhooks.HANDLERS, "orders/paid", _broken)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order(), webhook_id="broken")
    hooks.deliver(client, shop.domain, "customers/create", hooks.customer(email="ok@x.test"))
    [failed, other] = session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()
    session.refresh(failed)
    assert failed.status is WebhookStatus.FAILED
    assert failed.attempts == WEBHOOK_MAX_RETRIES + 1
    assert failed.error == "RuntimeError: database hiccup"
    assert other.status is WebhookStatus.PROCESSED

    runner = app.test_cli_runner()
    listed = runner.invoke(args=["webhooks", "failed", shop.domain])
    assert listed.exit_code == 0, listed.output
    assert [(e["id"], e["webhookId"]) for e in json.loads(listed.output)] == [
        (failed.id, "broken")]
    assert json.loads(runner.invoke(args=["webhooks", "failed", "else.myshopify.com"]
                                    ).output) == []

    monkeypatch.undo()
    retried = runner.invoke(args=["webhooks", "retry", str(failed.id)])
    assert retried.exit_code == 0, retried.output
    assert json.loads(retried.output)["status"] == "PROCESSED"
    assert customer(session, shop).available_points == 100  # type: ignore[union-attr]
    again = runner.invoke(args=["webhooks", "retry", str(failed.id)])
    assert again.exit_code == 1
    assert json.loads(again.stderr)["code"] == "validation_error"
    missing = runner.invoke(args=["webhooks", "retry", "999999"])
    assert missing.exit_code == 1 and json.loads(missing.stderr)["code"] == "not_found"
