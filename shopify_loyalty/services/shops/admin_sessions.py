"""The standalone admin's sign-in, for self-hosted shops: one-time links and their sessions.

``flask admin-link DOMAIN`` prints a link whose token carries the shop, its issue time and a
nonce, signed with the app secret (HMAC-SHA256). It is good for LINK_TTL from that issue
time, and once: the caller claims the nonce in its single-use store before starting the
session. A session is a random token the browser keeps in an HttpOnly cookie (only its
SHA-256 is stored, as for API keys) and a CSRF token the page sends back with every call
that changes something. Embedded in the Shopify admin, none of this is used: App Bridge
session tokens authenticate every call (api.context.admin_shop_id).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shopify_loyalty.errors import UnauthorizedError
from shopify_loyalty.models import AdminSession, Shop

# Long enough to copy the link from a terminal into a browser, short enough that a link
# left in a scrollback or a chat is useless soon after.
LINK_TTL = timedelta(minutes=10)
# A working day; signing in again is one command.
SESSION_TTL = timedelta(hours=12)
# The server that checks a link may run a little behind the one that signed it.
CLOCK_SKEW = timedelta(seconds=30)
_PURPOSE = b"admin-link."


@dataclass(frozen=True)
class LinkClaims:
    shop_domain: str
    nonce: str
    issued_at: datetime

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + LINK_TTL


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _mac(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), _PURPOSE + body.encode(), hashlib.sha256).digest())


def sign_link(secret: str, shop_domain: str, now: datetime) -> str:
    """A link token for the shop, issued ``now``."""
    body = f"{secrets.token_urlsafe(18)}.{int(now.timestamp())}.{_b64(shop_domain.encode())}"
    return f"{body}.{_mac(secret, body)}"


def verify_link(token: str, secrets_: Sequence[str], now: datetime) -> LinkClaims:
    """The link's claims once its signature and age hold (not whether it was used: the
    caller's single-use store knows that). Raises UnauthorizedError."""
    parts = token.split(".")
    if len(parts) != 4 or not parts[1].isdigit():
        raise UnauthorizedError("This sign-in link is not valid.")
    nonce, issued, shop_b64, mac = parts
    body = f"{nonce}.{issued}.{shop_b64}"
    if not any(hmac.compare_digest(mac, _mac(secret, body)) for secret in secrets_):
        raise UnauthorizedError("This sign-in link is not valid.")
    issued_at = datetime.fromtimestamp(int(issued), UTC)
    if not issued_at - CLOCK_SKEW <= now <= issued_at + LINK_TTL:
        raise UnauthorizedError("This sign-in link has expired: ask for a new one.")
    try:
        domain = base64.urlsafe_b64decode(shop_b64 + "=" * (-len(shop_b64) % 4)).decode()
    except ValueError as exc:
        raise UnauthorizedError("This sign-in link is not valid.") from exc
    return LinkClaims(domain, nonce, issued_at)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, shop_domain: str, now: datetime) -> tuple[AdminSession, str]:
    """A new session for the installed shop: (row, the cookie's token). The shop's expired
    sessions are deleted on the way. Raises UnauthorizedError."""
    shop = session.scalars(select(Shop).where(Shop.domain == shop_domain)).first()
    if shop is None or not shop.installed:
        raise UnauthorizedError("This shop is not installed.")
    session.execute(delete(AdminSession).where(AdminSession.shop_id == shop.id,
                                               AdminSession.expires_at < now))
    token = secrets.token_urlsafe(32)
    row = AdminSession(shop_id=shop.id, token_hash=_token_hash(token),
                       csrf_token=secrets.token_urlsafe(32), created_at=now,
                       expires_at=now + SESSION_TTL)
    session.add(row)
    session.flush()
    return row, token


def session_for(session: Session, token: str, now: datetime) -> AdminSession:
    """The live session of this cookie token, its shop still installed. Raises
    UnauthorizedError."""
    row = session.scalars(select(AdminSession).where(
        AdminSession.token_hash == _token_hash(token))).first()
    if row is None or row.expires_at <= now:
        raise UnauthorizedError("Your admin session has ended: sign in again.")
    shop = session.get(Shop, row.shop_id)
    if shop is None or not shop.installed:
        raise UnauthorizedError("This shop is not installed.")
    return row


def end_session(session: Session, token: str) -> None:
    """Sign out: the cookie's token no longer opens anything (again is a no-op)."""
    session.execute(delete(AdminSession).where(AdminSession.token_hash == _token_hash(token)))
