"""The OAuth install: ``GET /auth`` and ``GET /auth/callback``.

Every check of the callback (HMAC, state, timestamp, shop) runs before anything is sent to
Shopify or stored; a failed one answers 400 or 401 and stores nothing.
https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant
"""

from __future__ import annotations

from flask import current_app, redirect, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields
from werkzeug.wrappers import Response as WerkzeugResponse

from shopify_loyalty.api.context import database, settings
from shopify_loyalty.api.schemas import ErrorSchema
from shopify_loyalty.api.single_use import SingleUse
from shopify_loyalty.db import utcnow
from shopify_loyalty.errors import LoyaltyError, UnauthorizedError
from shopify_loyalty.services.shops import installation
from shopify_loyalty.shopify import embedded, oauth

blp = Blueprint("install", __name__, description="OAuth install of the app on a shop.")


class InvalidInstallRequestError(LoyaltyError):
    status = 400
    code = "invalid_install_request"
    message = "The install request is not valid."


class AuthArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # Shopify adds hmac, host, timestamp; checked below, not here

    shop = fields.String(required=True, metadata={"example": "my-store.myshopify.com"})


def _shop_domain(value: str | None) -> str:
    domain = oauth.valid_shop_domain(value)
    if domain is None:
        raise InvalidInstallRequestError("shop must be a *.myshopify.com domain.")
    return domain


def _single_use() -> SingleUse:
    store: SingleUse = current_app.extensions["loyalty_single_use"]
    return store


@blp.route("/auth")
class Auth(MethodView):
    @blp.arguments(AuthArgsSchema, location="query")
    @blp.response(302, description="Redirect to Shopify's permission screen")
    @blp.alt_response(400, schema=ErrorSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    def get(self, args: dict[str, str]) -> WerkzeugResponse:
        """Start the install: redirect to Shopify's authorize URL with a signed state."""
        config = settings()
        domain = _shop_domain(args["shop"])
        params = request.args.to_dict()
        # Shopify's own install link is signed; a link someone else made need not be.
        if "hmac" in params and not oauth.query_hmac_valid(params, config.api_secrets):
            raise UnauthorizedError("The install request's HMAC does not match.")
        state, _nonce = oauth.sign_state(config.shopify_api_secret, domain, utcnow())
        app = current_app.extensions["loyalty_shopify_app"]
        return redirect(oauth.authorize_url(
            app, domain, config.shopify_scopes, f"{config.app_url}/auth/callback", state
        ))


@blp.route("/auth/callback")
class AuthCallback(MethodView):
    @blp.response(302, description="Redirect to the app's page in the Shopify admin")
    @blp.alt_response(400, schema=ErrorSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(502, schema=ErrorSchema)
    def get(self) -> WerkzeugResponse:
        """Finish the install: check HMAC, state, timestamp and shop; store the tokens."""
        config = settings()
        params = request.args.to_dict()
        domain = _shop_domain(params.get("shop"))
        if not oauth.query_hmac_valid(params, config.api_secrets):
            raise UnauthorizedError("The callback's HMAC does not match.")
        now = utcnow()
        try:
            oauth.check_timestamp(params.get("timestamp"), now)
            nonce = oauth.verify_state(params.get("state", ""), config.api_secrets, domain, now)
        except oauth.OAuthCheckError as exc:
            raise UnauthorizedError(f"Install callback refused: {exc}.") from exc
        code = params.get("code", "").strip()
        if not code:
            raise InvalidInstallRequestError("code is missing.")
        if not _single_use().claim(nonce, oauth.STATE_TTL):
            raise UnauthorizedError("Install callback refused: state already used.")
        try:
            installation.complete_install(
                database(), domain, code, f"{config.app_url}/webhooks", now
            )
        except oauth.TokenRefusedError as exc:
            raise InvalidInstallRequestError("Shopify refused the authorization code.") from exc
        return redirect(embedded.app_url(domain, params.get("host"), config.shopify_api_key))
