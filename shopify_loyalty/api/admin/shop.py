"""The embedded admin API's shop, its settings and its external API keys (``/api/admin``)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from shopify_loyalty.api.admin import presenters as admin_presenters
from shopify_loyalty.api.admin.common import authenticate, json_response, shop_of
from shopify_loyalty.api.admin.schemas import (
    ApiKeyCreatedSchema,
    ApiKeyCreateSchema,
    ApiKeySchema,
    ShopSchema,
)
from shopify_loyalty.api.admin.settings_schema import SettingsSchema
from shopify_loyalty.api.context import database
from shopify_loyalty.api.schemas import ErrorSchema
from shopify_loyalty.db import utcnow
from shopify_loyalty.services.program import settings as shop_settings
from shopify_loyalty.services.shops import api_keys

blp = Blueprint("admin_shop", __name__, url_prefix="/api/admin",
                description="Embedded admin: the shop's settings and external API keys.")
blp.before_request(authenticate)


def _settings(values: dict[str, Any]) -> dict[str, Any]:
    return {shop_settings.BY_KEY[key].api: value for key, value in values.items()}


@blp.route("/shop")
class ShopItem(MethodView):
    @blp.response(200, ShopSchema)
    def get(self) -> Response:
        """The signed-in shop: its domain, name and currency."""
        with database().unit_of_work() as session:
            shop = shop_of(session)
            return json_response(ShopSchema().dump(
                {"domain": shop.domain, "name": shop.name, "currency": shop.currency}))


@blp.route("/settings")
class Settings(MethodView):
    @blp.response(200, SettingsSchema)
    def get(self) -> Response:
        with database().unit_of_work() as session:
            return json_response(_settings(shop_settings.settings_of(shop_of(session))))

    @blp.arguments(SettingsSchema, required=False)
    @blp.response(200, SettingsSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def patch(self, body: dict[str, Any]) -> Response:
        """Change some of the shop's settings (the others stay as they are)."""
        changes = {shop_settings.BY_API[name].key: value for name, value in body.items()}
        with database().unit_of_work() as session:
            values = shop_settings.update_settings(shop_of(session), **changes)
            return json_response(_settings(values))


@blp.route("/api-keys")
class ApiKeys(MethodView):
    @blp.response(200, ApiKeySchema(many=True))
    def get(self) -> Response:
        """The shop's external API keys (hints only; a key is shown once, at creation)."""
        with database().unit_of_work() as session:
            rows = api_keys.list_keys(session, shop_of(session))
            return json_response(ApiKeySchema(many=True).dump(
                [admin_presenters.api_key(r) for r in rows]))

    @blp.arguments(ApiKeyCreateSchema, required=False)
    @blp.response(201, ApiKeyCreatedSchema)
    def post(self, body: dict[str, Any]) -> Response:
        with database().unit_of_work() as session:
            row, key = api_keys.create_key(session, shop_of(session), body["name"])
            return json_response({"id": row.id, "key": key}, 201)


@blp.route("/api-keys/<int:key_id>")
class ApiKeyItem(MethodView):
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema)
    def delete(self, key_id: int) -> Response:
        """Revoke the key: requests with it are refused from now on."""
        with database().unit_of_work() as session:
            api_keys.revoke_key(session, shop_of(session), key_id, utcnow())
        return Response(status=204)
