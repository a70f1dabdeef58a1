"""The storefront customer portal API (``/loyalty/cp/api``), in Appstle's shape.

Each view: parse → one service call in one transaction → serialise.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from shopify_loyalty.api import idempotent, presenters
from shopify_loyalty.api.context import customer_claims, database
from shopify_loyalty.api.observe import counted_redemption
from shopify_loyalty.api.schemas import (
    ErrorSchema,
    LoyaltyInfoSchema,
    PageArgsSchema,
    RedeemPointsSchema,
    RedeemRuleOptionSchema,
    RewardsArgsSchema,
    RewardSchema,
    TransactionSchema,
    VipTierSchema,
)
from shopify_loyalty.db import utcnow
from shopify_loyalty.errors import ForbiddenError
from shopify_loyalty.models import Customer, RewardStatus, Shop
from shopify_loyalty.services.customers import portal
from shopify_loyalty.services.customers.enrolment import signed_in
from shopify_loyalty.services.program import tiers
from shopify_loyalty.services.rewards import redemption

blp = Blueprint(
    "storefront",
    __name__,
    url_prefix="/loyalty/cp/api",
    description="Customer portal: loyalty info, redeem options, ledger, rewards, VIP tiers, "
    "redemption. "
    "Authenticate with `Authorization: Bearer <customer session token>`.",
)

CORS_HEADERS = {
    # Session tokens, not cookies, carry identity, so any storefront origin may call.
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key",
    "Access-Control-Expose-Headers": "X-Total-Count, Idempotent-Replayed",
    "Access-Control-Max-Age": "86400",
}


@blp.after_request
def cors(response: Response) -> Response:
    response.headers.update(CORS_HEADERS)
    return response


@blp.before_request
def preflight() -> Response | None:
    # Flask answers OPTIONS itself on every route; a CORS preflight wants an empty 204.
    if request.method == "OPTIONS":
        return Response(status=204)
    return None


def signed_in_customer(session: Session) -> tuple[Shop, Customer]:
    claims = customer_claims()
    return signed_in(session, claims.shop_domain, claims.customer_id)


def _paged(items: Any, total: int) -> Response:
    response = jsonify(items)
    response.headers["X-Total-Count"] = str(total)
    return response


@blp.route("/customer-loyalty")
class CustomerLoyalty(MethodView):
    @blp.response(200, LoyaltyInfoSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    def get(self) -> Response:
        """The customer's points, tier and rewards; enrols the customer on first contact."""
        with database().unit_of_work() as session:
            shop, customer = signed_in_customer(session)
            return jsonify(presenters.loyalty_info(portal.loyalty_info(session, shop, customer)))


@blp.route("/point-redeem-rules")
class PointRedeemRules(MethodView):
    @blp.response(200, RedeemRuleOptionSchema(many=True))
    @blp.alt_response(401, schema=ErrorSchema)
    def get(self) -> Response:
        """The shop's active rewards, each with its cost and whether it can be redeemed now."""
        with database().unit_of_work() as session:
            shop, customer = signed_in_customer(session)
            options = portal.redeem_options(session, shop, customer, utcnow())
            return jsonify(
                RedeemRuleOptionSchema(many=True).dump(
                    [presenters.redeem_option(o) for o in options]
                )
            )


@blp.route("/transactions")
class Transactions(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, TransactionSchema(many=True), headers={"X-Total-Count": {
        "description": "Total rows", "schema": {"type": "integer"}}})
    @blp.alt_response(401, schema=ErrorSchema)
    def get(self, args: dict[str, int]) -> Response:
        """The customer's ledger, newest first, paged (``page`` from 0, ``size`` ≤ 100)."""
        with database().unit_of_work() as session:
            _shop, customer = signed_in_customer(session)
            page = portal.ledger_page(session, customer, args["page"], args["size"])
            return _paged(presenters.transactions(list(page.items)), page.total)


@blp.route("/rewards")
class Rewards(MethodView):
    @blp.arguments(RewardsArgsSchema, location="query")
    @blp.response(200, RewardSchema(many=True), headers={"X-Total-Count": {
        "description": "Total rows", "schema": {"type": "integer"}}})
    @blp.alt_response(401, schema=ErrorSchema)
    def get(self, args: dict[str, Any]) -> Response:
        """All the customer's rewards, newest first, paged; ``status`` filters."""
        status = RewardStatus(args["status"]) if args.get("status") else None
        with database().unit_of_work() as session:
            shop, customer = signed_in_customer(session)
            page = portal.rewards_page(session, customer, args["page"], args["size"], status)
            body = presenters.dump_rewards(list(page.items), shop.domain,
                                           customer.shopify_customer_id)
            return _paged(body, page.total)


@blp.route("/vip-tiers")
class VipTiers(MethodView):
    @blp.response(200, VipTierSchema(many=True))
    @blp.alt_response(401, schema=ErrorSchema)
    def get(self) -> Response:
        """The shop's active VIP tiers, lowest first (thresholds in the shop's tier metric)."""
        with database().unit_of_work() as session:
            shop, _customer = signed_in_customer(session)
            ladder = tiers.active_tiers(session, shop)
            return jsonify(VipTierSchema(many=True).dump([presenters.vip_tier(t) for t in ladder]))


@blp.route("/redeem-points")
class RedeemPoints(MethodView):
    @blp.arguments(RedeemPointsSchema)
    @blp.response(200, LoyaltyInfoSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @blp.doc(parameters=[idempotent.key_parameter(
        "Retries with the same key and body get the first answer; points are debited once.")])
    def post(self, args: dict[str, Any]) -> Response:
        """Redeem points for a reward; the new reward is first in ``rewards``.

        Errors: 422 `validation_error`, `insufficient_points`, `redeem_limit_reached`,
        `idempotency_key_mismatch`; 403 `forbidden`, `customer_not_eligible`;
        404 `redeem_rule_not_found`; 409 `request_in_progress`; 401 `unauthorized`.
        """
        command = redemption.RedeemCommand(
            redeem_rule_id=args["redeemRuleId"],
            points=args["points"],
            variant_id=args["variantId"],
        )

        def identify(session: Session) -> tuple[Shop, Customer]:
            shop, customer = signed_in_customer(session)
            _check_same_customer(customer, args)
            return shop, customer

        return counted_redemption("storefront", lambda: idempotent.run(
            database(), identify, idempotent.redemption_work(command)))


def _check_same_customer(customer: Customer, args: dict[str, Any]) -> None:
    """A storefront may name the customer; it must be the one the token signed in."""
    if args["customerId"] is not None and args["customerId"] != customer.shopify_customer_id:
        raise ForbiddenError("customerId is not the signed-in customer.")
    email = args["customerEmail"]
    if email is not None and (customer.email or "").lower() != email.lower():
        raise ForbiddenError("customerEmail is not the signed-in customer's.")
