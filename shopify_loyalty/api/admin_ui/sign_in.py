"""The standalone admin's sign-in and sign-out (self-hosted shops, outside Shopify).

``GET /app/login?token=…`` (the link ``flask admin-link`` prints) only shows a button: link
previews and mail scanners fetch links, and must not spend a one-time one. The button posts
the token; a valid, unused, unexpired one sets the session cookie and opens ``/app``.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from shopify_loyalty.api.context import ADMIN_COOKIE, admin_cookie_session, database, settings
from shopify_loyalty.api.single_use import SingleUse
from shopify_loyalty.db import utcnow
from shopify_loyalty.errors import LoyaltyError, UnauthorizedError
from shopify_loyalty.services.shops import admin_sessions

blp = Blueprint("admin_sign_in", __name__)

# Plain http is allowed for the cookie only on the machine itself (a first run); anywhere
# else it is Secure, so it never travels unencrypted.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _page(status: int = 200, **context: Any) -> Response:
    response = Response(render_template("sign_in.html", **context), status=status,
                        mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    # The link's token is in this page's URL: no referrer may carry it to another site.
    # (Not "no-referrer": the browser would then send "Origin: null" with the form.)
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    return response


def _refused(exc: LoyaltyError) -> Response:
    return _page(exc.status, title="You are not signed in", error=exc.detail)


def _secure_cookie() -> bool:
    return not (request.scheme == "http" and urlsplit(request.host_url).hostname in LOCAL_HOSTS)


def _same_origin() -> None:
    """A form posted from another site is refused (on top of SameSite and the tokens).
    Raises UnauthorizedError."""
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        raise UnauthorizedError("This form was sent from another site.")


@blp.get("/app/login")
def confirm() -> Response:
    """The page behind the link: who it signs in, and a button to do it."""
    token = request.args.get("token", "")
    try:
        claims = admin_sessions.verify_link(token, settings().api_secrets, utcnow())
    except UnauthorizedError as exc:
        return _refused(exc)
    return _page(title="Sign in to Loyalty", token=token, shop=claims.shop_domain)


@blp.post("/app/login")
def sign_in() -> Response | WerkzeugResponse:
    """Spend the link: a session cookie bound to its shop, then the admin."""
    now = utcnow()
    try:
        _same_origin()
        claims = admin_sessions.verify_link(request.form.get("token", ""),
                                            settings().api_secrets, now)
        single_use: SingleUse = current_app.extensions["loyalty_single_use"]
        # Kept as long as the link could still pass verify_link.
        ttl = admin_sessions.LINK_TTL + admin_sessions.CLOCK_SKEW
        if not single_use.claim(f"admin-link:{claims.nonce}", ttl):
            raise UnauthorizedError("This sign-in link was used already: ask for a new one.")
        with database().unit_of_work() as session:
            row, token = admin_sessions.start_session(session, claims.shop_domain, now)
            expires = row.expires_at
    except LoyaltyError as exc:
        return _refused(exc)
    response = redirect("/app", code=303)
    response.set_cookie(ADMIN_COOKIE, token, expires=expires, path="/", httponly=True,
                        secure=_secure_cookie(), samesite="Lax")
    return response


@blp.post("/app/logout")
def sign_out() -> Response:
    """End the session (its row is deleted) and forget the cookie."""
    admin_session = admin_cookie_session()
    try:
        _same_origin()
        sent = request.form.get("csrf_token", "").encode()
        if admin_session is not None and not hmac.compare_digest(
                sent, admin_session.csrf_token.encode()):
            raise UnauthorizedError("The sign-out form is out of date: reload the page.")
    except LoyaltyError as exc:
        return _refused(exc)
    if admin_session is not None:
        with database().unit_of_work() as session:
            admin_sessions.end_session(session, request.cookies[ADMIN_COOKIE])
    response = _page(title="You are signed out",
                     message="Run flask --app app admin-link DOMAIN on the server to sign in "
                     "again.")
    response.delete_cookie(ADMIN_COOKIE, path="/", secure=_secure_cookie(), httponly=True,
                           samesite="Lax")
    return response
