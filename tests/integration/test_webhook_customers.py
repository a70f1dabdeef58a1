"""customers/create and customers/update: enrolment, sign-up points once, profile, tags."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shopify_loyalty.models import CustomerStatus, LedgerKind
from shopify_loyalty.services.program import settings as shop_settings
from tests import shopify_webhooks as hooks
from tests.conftest import auth
from tests.integration.webhook_setup import (
    assert_balanced,
    customer,
    purchase_rule,
    rows,
    signup_rule,
)


def test_customers_create_enrols_and_awards_signup_points_once(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    signup_rule(session, shop, points=50)
    for _ in range(2):
        hooks.deliver(client, shop.domain, "customers/create", hooks.customer())
    hooks.deliver(client, shop.domain, "customers/update", hooks.customer(email="new@x.test"))
    row = customer(session, shop)
    assert row is not None
    assert (row.available_points, row.signup_rewarded, row.email) == (50, True, "new@x.test")
    [earned] = rows(session, row.id)
    assert (earned.kind, earned.source_type, earned.source_id) == (
        LedgerKind.EARNED, "signup", str(hooks.CUSTOMER_ID))
    assert_balanced(session, row)


def test_storefront_first_then_webhook_awards_once(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    signup_rule(session, shop, points=50, pending_days=7)
    response = client.get("/loyalty/cp/api/customer-loyalty",
                          headers=auth(shop.domain, hooks.CUSTOMER_ID))
    assert response.status_code == 200
    assert response.get_json()["pendingPoints"] == 50
    hooks.deliver(client, shop.domain, "customers/create", hooks.customer())
    row = customer(session, shop)
    assert row is not None and (row.pending_points, row.available_points) == (50, 0)
    assert len(rows(session, row.id)) == 1


def test_order_before_the_customer_exists_enrols_them_with_signup_points(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    signup_rule(session, shop, points=50)
    purchase_rule(session, shop)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order(subtotal="10.00"))
    hooks.deliver(client, shop.domain, "customers/create", hooks.customer())
    row = customer(session, shop)
    assert row is not None and row.available_points == 60
    assert_balanced(session, row)


def test_update_syncs_profile_and_exclusion_tags_both_ways(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    shop_settings.update_settings(shop, exclusion_tags=["staff"])
    session.commit()
    hooks.deliver(client, shop.domain, "customers/update",
                  hooks.customer(email="a@x.test", first_name="Ann", last_name="Lee",
                                 tags="VIP, STAFF"))
    row = customer(session, shop)
    assert row is not None
    assert (row.email, row.first_name, row.last_name) == ("a@x.test", "Ann", "Lee")
    assert row.tags == ["VIP", "STAFF"] and row.status is CustomerStatus.EXCLUDED
    hooks.deliver(client, shop.domain, "customers/update", hooks.customer(tags="VIP"))
    row = customer(session, shop)
    assert row is not None and row.status is CustomerStatus.ACTIVE


def test_excluded_at_signup_gets_no_points_and_opt_out_is_kept(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    signup_rule(session, shop, points=50)
    shop_settings.update_settings(shop, exclusion_tags=["staff"])
    session.commit()
    hooks.deliver(client, shop.domain, "customers/create", hooks.customer(tags="staff"))
    row = customer(session, shop)
    assert row is not None and row.status is CustomerStatus.EXCLUDED
    assert row.available_points == 0 and not row.signup_rewarded
    row.status = CustomerStatus.EXCLUDED_BY_CUSTOMER
    session.commit()
    hooks.deliver(client, shop.domain, "customers/update", hooks.customer(tags=""))
    row = customer(session, shop)
    assert row is not None and row.status is CustomerStatus.EXCLUDED_BY_CUSTOMER


def test_an_older_update_arriving_late_does_not_undo_a_newer_one(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    shop_settings.update_settings(shop, exclusion_tags=["staff"])
    session.commit()
    newer = hooks.customer(email="new@x.test", tags="staff")
    newer["updated_at"] = "2026-11-02T10:00:00-05:00"
    older = hooks.customer(email="old@x.test", tags="")
    older["updated_at"] = "2026-11-01T10:00:00-05:00"
    hooks.deliver(client, shop.domain, "customers/update", newer)
    hooks.deliver(client, shop.domain, "customers/update", older)
    row = customer(session, shop)
    assert row is not None
    assert (row.email, row.tags, row.status) == ("new@x.test", ["staff"], CustomerStatus.EXCLUDED)
    newest = hooks.customer(email="newest@x.test", tags="")
    newest["updated_at"] = "2026-11-03T10:00:00-05:00"
    hooks.deliver(client, shop.domain, "customers/update", newest)
    session.expire_all()
    row = customer(session, shop)
    assert row is not None
    assert (row.email, row.status) == ("newest@x.test", CustomerStatus.ACTIVE)
