"""The embedded admin API's VIP tiers and a customer's tier (``/api/admin``), by shop."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from shopify_loyalty.api import presenters
from shopify_loyalty.api.admin import presenters as admin_presenters
from shopify_loyalty.api.admin.common import authenticate, json_response, shop_of
from shopify_loyalty.api.admin.schemas import CustomerDetailSchema
from shopify_loyalty.api.admin.tier_schemas import (
    TierAssignmentSchema,
    VipTierAdminSchema,
    VipTierCreateSchema,
    VipTierListArgsSchema,
    VipTierListedSchema,
    VipTierPatchSchema,
)
from shopify_loyalty.api.context import database
from shopify_loyalty.api.schemas import ErrorSchema
from shopify_loyalty.db import utcnow
from shopify_loyalty.models import VipTier
from shopify_loyalty.services.customers import admin as customers_admin
from shopify_loyalty.services.customers import tiers as customer_tiers
from shopify_loyalty.services.program import tiers

blp = Blueprint("admin_tiers", __name__, url_prefix="/api/admin",
                description="Embedded admin: VIP tiers, and setting a customer's tier.")
blp.before_request(authenticate)


def _tier(row: VipTier) -> Any:
    return VipTierAdminSchema().dump({**presenters.vip_tier(row), "active": row.active})


@blp.route("/vip-tiers")
class VipTiers(MethodView):
    @blp.arguments(VipTierListArgsSchema, location="query")
    @blp.response(200, VipTierListedSchema(many=True))
    def get(self, args: dict[str, Any]) -> Response:
        """All the shop's tiers, active or not, lowest first, with their members now
        (``members=false``: without, for a page that only names the tiers)."""
        with database().unit_of_work() as session:
            shop = shop_of(session)
            counts = customer_tiers.members(session, shop) if args["members"] else None
            rows = [{**presenters.vip_tier(t), "active": t.active,
                     **({"members": counts.get(t.id, 0)} if counts is not None else {})}
                    for t in tiers.tiers(session, shop)]
            return json_response(VipTierListedSchema(many=True).dump(rows))

    @blp.arguments(VipTierCreateSchema)
    @blp.response(201, VipTierAdminSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def post(self, body: dict[str, Any]) -> Response:
        """Add a tier (no two active tiers share a threshold or a name; the threshold has
        at most 2 decimals, the multiplier at most 3: 422 `validation_error` otherwise)."""
        spec = tiers.TierSpec(**admin_presenters.tier_changes(body))
        with database().unit_of_work() as session:
            return json_response(_tier(tiers.create_tier(session, shop_of(session), spec)), 201)


@blp.route("/vip-tiers/<int:tier_id>")
class VipTierItem(MethodView):
    @blp.response(200, VipTierAdminSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, tier_id: int) -> Response:
        with database().unit_of_work() as session:
            return json_response(_tier(tiers.tier(session, shop_of(session), tier_id)))

    @blp.arguments(VipTierPatchSchema)
    @blp.response(200, VipTierAdminSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def patch(self, body: dict[str, Any], tier_id: int) -> Response:
        """Change a tier; customers keep theirs until their next earning or re-evaluation.

        The tier as changed is checked as a whole: no other active tier with its name or
        threshold, the threshold with at most 2 decimals, the multiplier with at most 3 (422
        `validation_error` naming the field)."""
        changes = admin_presenters.tier_changes(body)
        with database().unit_of_work() as session:
            row = tiers.update_tier(session, shop_of(session), tier_id, changes)
            return json_response(_tier(row))


@blp.route("/vip-tiers/<int:tier_id>/deactivate")
class VipTierDeactivate(MethodView):
    @blp.response(200, VipTierAdminSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def post(self, tier_id: int) -> Response:
        """No one enters it any more; the next tiers job places its members by progress."""
        with database().unit_of_work() as session:
            return json_response(_tier(tiers.deactivate_tier(session, shop_of(session), tier_id)))


@blp.route("/customers/<int:customer_id>/tier")
class CustomerTier(MethodView):
    @blp.arguments(TierAssignmentSchema)
    @blp.response(200, CustomerDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def post(self, body: dict[str, Any], customer_id: int) -> Response:
        """Set the customer's tier by hand, until ``until``; no entry points. After it the
        customer is re-evaluated like any other.

        Errors: 404 `not_found` (customer); 422 `validation_error` (tier, until).
        """
        with database().unit_of_work() as session:
            shop = shop_of(session)
            customers_admin.assign_tier(session, shop, customer_id, body["tierId"],
                                        body["until"], utcnow())
            detail = customers_admin.detail(session, shop, customer_id)
            return jsonify(admin_presenters.customer_detail(detail, shop.domain))
