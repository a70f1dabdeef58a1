"""Public referral endpoints: the referral link's redirect and the friend's claim.

No session token: a friend is usually not a customer yet. The claim is rate-limited per
address and per code (api.ratelimit), open to any origin (CORS), and answers the friend's
single-use code at once; the code is made in Shopify by the fulfilment worker right after.
The same claim is served behind Shopify's app proxy at ``/proxy/referrals/{code}/claim``,
where the shop is the signed ``shop`` parameter and guests are welcome.
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

from shopify_loyalty.api.context import database, proxy_request
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
# Same origin as the theme (https://{shop}/apps/loyalty/…): no CORS to open.
proxy_blp = Blueprint(
    "proxy_referrals", __name__, url_prefix="/proxy/referrals",
    description="Public, behind Shopify's app proxy: a referred friend claims their code "
    "(the shop is the signed `shop` parameter; a guest may claim).",
)


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
        return _claim(shop_domain, code, body["email"])


@proxy_blp.route("/<code>/claim")
class ProxyClaim(MethodView):
    @proxy_blp.arguments(ReferralClaimSchema)
    @proxy_blp.response(200, ReferralClaimedSchema)
    @proxy_blp.alt_response(401, schema=ErrorSchema)
    @proxy_blp.alt_response(404, schema=ErrorSchema)
    @proxy_blp.alt_response(422, schema=ErrorSchema)
    @proxy_blp.alt_response(429, schema=ErrorSchema)
    def post(self, body: dict[str, Any], code: str) -> Response:
        """The friend's code, through the app proxy: the shop is the one Shopify signed for.

        Errors: 401 `unauthorized` (not a request Shopify signed), and those of the public
        claim: 404 `referral_not_found`, `earn_rule_not_found`; 422 `referral_not_allowed`,
        `validation_error`; 429.
        """
        return _claim(proxy_request().shop_domain, code, body["email"])


def _claim(shop_domain: str, code: str, email: str) -> Response:
    with database().unit_of_work() as session:
        shop = _installed_shop(session, shop_domain, code)
        claimed = referrals.claim(session, shop, code, email, utcnow())
        reward = claimed.reward
        return jsonify(ReferralClaimedSchema().dump({
            "discountCode": reward.discount_code, "kind": reward.discount_kind,
            "value": reward.amount, "expireDate": reward.expires_at,
        }))
