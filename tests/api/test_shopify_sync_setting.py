"""The ``shopifySync`` setting through the admin API: on by default, off stops the marks."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.models import CustomerSync, Shop
from shopify_loyalty.services.customers import adjustments
from tests import factories
from tests.api.test_admin import admin


def test_the_admin_api_switches_the_shopify_sync(client: FlaskClient, session: Session) -> None:
    shop = factories.shop(session, access_token_enc="not-used-here")
    session.commit()
    headers = admin(shop.domain)
    assert client.get("/api/admin/settings", headers=headers).json["shopifySync"] is True
    for wrong in ("maybe", None, [True]):
        refused = client.patch("/api/admin/settings", headers=headers,
                               json={"shopifySync": wrong})
        assert refused.status_code == 422, wrong
        assert refused.json["code"] == "validation_error"
    changed = client.patch("/api/admin/settings", headers=headers, json={"shopifySync": False})
    assert changed.status_code == 200 and changed.json["shopifySync"] is False

    session.expire_all()
    adjustments.adjust_points(session, session.get_one(Shop, shop.id), 1001, 10, "off")
    session.commit()
    assert session.scalars(select(CustomerSync)).all() == []
    changed = client.patch("/api/admin/settings", headers=headers, json={"shopifySync": True})
    assert changed.json["shopifySync"] is True
    session.expire_all()
    adjustments.adjust_points(session, session.get_one(Shop, shop.id), 1001, 10, "on")
    session.commit()
    row = session.scalars(select(CustomerSync)).one()
    assert row.due_at is not None and row.shop_id == shop.id
