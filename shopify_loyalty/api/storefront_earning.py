"""The storefront's ways to earn (``/loyalty/cp/api``): earn rules, birthday, social
actions, and the customer's referrals. Same authentication, CORS and rate limit as the rest
of the customer portal (api.storefront).
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from shopify_loyalty.api import presenters
from shopify_loyalty.api.context import database
from shopify_loyalty.api.earning_schemas import (
    BirthdaySchema,
    EarnRuleOptionSchema,
    ReferralsSchema,
    SocialActionSchema,
)
from shopify_loyalty.api.schemas import ErrorSchema, LoyaltyInfoSchema, PageArgsSchema
from shopify_loyalty.api.storefront import cors, preflight, signed_in_customer
from shopify_loyalty.db import utcnow
from shopify_loyalty.services.customers import actions, portal, referrals
from shopify_loyalty.services.customers.identity import masked_email
from shopify_loyalty.services.customers.referral_codes import ensure_referral_code
from shopify_loyalty.services.program import earn_rules

blp = Blueprint(
    "storefront_earning", __name__, url_prefix="/loyalty/cp/api",
    description="Customer portal: ways to earn (birthday, social actions) and referrals. "
    "Authenticate with `Authorization: Bearer <customer session token>`.",
)
blp.after_request(cors)
blp.before_request(preflight)


def earn_rule_option(rule: Any) -> dict[str, Any]:
    return {
        "id": rule.id, "kind": rule.kind.value, "name": rule.name, "points": rule.points,
        "pointsPerUnit": rule.points_per_unit, "network": rule.network,
        "refereeValue": rule.referee_value,
        "refereeKind": rule.referee_kind.value if rule.referee_kind else None,
        "pendingDays": rule.pending_days,
    }


@blp.route("/point-earn-rules")
class PointEarnRules(MethodView):
    @blp.response(200, EarnRuleOptionSchema(many=True))
    @blp.alt_response(401, schema=ErrorSchema)
    def get(self) -> Response:
        """The shop's active earn rules, for a "ways to earn" list."""
        with database().unit_of_work() as session:
            shop, _customer = signed_in_customer(session)
            rules = earn_rules.earn_rules(session, shop, active_only=True)
            return jsonify(EarnRuleOptionSchema(many=True).dump(
                [earn_rule_option(rule) for rule in rules]))


@blp.route("/birthday")
class Birthday(MethodView):
    @blp.arguments(BirthdaySchema)
    @blp.response(200, LoyaltyInfoSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def post(self, body: dict[str, Any]) -> Response:
        """Set the customer's date of birth, once (then 409 `dob_already_set`; the shop can
        change it). A birthday pays only for a date given 30 days before it. The date is from
        120 years ago to today (422 otherwise)."""
        with database().unit_of_work() as session:
            shop, customer = signed_in_customer(session)
            actions.set_dob(session, customer, body["dob"], utcnow())
            return jsonify(presenters.loyalty_info(portal.loyalty_info(session, shop, customer)))


@blp.route("/social-actions")
class SocialActions(MethodView):
    @blp.arguments(SocialActionSchema)
    @blp.response(200, LoyaltyInfoSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def post(self, body: dict[str, Any]) -> Response:
        """A follow (facebook, instagram, tiktok, twitter, pinterest, youtube) or a share
        (facebook, x): the rule's points once; a second claim changes nothing (200).

        Errors: 404 `earn_rule_not_found`, 422 `validation_error`, 403
        `customer_not_eligible`."""
        with database().unit_of_work() as session:
            shop, customer = signed_in_customer(session)
            actions.claim_social(session, shop, customer, body["network"], body["action"],
                                 utcnow())
            return jsonify(presenters.loyalty_info(portal.loyalty_info(session, shop, customer)))


@blp.route("/referrals")
class Referrals(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, ReferralsSchema, headers={"X-Total-Count": {
        "description": "Total referrals", "schema": {"type": "integer"}}})
    @blp.alt_response(401, schema=ErrorSchema)
    def get(self, args: dict[str, int]) -> Response:
        """The customer's referral link and their referrals, newest first, paged (friends'
        emails masked)."""
        with database().unit_of_work() as session:
            shop, customer = signed_in_customer(session)
            ensure_referral_code(session, customer)
            page = referrals.referrals_of(session, customer, args["page"], args["size"])
            response = jsonify(ReferralsSchema().dump({
                "referralCode": customer.referral_code,
                "referralLink": presenters.referral_link(shop, customer),
                "referredCompleted": customer.referred_completed,
                "referrals": [{"id": r.id, "email": masked_email(r.friend_email),
                               "state": r.state.value, "paid": r.paid,
                               "createdAt": r.created_at, "completedAt": r.completed_at}
                              for r in page.items],
            }))
            response.headers["X-Total-Count"] = str(page.total)
            return response
