"""The embedded admin API (``/api/admin``): the merchant's program, settings and API keys.

Authenticated by an App Bridge session token; every query is scoped by the token's shop,
so another shop's rule or key is a 404. Customers and rewards: api/admin_customers.py.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from shopify_loyalty.api import admin_presenters, presenters
from shopify_loyalty.api.admin_schemas import (
    ApiKeyCreatedSchema,
    ApiKeyCreateSchema,
    ApiKeySchema,
    EarnRuleCreateSchema,
    EarnRulePatchSchema,
    EarnRuleSchema,
    RedeemRuleCreateSchema,
    RedeemRulePatchSchema,
    RedeemRuleSchema,
    SettingsSchema,
)
from shopify_loyalty.api.context import admin_shop_id, database
from shopify_loyalty.api.schemas import ErrorSchema
from shopify_loyalty.db import utcnow
from shopify_loyalty.models import Shop
from shopify_loyalty.services import api_keys, earn_rules, program

blp = Blueprint(
    "admin", __name__, url_prefix="/api/admin",
    description="Embedded admin: program, settings, API keys. "
    "Authenticate with `Authorization: Bearer <App Bridge session token>`.",
)


def authenticate() -> None:
    """Every admin request names its shop by session token (token exchange on first use)."""
    admin_shop_id()


blp.before_request(authenticate)


def shop_of(session: Session) -> Shop:
    return session.get_one(Shop, g.admin_shop_id)


def _json(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


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
            return _json([_rule(r) for r in program.redeem_rules(session, shop_of(session))])

    @blp.arguments(RedeemRuleCreateSchema)
    @blp.response(201, RedeemRuleSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def post(self, body: dict[str, Any]) -> Response:
        """Add a redeem rule."""
        spec = program.RedeemRuleSpec(**admin_presenters.redeem_rule_changes(body))
        with database().unit_of_work() as session:
            return _json(_rule(program.create_redeem_rule(session, shop_of(session), spec)), 201)


@blp.route("/redeem-rules/<int:rule_id>")
class RedeemRuleItem(MethodView):
    @blp.response(200, RedeemRuleSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, rule_id: int) -> Response:
        with database().unit_of_work() as session:
            return _json(_rule(program.redeem_rule(session, shop_of(session), rule_id)))

    @blp.arguments(RedeemRulePatchSchema)
    @blp.response(200, RedeemRuleSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def patch(self, body: dict[str, Any], rule_id: int) -> Response:
        """Change a rule's settings (its kind stays)."""
        changes = admin_presenters.redeem_rule_changes(body)
        with database().unit_of_work() as session:
            rule = program.update_redeem_rule(session, shop_of(session), rule_id, changes)
            return _json(_rule(rule))


@blp.route("/redeem-rules/<int:rule_id>/deactivate")
class RedeemRuleDeactivate(MethodView):
    @blp.response(200, RedeemRuleSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def post(self, rule_id: int) -> Response:
        """Stop offering the rule; rules are never deleted (rewards refer to them)."""
        with database().unit_of_work() as session:
            return _json(_rule(program.deactivate_redeem_rule(session, shop_of(session),
                                                              rule_id)))


@blp.route("/earn-rules")
class EarnRules(MethodView):
    @blp.response(200, EarnRuleSchema(many=True))
    def get(self) -> Response:
        with database().unit_of_work() as session:
            return _json([_earn(r) for r in earn_rules.earn_rules(session, shop_of(session))])

    @blp.arguments(EarnRuleCreateSchema)
    @blp.response(201, EarnRuleSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def post(self, body: dict[str, Any]) -> Response:
        spec = earn_rules.EarnRuleSpec(**admin_presenters.earn_rule_changes(body))
        with database().unit_of_work() as session:
            return _json(_earn(earn_rules.create_earn_rule(session, shop_of(session), spec)), 201)


@blp.route("/earn-rules/<int:rule_id>")
class EarnRuleItem(MethodView):
    @blp.response(200, EarnRuleSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, rule_id: int) -> Response:
        with database().unit_of_work() as session:
            return _json(_earn(earn_rules.earn_rule(session, shop_of(session), rule_id)))

    @blp.arguments(EarnRulePatchSchema)
    @blp.response(200, EarnRuleSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def patch(self, body: dict[str, Any], rule_id: int) -> Response:
        changes = admin_presenters.earn_rule_changes(body)
        with database().unit_of_work() as session:
            return _json(_earn(earn_rules.update_earn_rule(session, shop_of(session), rule_id,
                                                           changes)))


@blp.route("/earn-rules/<int:rule_id>/deactivate")
class EarnRuleDeactivate(MethodView):
    @blp.response(200, EarnRuleSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def post(self, rule_id: int) -> Response:
        with database().unit_of_work() as session:
            return _json(_earn(earn_rules.deactivate_earn_rule(session, shop_of(session),
                                                               rule_id)))


def _settings(values: dict[str, Any]) -> dict[str, Any]:
    return {"codePrefix": values["code_prefix"], "exclusionTags": values["exclusion_tags"],
            "earnOn": values["earn_on"]}


@blp.route("/settings")
class Settings(MethodView):
    @blp.response(200, SettingsSchema)
    def get(self) -> Response:
        with database().unit_of_work() as session:
            return _json(_settings(program.update_settings(shop_of(session))))

    @blp.arguments(SettingsSchema)
    @blp.response(200, SettingsSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def patch(self, body: dict[str, Any]) -> Response:
        """Code prefix, customer tags that exclude from the program, the earning event."""
        with database().unit_of_work() as session:
            values = program.update_settings(
                shop_of(session), code_prefix=body.get("codePrefix"),
                exclusion_tags=body.get("exclusionTags"), earn_on=body.get("earnOn"),
            )
            return _json(_settings(values))


@blp.route("/api-keys")
class ApiKeys(MethodView):
    @blp.response(200, ApiKeySchema(many=True))
    def get(self) -> Response:
        """The shop's external API keys (hints only; a key is shown once, at creation)."""
        with database().unit_of_work() as session:
            rows = api_keys.list_keys(session, shop_of(session))
            return _json(ApiKeySchema(many=True).dump(
                [admin_presenters.api_key(r) for r in rows]))

    @blp.arguments(ApiKeyCreateSchema)
    @blp.response(201, ApiKeyCreatedSchema)
    def post(self, body: dict[str, Any]) -> Response:
        with database().unit_of_work() as session:
            row, key = api_keys.create_key(session, shop_of(session), body["name"])
            return _json({"id": row.id, "key": key}, 201)


@blp.route("/api-keys/<int:key_id>")
class ApiKeyItem(MethodView):
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema)
    def delete(self, key_id: int) -> Response:
        """Revoke the key: requests with it are refused from now on."""
        with database().unit_of_work() as session:
            api_keys.revoke_key(session, shop_of(session), key_id, utcnow())
        return Response(status=204)
