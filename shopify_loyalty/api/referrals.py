"""Public referral endpoints: the referral link's redirect and the friend's claim.

No session token: a friend is usually not a customer yet. The claim is rate-limited per
address and per code (api.ratelimit), open to any origin (CORS), and answers the friend's
single-use code at once; the code is made in Shopify by the fulfilment worker right after.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint as FlaskBlueprint
from flask import Response, jsonify, redirect
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.api.context import database
from shopify_loyalty.api.earning_schemas import ReferralClaimedSchema, ReferralClaimSchema
from shopify_loyalty.api.schemas import ErrorSchema
from shopify_loyalty.api.storefront import cors, preflight
from shopify_loyalty.db import utcnow
from shopify_loyalty.errors import ReferralNotFoundError
from shopify_loyalty.models import Shop
from shopify_loyalty.services.customers import referrals
from shopify_loyalty.services.customers.referral_codes import referrer_by_code
from shopify_loyalty.services.shops.links import referral_landing

# Shopify shop domains; anything else names no shop and is not looked up.
SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\.myshopify\.com$")
CODE = re.compile(r"^[A-Za-z0-9]{4,32}$")

blp = Blueprint(
    "referrals", __name__, url_prefix="/loyalty/referrals",
    description="Public: a referred friend claims their code (rate-limited per address and "
    "per code).",
)
blp.after_request(cors)
blp.before_request(preflight)
links = FlaskBlueprint("referral_links", __name__)


def _installed_shop(session: Session, domain: str, code: str) -> Shop:
    """Raises ReferralNotFoundError for a malformed domain or code, or an unknown shop."""
    domain = domain.strip().lower()
    if not SHOP_DOMAIN.match(domain) or not CODE.match(code):
        raise ReferralNotFoundError()
    shop = session.scalars(select(Shop).where(Shop.domain == domain)).first()
    if shop is None or not shop.installed:
        raise ReferralNotFoundError()
    return shop


@links.get("/r/<shop_domain>/<code>")
def follow_link(shop_domain: str, code: str) -> Any:
    """A referral link: 302 to the shop's storefront with ``?loyalty_ref=CODE``."""
    with database().unit_of_work() as session:
        shop = _installed_shop(session, shop_domain, code)
        referrer = referrer_by_code(session, shop, code)
        return redirect(referral_landing(shop.domain, referrer.referral_code or code), 302)


@blp.route("/<shop_domain>/<code>/claim")
class Claim(MethodView):
    @blp.arguments(ReferralClaimSchema)
    @blp.response(200, ReferralClaimedSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @blp.alt_response(429, schema=ErrorSchema)
    def post(self, body: dict[str, Any], shop_domain: str, code: str) -> Response:
        """The friend's single-use code for a first order.

        Errors: 404 `referral_not_found` (no such code in that shop), `earn_rule_not_found`
        (no referral program); 422 `referral_not_allowed` (the referrer's own email, a
        customer who has ordered, an email that claimed before), `validation_error`; 429.
        """
        with database().unit_of_work() as session:
            shop = _installed_shop(session, shop_domain, code)
            claimed = referrals.claim(session, shop, code, body["email"], utcnow())
            reward = claimed.reward
            return jsonify(ReferralClaimedSchema().dump({
                "discountCode": reward.discount_code, "kind": reward.discount_kind,
                "value": reward.amount, "expireDate": reward.expires_at,
            }))
