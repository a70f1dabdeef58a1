"""The embedded admin API's rewards (``/api/admin/rewards``): list, refund an unused one."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from shopify_loyalty.api.admin import presenters as admin_presenters
from shopify_loyalty.api.admin.common import TOTAL, authenticate, paged, shop_of
from shopify_loyalty.api.context import database
from shopify_loyalty.api.schemas import ErrorSchema, RewardsArgsSchema, RewardSchema
from shopify_loyalty.models import RewardStatus
from shopify_loyalty.services.rewards import admin as rewards_admin

blp = Blueprint("admin_rewards", __name__, url_prefix="/api/admin",
                description="Embedded admin: rewards, and refunds of unused ones.")
blp.before_request(authenticate)


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
            return paged(body, page.total)


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
