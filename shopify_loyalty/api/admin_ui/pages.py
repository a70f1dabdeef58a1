"""``GET /app`` and every path below it: one HTML shell; the client-side router of
admin_ui/static/admin/app.js renders the page the path names.

Embedded in the Shopify admin, the shell loads App Bridge, which gives a fresh session token
for each API call. Opened with a standalone session cookie (api.admin_ui.sign_in), it needs
no CDN at all: the Polaris tokens and the modules are served from here.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, render_template, request

from shopify_loyalty.api.context import admin_cookie_session, database, settings
from shopify_loyalty.models import Shop
from shopify_loyalty.shopify import oauth

ASSETS = Path(__file__).resolve().parents[2] / "admin_ui"
ADMIN_ORIGIN = "https://admin.shopify.com"

blp = Blueprint("admin_ui", __name__, template_folder=str(ASSETS / "templates"),
                static_folder=str(ASSETS / "static"), static_url_path="/app/static")

# No inline scripts, no foreign scripts but App Bridge's; connections stay on our origin,
# plus Shopify's when embedded, where App Bridge may also set styles inline.
_POLICY = ("default-src 'self'; script-src 'self'{scripts}; style-src 'self'{styles}; "
           "img-src 'self' data:; connect-src 'self'{connect}; object-src 'none'; "
           "base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}")


def _embedding_shop() -> str | None:
    """The shop Shopify names when it opens the app, once its signature holds."""
    params = request.args.to_dict()
    domain = oauth.valid_shop_domain(params.get("shop"))
    if domain and oauth.query_hmac_valid(params, settings().api_secrets):
        return domain
    return None


def _policy(embedded_in: str | None, standalone: bool) -> str:
    """Framed only by the shop's admin when embedded, by nobody when standalone:
    https://shopify.dev/docs/apps/build/security/app-server/set-up-iframe-protection"""
    if standalone:
        return _POLICY.format(scripts="", styles="", connect="", ancestors="'none'")
    ancestors = f"https://{embedded_in} {ADMIN_ORIGIN}" if embedded_in else ADMIN_ORIGIN
    return _POLICY.format(scripts=" https://cdn.shopify.com", styles=" 'unsafe-inline'",
                          connect=" https://*.shopify.com", ancestors=ancestors)


@blp.get("/app")
@blp.get("/app/<path:_page>")
def shell(_page: str = "") -> Response:
    """The admin's one HTML page; the path below /app is the client's route."""
    admin_session = admin_cookie_session()
    if admin_session is not None:
        with database().unit_of_work() as session:
            domain = session.get_one(Shop, admin_session.shop_id).domain
        body = render_template("app.html", mode="session", shop=domain,
                               csrf=admin_session.csrf_token)
    else:
        body = render_template("app.html", mode="embedded", api_key=settings().shopify_api_key)
    response = Response(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _policy(_embedding_shop(),
                                                          admin_session is not None)
    # It holds the CSRF token: never cached, never sent elsewhere as a referrer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blp.after_request
def _revalidate_assets(response: Response) -> Response:
    # ES modules import one another by plain URLs, with no build to fingerprint them: the
    # browser must check each one (a 304 is cheap) so a deploy never mixes old and new.
    if request.endpoint == "admin_ui.static":
        response.headers["Cache-Control"] = "no-cache"
    return response
