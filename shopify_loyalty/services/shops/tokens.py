"""A usable Admin API access token for a shop: expiring tokens refreshed under a per-shop lock.

Shopify rotates the refresh token on every refresh (the old one dies), so two workers that
refresh at once would leave one of them holding a dead token. Refreshes of one shop
therefore take turns under a lock (a PostgreSQL advisory lock, a process lock on SQLite),
and whoever gets the lock re-reads the shop first: if another worker refreshed meanwhile,
its token is used and no second refresh happens. The rotated pair is written in one UPDATE.
No transaction stays open across the HTTP call: the lock is session-level, held by an idle
connection. https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.errors import NotFoundError, ShopNeedsReauthError
from shopify_loyalty.models import Shop
from shopify_loyalty.shopify import oauth
from shopify_loyalty.shopify.install_calls import AdminEndpoint
from shopify_loyalty.token_cipher import TokenCipher

# Refresh a little early, so a token handed out now still works for the call that follows
# (and its retries).
REFRESH_MARGIN = timedelta(minutes=5)
# First key of the two-key advisory lock: keeps our locks apart from anyone else's.
LOCK_NAMESPACE = 0x5E0B


@dataclass(frozen=True)
class TokenContext:
    app: oauth.AppCredentials
    cipher: TokenCipher
    admin: AdminEndpoint


_contexts: WeakKeyDictionary[Database, TokenContext] = WeakKeyDictionary()
_process_locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)


def configure(db: Database, context: TokenContext) -> None:
    """Called once by create_app: the app's credentials and cipher for this database."""
    _contexts[db] = context


def context_of(db: Database) -> TokenContext:
    return _contexts[db]


@dataclass(frozen=True)
class _Stored:
    domain: str
    access: str | None
    refresh: str | None
    expires_at: datetime | None
    refresh_expires_at: datetime | None


def store_tokens(shop: Shop, tokens: oauth.TokenSet, cipher: TokenCipher) -> None:
    """Put a new token pair on the shop row (encrypted); the caller's transaction commits."""
    shop.access_token_enc = cipher.encrypt(tokens.access_token)
    shop.refresh_token_enc = cipher.encrypt(tokens.refresh_token) if tokens.refresh_token else None
    shop.token_expires_at = tokens.expires_at
    shop.refresh_token_expires_at = tokens.refresh_token_expires_at
    if tokens.scope is not None:
        shop.scopes = tokens.scope
    shop.needs_reauth = False


def _read(db: Database, shop_id: int, cipher: TokenCipher) -> _Stored:
    """Raises NotFoundError, ShopNeedsReauthError."""
    with db.unit_of_work() as session:
        shop = session.get(Shop, shop_id, populate_existing=True)
        if shop is None:
            raise NotFoundError(f"No shop {shop_id}.")
        if not shop.installed or shop.needs_reauth or not shop.access_token_enc:
            raise ShopNeedsReauthError(f"{shop.domain} must re-install the app.")
        return _Stored(
            domain=shop.domain,
            access=cipher.decrypt(shop.access_token_enc),
            refresh=cipher.decrypt(shop.refresh_token_enc) if shop.refresh_token_enc else None,
            expires_at=shop.token_expires_at,
            refresh_expires_at=shop.refresh_token_expires_at,
        )


def _usable(stored: _Stored, now: datetime) -> bool:
    # A legacy non-expiring token (no expiry) stays usable until Shopify rejects it.
    return stored.expires_at is None or stored.expires_at - now > REFRESH_MARGIN


@contextmanager
def shop_lock(db: Database, shop_id: int) -> Iterator[None]:
    """One holder at a time per shop, across processes on PostgreSQL."""
    if not db.is_postgres:
        with _process_locks[shop_id]:
            yield
        return
    lock_id = shop_id % 2**31
    with db.engine.connect() as connection:
        connection.execute(select(func.pg_advisory_lock(LOCK_NAMESPACE, lock_id)))
        connection.commit()  # the lock is session-level; no transaction stays open
        try:
            yield
        finally:
            connection.execute(select(func.pg_advisory_unlock(LOCK_NAMESPACE, lock_id)))
            connection.commit()


