"""The embedded admin API's customers and rewards (``/api/admin``), scoped by the shop."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint

from shopify_loyalty.api import admin_presenters
from shopify_loyalty.api.admin import authenticate, shop_of
from shopify_loyalty.api.admin_schemas import (
    AdjustPointsSchema,
    CustomerDetailSchema,
    CustomerSchema,
    CustomerSearchArgsSchema,
)
from shopify_loyalty.api.context import database
from shopify_loyalty.api.schemas import ErrorSchema, RewardsArgsSchema, RewardSchema
from shopify_loyalty.models import RewardStatus
from shopify_loyalty.services import customers_admin, rewards_admin

blp = Blueprint("admin_customers", __name__, url_prefix="/api/admin",
                description="Embedded admin: customers, point adjustments, rewards.")
blp.before_request(authenticate)

TOTAL = {"X-Total-Count": {"description": "Total rows", "schema": {"type": "integer"}}}
IDEMPOTENCY_KEY = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "maxLength": customers_admin.MAX_KEY_LENGTH},
    "description": "Retries with the same key post the adjustment once.",
}


def _paged(items: Any, total: int) -> Response:
    response = jsonify(items)
    response.headers["X-Total-Count"] = str(total)
    return response


def _detail(session: Any, customer_id: int) -> Any:
    shop = shop_of(session)
    detail = customers_admin.detail(session, shop, customer_id)
    return admin_presenters.customer_detail(detail, shop.domain)


@blp.route("/customers")
class Customers(MethodView):
    @blp.arguments(CustomerSearchArgsSchema, location="query")
    @blp.response(200, CustomerSchema(many=True), headers=TOTAL)
    def get(self, args: dict[str, Any]) -> Response:
        """Customers, newest first; ``email`` matches exactly, ``q`` email, names or id."""
        with database().unit_of_work() as session:
            page = customers_admin.search(session, shop_of(session), args.get("email"),
                                          args.get("q"), args["page"], args["size"])
            body = CustomerSchema(many=True).dump(
                [admin_presenters.customer(c) for c in page.items])
            return _paged(body, page.total)


@blp.route("/customers/<int:customer_id>")
class CustomerItem(MethodView):
    @blp.response(200, CustomerDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, customer_id: int) -> Response:
        """Balances, rewards and the latest ledger rows of one customer (Shopify id)."""
        with database().unit_of_work() as session:
            return jsonify(_detail(session, customer_id))


@blp.route("/customers/<int:customer_id>/adjust-points")
class AdjustPoints(MethodView):
    @blp.arguments(AdjustPointsSchema)
    @blp.response(200, CustomerDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any], customer_id: int) -> Response:
        """Add (or, negative, remove) points with a reason; never below zero.

        Errors: 422 `validation_error`, `insufficient_points`, `idempotency_key_mismatch`;
        404 `not_found`; 409 `request_in_progress`.
        """
        key = request.headers.get("Idempotency-Key")
        with database().unit_of_work() as session:
            shop = shop_of(session)
            customer = customers_admin.known_customer(session, shop, customer_id)
            customers_admin.adjust(session, shop, customer, body["points"], body["reason"],
                                   key, channel="admin")
            return jsonify(_detail(session, customer_id))


def _set_excluded(customer_id: int, excluded: bool) -> Response:
    with database().unit_of_work() as session:
        customers_admin.set_excluded(session, shop_of(session), customer_id, excluded)
        return jsonify(_detail(session, customer_id))


@blp.route("/customers/<int:customer_id>/exclude")
class Exclude(MethodView):
    @blp.response(200, CustomerDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def post(self, customer_id: int) -> Response:
        """The customer stops earning and redeeming."""
        return _set_excluded(customer_id, True)


@blp.route("/customers/<int:customer_id>/include")
class Include(MethodView):
    @blp.response(200, CustomerDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    def post(self, customer_id: int) -> Response:
        """An excluded customer takes part again (not one who opted out: 409)."""
        return _set_excluded(customer_id, False)


@blp.route("/rewards")
class Rewards(MethodView):
    @blp.arguments(RewardsArgsSchema, location="query")
    @blp.response(200, RewardSchema(many=True), headers=TOTAL)
    def get(self, args: dict[str, Any]) -> Response:
        """The shop's rewards, newest first; ``status`` filters."""
        status = RewardStatus(args["status"]) if args.get("status") else None
        with database().unit_of_work() as session:
            shop = shop_of(session)
            page = rewards_admin.rewards(session, shop, status, args["page"], args["size"])
            rows = list(page.items)
            ids = rewards_admin.customer_ids(session, rows)
            body = RewardSchema(many=True).dump(admin_presenters.rewards(rows, shop.domain, ids))
            return _paged(body, page.total)


@blp.route("/rewards/<int:reward_id>/refund")
class RefundReward(MethodView):
    @blp.response(200, RewardSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    def post(self, reward_id: int) -> Response:
        """Refund an UNUSED reward: points back, its code deactivated in Shopify."""
        with database().unit_of_work() as session:
            shop = shop_of(session)
            reward = rewards_admin.refund_reward(session, shop, reward_id)
            ids = rewards_admin.customer_ids(session, [reward])
            return jsonify(RewardSchema().dump(
                admin_presenters.rewards([reward], shop.domain, ids)[0]))
