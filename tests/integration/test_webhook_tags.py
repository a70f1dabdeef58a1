"""Customer tags since API 2025-01: customers/update no longer carries them, the tag topics
say what changed, and exclusion tags follow."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shopify_loyalty.models import CustomerStatus, Shop, WebhookEvent, WebhookStatus
from shopify_loyalty.services.program import settings as shop_settings
from tests import shopify_webhooks as hooks
from tests.integration.webhook_setup import customer

GID = f"gid://shopify/Customer/{hooks.CUSTOMER_ID}"


@pytest.fixture
def excluding(session: Session, shop: Shop) -> Shop:
    shop_settings.update_settings(shop, exclusion_tags=["staff"])
    session.commit()
    return shop


def status(session: Session, shop: Shop) -> tuple[CustomerStatus, list[str]]:
    row = customer(session, shop)
    assert row is not None
    return row.status, list(row.tags)


@pytest.mark.parametrize("body", [
    {"customerId": GID, "tags": ["Staff", "newsletter"]},
    {"customer_id": hooks.CUSTOMER_ID, "tags": "Staff, newsletter"},
])
def test_tags_added_and_removed_move_the_exclusion(
    client: FlaskClient, session: Session, excluding: Shop, body: dict[str, Any],
) -> None:
    hooks.deliver(client, excluding.domain, "customer.tags_added", body)
    assert status(session, excluding) == (CustomerStatus.EXCLUDED, ["newsletter", "Staff"])
    removed = {**body, "tags": ["STAFF"]}
    hooks.deliver(client, excluding.domain, "customer.tags_removed", removed)
    assert status(session, excluding) == (CustomerStatus.ACTIVE, ["newsletter"])


def test_a_customers_update_without_tags_keeps_them_and_the_exclusion(
    client: FlaskClient, session: Session, excluding: Shop,
) -> None:
    hooks.deliver(client, excluding.domain, "customer.tags_added",
                  {"customerId": GID, "tags": ["staff"]})
    update = hooks.customer(email="new@example.com")
    del update["tags"]  # as Shopify sends it from API 2025-01 on
    hooks.deliver(client, excluding.domain, "customers/update", update)
    row = customer(session, excluding)
    assert row is not None and row.email == "new@example.com"
    assert (row.status, row.tags) == (CustomerStatus.EXCLUDED, ["staff"])


def test_a_tag_change_naming_no_customer_fails_without_a_retry(
    client: FlaskClient, session: Session, excluding: Shop,
) -> None:
    assert hooks.deliver(client, excluding.domain, "customer.tags_added",
                         {"tags": ["staff"]}).status_code == 200
    event = session.query(WebhookEvent).one()
    assert event.status is WebhookStatus.FAILED and "names no customer" in (event.error or "")
