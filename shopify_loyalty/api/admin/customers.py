"""The embedded admin API's customers and rewards (``/api/admin``), scoped by the shop."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint

from shopify_loyalty.api import idempotent, presenters
from shopify_loyalty.api.admin import presenters as admin_presenters
from shopify_loyalty.api.admin.common import TOTAL, authenticate, paged, shop_of
from shopify_loyalty.api.admin.schemas import (
    AdjustPointsSchema,
    CustomerDetailSchema,
    CustomerSchema,
    CustomerSearchArgsSchema,
)
from shopify_loyalty.api.context import database
from shopify_loyalty.api.earning_schemas import DobChangeSchema
from shopify_loyalty.api.schemas import ErrorSchema, PageArgsSchema, TransactionSchema
from shopify_loyalty.db import utcnow
from shopify_loyalty.services.customers import actions, adjustments
from shopify_loyalty.services.customers import admin as customers_admin

blp = Blueprint("admin_customers", __name__, url_prefix="/api/admin",
                description="Embedded admin: customers, point adjustments, exclusion.")
blp.before_request(authenticate)

IDEMPOTENCY_KEY = idempotent.key_parameter("Retries with the same key post the adjustment once.")


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
            return paged(body, page.total)


@blp.route("/customers/<int:customer_id>")
class CustomerItem(MethodView):
    @blp.response(200, CustomerDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, customer_id: int) -> Response:
        """Balances, rewards and the latest ledger rows of one customer (Shopify id)."""
        with database().unit_of_work() as session:
            return jsonify(_detail(session, customer_id))

    @blp.arguments(DobChangeSchema)
    @blp.response(200, CustomerDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def patch(self, body: dict[str, Any], customer_id: int) -> Response:
        """Set, correct or erase (null) the customer's date of birth (from 120 years ago to
        today; 422 otherwise)."""
        with database().unit_of_work() as session:
            customer = customers_admin.known_customer(session, shop_of(session), customer_id)
            actions.change_dob(customer, body["dob"], utcnow())
            return jsonify(_detail(session, customer_id))


@blp.route("/customers/<int:customer_id>/transactions")
class CustomerLedger(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, TransactionSchema(many=True), headers=TOTAL)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, args: dict[str, Any], customer_id: int) -> Response:
        """The customer's whole ledger, newest first, paged."""
        with database().unit_of_work() as session:
            page = customers_admin.ledger(session, shop_of(session), customer_id,
                                          args["page"], args["size"])
            return paged(presenters.transactions(list(page.items)), page.total)


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
            adjustments.adjust(session, shop, customer, body["points"], body["reason"],
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