def mark_needs_reauth(session: Session, shop_id: int) -> None:
    session.execute(
        update(Shop).where(Shop.id == shop_id).values(needs_reauth=True)
        .execution_options(synchronize_session=False)
    )


def _refresh_locked(db: Database, ctx: TokenContext, shop_id: int, stored: _Stored,
                    now: datetime) -> str:
    """Refresh with the lock held. Raises ShopNeedsReauthError, ShopifyUnavailableError."""
    dead = stored.refresh is None or (
        stored.refresh_expires_at is not None and stored.refresh_expires_at <= now
    )
    try:
        if dead or stored.refresh is None:
            raise oauth.TokenRefusedError("no live refresh token")
        tokens = oauth.refresh(ctx.app, stored.domain, stored.refresh, now)
    except oauth.TokenRefusedError as exc:
        with db.unit_of_work() as session:
            mark_needs_reauth(session, shop_id)
        raise ShopNeedsReauthError(f"{stored.domain}: refresh refused ({exc}).") from exc
    with db.unit_of_work() as session:
        shop = session.get_one(Shop, shop_id)
        store_tokens(shop, tokens, ctx.cipher)
    return tokens.access_token


def fresh_access_token(db: Database, shop_id: int, now: datetime | None = None) -> str:
    """A decrypted access token that is good for at least REFRESH_MARGIN.

    Raises ShopNeedsReauthError (uninstalled, or the refresh was refused: the shop is marked
    ``needs_reauth``), ShopifyUnavailableError (try later), NotFoundError.
    """
    ctx = context_of(db)
    now = now or utcnow()
    stored = _read(db, shop_id, ctx.cipher)
    if _usable(stored, now):
        assert stored.access is not None
        return stored.access
    with shop_lock(db, shop_id):
        stored = _read(db, shop_id, ctx.cipher)  # another worker may have refreshed it
        if _usable(stored, now):
            assert stored.access is not None
            return stored.access
        return _refresh_locked(db, ctx, shop_id, stored, now)


def force_refresh(db: Database, shop_id: int, rejected_token: str,
                  now: datetime | None = None) -> str:
    """After a 401: a new token, unless the stored one is no longer ``rejected_token``.

    A rejected legacy (non-expiring) token cannot be refreshed: the shop needs re-auth.
    Raises ShopNeedsReauthError, ShopifyUnavailableError, NotFoundError.
    """
    ctx = context_of(db)
    now = now or utcnow()
    with shop_lock(db, shop_id):
        stored = _read(db, shop_id, ctx.cipher)
        if stored.access != rejected_token:
            assert stored.access is not None
            return stored.access
        return _refresh_locked(db, ctx, shop_id, stored, now)


def migrate_legacy_token(db: Database, shop_id: int, now: datetime | None = None) -> str:
    """Swap a non-expiring token for an expiring pair (token exchange, old token as subject).

    A shop already on expiring tokens is left alone. Raises ShopNeedsReauthError,
    ShopifyUnavailableError, NotFoundError.
    """
    ctx = context_of(db)
    now = now or utcnow()
    with shop_lock(db, shop_id):
        stored = _read(db, shop_id, ctx.cipher)
        assert stored.access is not None
        if stored.refresh is not None:
            return stored.access
        try:
            tokens = oauth.migrate_legacy_token(ctx.app, stored.domain, stored.access, now)
        except oauth.TokenRefusedError as exc:
            with db.unit_of_work() as session:
                mark_needs_reauth(session, shop_id)
            raise ShopNeedsReauthError(f"{stored.domain}: migration refused ({exc}).") from exc
        with db.unit_of_work() as session:
            store_tokens(session.get_one(Shop, shop_id), tokens, ctx.cipher)
        return tokens.access_token
