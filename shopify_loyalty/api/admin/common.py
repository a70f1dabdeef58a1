"""What every admin view shares: the signed-in shop, and JSON answers."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify
from sqlalchemy.orm import Session

from shopify_loyalty.api.context import admin_shop_id
from shopify_loyalty.models import Shop

TOTAL = {"X-Total-Count": {"description": "Total rows", "schema": {"type": "integer"}}}


def authenticate() -> None:
    """Every admin request names its shop: by App Bridge session token (token exchange on
    first use), or by the standalone admin's session cookie (with CSRF on changes)."""
    admin_shop_id()


def shop_of(session: Session) -> Shop:
    return session.get_one(Shop, g.admin_shop_id)


def json_response(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def paged(items: Any, total: int) -> Response:
    response = jsonify(items)
    response.headers["X-Total-Count"] = str(total)
    return response
