"""The external API (``/api/external``), after Appstle's external endpoints.

Authenticated by a per-shop ``X-API-Key``; customers are named by Shopify id or email and
must already be known to the shop (another shop's customer is a 404).
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from shopify_loyalty.api import idempotent, presenters
from shopify_loyalty.api.admin import presenters as admin_presenters
from shopify_loyalty.api.admin.schemas import (
    CustomerRefArgsSchema,
    EarnRuleSchema,
    ExternalPointsSchema,
    ExternalRedeemSchema,
    RedeemRuleSchema,
)
from shopify_loyalty.api.context import database, external_shop_id
from shopify_loyalty.api.observe import counted_redemption
from shopify_loyalty.api.schemas import ErrorSchema, LoyaltyInfoSchema
from shopify_loyalty.models import Customer, Shop
from shopify_loyalty.services.customers import adjustments, portal
from shopify_loyalty.services.customers import admin as customers_admin
from shopify_loyalty.services.program import earn_rules, redeem_rules
from shopify_loyalty.services.rewards import redemption

blp = Blueprint(
    "external", __name__, url_prefix="/api/external",
    description="External API for a shop's own systems. Authenticate with `X-API-Key`.",
)


ADJUSTMENT_KEY = idempotent.key_parameter("Retries with the same key change the points once.")


@blp.before_request
def _authenticate() -> None:
    g.external_shop_id = external_shop_id()


def _shop(session: Session) -> Shop:
    return session.get_one(Shop, g.external_shop_id)


def _customer(session: Session, shop: Shop, ref: dict[str, Any]) -> Customer:
    if ref.get("customerId") is not None:
        return customers_admin.known_customer(session, shop, ref["customerId"])
    return customers_admin.customer_by_email(session, shop, ref["customerEmail"])


def _info(session: Session, shop: Shop, customer: Customer) -> Any:
    return presenters.loyalty_info(portal.loyalty_info(session, shop, customer))


@blp.route("/customer-loyalty")
class CustomerLoyalty(MethodView):
    @blp.arguments(CustomerRefArgsSchema, location="query")
    @blp.response(200, LoyaltyInfoSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, args: dict[str, Any]) -> Response:
        """A customer's points, tier and rewards, by ``customerId`` or ``customerEmail``:
        exactly one of them (422 `validation_error` otherwise)."""
        with database().unit_of_work() as session:
            shop = _shop(session)
            return jsonify(_info(session, shop, _customer(session, shop, args)))


def _change_points(body: dict[str, Any], sign: int) -> Response:
    key = request.headers.get("Idempotency-Key")
    with database().unit_of_work() as session:
        shop = _shop(session)
        customer = _customer(session, shop, body)
        adjustments.adjust(session, shop, customer, sign * body["points"], body["reason"],
                               key, channel="api")
        return jsonify(_info(session, shop, customer))


@blp.route("/add-points")
class AddPoints(MethodView):
    @blp.arguments(ExternalPointsSchema)
    @blp.response(200, LoyaltyInfoSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.doc(parameters=[ADJUSTMENT_KEY])
    def post(self, body: dict[str, Any]) -> Response:
        """Credit points (an ADJUSTED ledger row); ``Idempotency-Key`` makes retries safe."""
        return _change_points(body, +1)


@blp.route("/remove-points")
class RemovePoints(MethodView):
    @blp.arguments(ExternalPointsSchema)
    @blp.response(200, LoyaltyInfoSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @blp.doc(parameters=[ADJUSTMENT_KEY])
    def post(self, body: dict[str, Any]) -> Response:
        """Debit points; never below zero (422 `insufficient_points`)."""
        return _change_points(body, -1)


@blp.route("/redeem-points")
class RedeemPoints(MethodView):
    @blp.arguments(ExternalRedeemSchema)
    @blp.response(200, LoyaltyInfoSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @blp.doc(parameters=[idempotent.key_parameter(
        "Retries with the same key and body get the first answer; points are debited once.")])
    def post(self, body: dict[str, Any]) -> Response:
        """Redeem on behalf of a customer, as the storefront would (same rules and limits)."""
        command = redemption.RedeemCommand(body["redeemRuleId"], body["points"],
                                           body["variantId"])

        def identify(session: Session) -> tuple[Shop, Customer]:
            shop = _shop(session)
            return shop, _customer(session, shop, body)

        return counted_redemption("external", lambda: idempotent.run(
            database(), identify, idempotent.redemption_work(command)))


@blp.route("/point-redeem-rules")
class PointRedeemRules(MethodView):
    @blp.response(200, RedeemRuleSchema(many=True))
    def get(self) -> Response:
        """The shop's active redeem rules."""
        with database().unit_of_work() as session:
            rules = [r for r in redeem_rules.redeem_rules(session, _shop(session)) if r.active]
            return jsonify(RedeemRuleSchema(many=True).dump(
                [presenters.redeem_rule(r) for r in rules]))


@blp.route("/point-earn-rules")
class PointEarnRules(MethodView):
    @blp.response(200, EarnRuleSchema(many=True))
    def get(self) -> Response:
        """The shop's active earn rules."""
        with database().unit_of_work() as session:
            rules = earn_rules.earn_rules(session, _shop(session), active_only=True)
            return jsonify(EarnRuleSchema(many=True).dump(
                [admin_presenters.earn_rule(r) for r in rules]))
