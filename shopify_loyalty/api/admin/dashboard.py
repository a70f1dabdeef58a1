"""The embedded admin API's dashboard (``GET /api/admin/dashboard``): the program at a glance."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from shopify_loyalty.api.admin.common import authenticate, json_response, shop_of
from shopify_loyalty.api.context import database
from shopify_loyalty.api.schemas import ErrorSchema
from shopify_loyalty.db import utcnow
from shopify_loyalty.services.customers import dashboard

blp = Blueprint("admin_dashboard", __name__, url_prefix="/api/admin",
                description="Embedded admin: the dashboard's figures.")
blp.before_request(authenticate)


class DaySchema(Schema):
    date = fields.Date()
    earned = fields.Integer()
    redeemed = fields.Integer()


class TopRewardSchema(Schema):
    redeemRuleId = fields.Integer(allow_none=True)
    name = fields.String()
    count = fields.Integer(metadata={"description": "Rewards of the rule, refunds left out"})
    points = fields.Integer()


class DashboardSchema(Schema):
    currency = fields.String()
    members = fields.Integer(metadata={"description": "ACTIVE and INACTIVE customers"})
    customersByStatus = fields.Dict(keys=fields.String(), values=fields.Integer())
    pointsOutstanding = fields.Integer(metadata={"description": "Available points, all customers"})
    pointsPending = fields.Integer()
    pointsCredited = fields.Integer(metadata={"description": "Points ever credited"})
    pointsSpent = fields.Integer(metadata={"description": "Points redeemed, net of refunds"})
    pointValue = fields.String(allow_none=True, metadata={
        "description": "Currency per point (decimal string)"})
    pointValueSource = fields.String(metadata={"enum": ["setting", "rules", "none"]})
    outstandingValue = fields.String(allow_none=True, metadata={
        "description": "pointsOutstanding × pointValue, in the shop currency"})
    redemptionRate = fields.Float(allow_none=True, metadata={
        "description": "pointsSpent / pointsCredited, from 0 to 1; null before any credit"})
    days = fields.List(fields.Nested(DaySchema), metadata={
        "description": "The last 30 UTC days, oldest first"})
    rewardsByStatus = fields.Dict(keys=fields.String(), values=fields.Integer())
    topRewards = fields.List(fields.Nested(TopRewardSchema))


def _body(board: dashboard.Dashboard) -> dict[str, Any]:
    rate, value = board.point_value.rate, board.outstanding_value
    return {
        "currency": board.currency,
        "members": board.members,
        "customersByStatus": board.customers_by_status,
        "pointsOutstanding": board.points_outstanding,
        "pointsPending": board.points_pending,
        "pointsCredited": board.points_credited,
        "pointsSpent": board.points_spent,
        "pointValue": None if rate is None else f"{rate.normalize():f}",
        "pointValueSource": board.point_value.source,
        "outstandingValue": None if value is None else str(value),
        "redemptionRate": board.redemption_rate,
        "days": [{"date": d.day, "earned": d.earned, "redeemed": d.redeemed} for d in board.days],
        "rewardsByStatus": board.rewards_by_status,
        "topRewards": [{"redeemRuleId": t.rule_id, "name": t.name, "count": t.count,
                        "points": t.points} for t in board.top_rewards],
    }


@blp.route("/dashboard")
class Dashboard(MethodView):
    @blp.response(200, DashboardSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    def get(self) -> Response:
        """Members, points outstanding and their value, 30 days of points earned and
        redeemed, the redemption rate, rewards by status and the top rewards."""
        with database().unit_of_work() as session:
            board = dashboard.summary(session, shop_of(session), utcnow())
            return json_response(DashboardSchema().dump(_body(board)))
