"""The embedded admin API's program (``/api/admin``): redeem rules and earn rules.

Authenticated by an App Bridge session token; every query is scoped by the token's shop,
so another shop's rule is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from shopify_loyalty.api import presenters
from shopify_loyalty.api.admin import presenters as admin_presenters
from shopify_loyalty.api.admin.common import authenticate, json_response, shop_of
from shopify_loyalty.api.admin.schemas import (
    EarnRuleCreateSchema,
    EarnRulePatchSchema,
    EarnRuleSchema,
    RedeemRuleCreateSchema,
    RedeemRulePatchSchema,
    RedeemRuleSchema,
)
from shopify_loyalty.api.context import database
from shopify_loyalty.api.schemas import ErrorSchema
from shopify_loyalty.services.program import earn_rules, redeem_rules

blp = Blueprint(
    "admin", __name__, url_prefix="/api/admin",
    description="Embedded admin: redeem rules and earn rules. "
    "Authenticate with `Authorization: Bearer <App Bridge session token>`.",
)


blp.before_request(authenticate)


def _rule(rule: Any) -> Any:
    return RedeemRuleSchema().dump(presenters.redeem_rule(rule))


def _earn(rule: Any) -> Any:
    return EarnRuleSchema().dump(admin_presenters.earn_rule(rule))


@blp.route("/redeem-rules")
class RedeemRules(MethodView):
    @blp.response(200, RedeemRuleSchema(many=True))
    @blp.alt_response(401, schema=ErrorSchema)
    def get(self) -> Response:
        """All the shop's redeem rules, active or not."""
        with database().unit_of_work() as session:
            rules = redeem_rules.redeem_rules(session, shop_of(session))
            return json_response([_rule(r) for r in rules])

    @blp.arguments(RedeemRuleCreateSchema)
    @blp.response(201, RedeemRuleSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def post(self, body: dict[str, Any]) -> Response:
        """Add a redeem rule."""
        spec = redeem_rules.RedeemRuleSpec(**admin_presenters.redeem_rule_changes(body))
        with database().unit_of_work() as session:
            rule = redeem_rules.create_redeem_rule(session, shop_of(session), spec)
            return json_response(_rule(rule), 201)


@blp.route("/redeem-rules/<int:rule_id>")
class RedeemRuleItem(MethodView):
    @blp.response(200, RedeemRuleSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, rule_id: int) -> Response:
        with database().unit_of_work() as session:
            rule = redeem_rules.redeem_rule(session, shop_of(session), rule_id)
            return json_response(_rule(rule))

    @blp.arguments(RedeemRulePatchSchema)
    @blp.response(200, RedeemRuleSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def patch(self, body: dict[str, Any], rule_id: int) -> Response:
        """Change a rule's settings (its kind stays).

        The rule as changed is checked as a whole, by its kind's needs (those of the create
        body: a FIXED_AMOUNT rule keeps a `value`, `limitCount` and `limitInterval` go
        together…), so a change the rule's current settings do not allow is a 422
        `validation_error` naming the field; so is a `requiredTierId` of no tier of the
        shop."""
        changes = admin_presenters.redeem_rule_changes(body)
        with database().unit_of_work() as session:
            rule = redeem_rules.update_redeem_rule(session, shop_of(session), rule_id, changes)
            return json_response(_rule(rule))


@blp.route("/redeem-rules/<int:rule_id>/deactivate")
class RedeemRuleDeactivate(MethodView):
    @blp.response(200, RedeemRuleSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def post(self, rule_id: int) -> Response:
        """Stop offering the rule; rules are never deleted (rewards refer to them)."""
        with database().unit_of_work() as session:
            rule = redeem_rules.deactivate_redeem_rule(session, shop_of(session), rule_id)
            return json_response(_rule(rule))


@blp.route("/earn-rules")
class EarnRules(MethodView):
    @blp.response(200, EarnRuleSchema(many=True))
    def get(self) -> Response:
        with database().unit_of_work() as session:
            rules = earn_rules.earn_rules(session, shop_of(session))
            return json_response([_earn(r) for r in rules])

    @blp.arguments(EarnRuleCreateSchema)
    @blp.response(201, EarnRuleSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def post(self, body: dict[str, Any]) -> Response:
        spec = earn_rules.EarnRuleSpec(**admin_presenters.earn_rule_changes(body))
        with database().unit_of_work() as session:
            rule = earn_rules.create_earn_rule(session, shop_of(session), spec)
            return json_response(_earn(rule), 201)


@blp.route("/earn-rules/<int:rule_id>")
class EarnRuleItem(MethodView):
    @blp.response(200, EarnRuleSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, rule_id: int) -> Response:
        with database().unit_of_work() as session:
            rule = earn_rules.earn_rule(session, shop_of(session), rule_id)
            return json_response(_earn(rule))

    @blp.arguments(EarnRulePatchSchema)
    @blp.response(200, EarnRuleSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def patch(self, body: dict[str, Any], rule_id: int) -> Response:
        """Change an earn rule's settings (its kind stays).

        The rule as changed is checked as a whole by its kind's needs (those of the create
        body), so a change its kind does not allow is a 422 `validation_error` naming the
        field."""
        changes = admin_presenters.earn_rule_changes(body)
        with database().unit_of_work() as session:
            rule = earn_rules.update_earn_rule(session, shop_of(session), rule_id, changes)
            return json_response(_earn(rule))


@blp.route("/earn-rules/<int:rule_id>/deactivate")
class EarnRuleDeactivate(MethodView):
    @blp.response(200, EarnRuleSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def post(self, rule_id: int) -> Response:
        with database().unit_of_work() as session:
            rule = earn_rules.deactivate_earn_rule(session, shop_of(session), rule_id)
            return json_response(_earn(rule))
