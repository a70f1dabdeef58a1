"""The embedded admin API's referrals (``/api/admin/referrals``), scoped by the shop."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from shopify_loyalty.api.admin.common import TOTAL, authenticate, paged, shop_of
from shopify_loyalty.api.context import database
from shopify_loyalty.api.earning_schemas import AdminReferralSchema, ReferralArgsSchema
from shopify_loyalty.models import ReferralState
from shopify_loyalty.services.customers import referrals
from shopify_loyalty.services.customers.referrals import ReferralView

blp = Blueprint("admin_referrals", __name__, url_prefix="/api/admin",
                description="Embedded admin: every referral, with its state and reason.")
blp.before_request(authenticate)


def referral(view: ReferralView) -> dict[str, Any]:
    row = view.referral
    return {
        "id": row.id, "referrerId": view.referrer.shopify_customer_id,
        "referrerEmail": view.referrer.email, "friendEmail": row.friend_email,
        "friendCustomerId": view.friend.shopify_customer_id if view.friend else None,
        "state": row.state.value, "reason": row.reason, "paid": row.paid,
        "points": row.points, "discountCode": view.code, "orderId": row.order_id,
        "createdAt": row.created_at, "completedAt": row.completed_at,
    }


@blp.route("/referrals")
class Referrals(MethodView):
    @blp.arguments(ReferralArgsSchema, location="query")
    @blp.response(200, AdminReferralSchema(many=True), headers=TOTAL)
    def get(self, args: dict[str, Any]) -> Response:
        """The shop's referrals, newest first; ``state`` (CLAIMED, COMPLETED, REJECTED)
        filters. ``reason`` says why one was refused or not paid."""
        state = ReferralState(args["state"]) if args.get("state") else None
        with database().unit_of_work() as session:
            page = referrals.shop_referrals(session, shop_of(session), state, args["page"],
                                            args["size"])
            body = AdminReferralSchema(many=True).dump([referral(v) for v in page.items])
            return paged(body, page.total)
