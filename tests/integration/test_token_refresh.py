"""Expiring offline tokens: refreshed once under a per-shop lock, on real PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import responses
from flask import Flask

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.errors import ShopifyUnavailableError, ShopNeedsReauthError
from shopify_loyalty.models import Shop
from shopify_loyalty.services.shops import tokens as shop_tokens
from shopify_loyalty.token_cipher import TokenCipher
from tests.shopify_mock import form, token_answer, token_url

DOMAIN = "token-shop.myshopify.com"


@pytest.fixture
def cipher(app: Flask) -> TokenCipher:
    return TokenCipher(app.extensions["loyalty_settings"].token_encryption_key)


@pytest.fixture
def shopify() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def make_shop(db: Database, cipher: TokenCipher, expires_in: timedelta | None,
              refresh: str | None = "shprt_old", **fields: Any) -> int:
    now = utcnow()
    with db.unit_of_work() as session:
        shop = Shop(
            domain=DOMAIN, currency="USD", settings={},
            access_token_enc=cipher.encrypt("shpat_old"),
            refresh_token_enc=cipher.encrypt(refresh) if refresh else None,
            token_expires_at=now + expires_in if expires_in is not None else None,
            refresh_token_expires_at=now + timedelta(days=90) if refresh else None,
            **fields,
        )
        session.add(shop)
        session.flush()
        return shop.id


def stored(db: Database, shop_id: int) -> Shop:
    with db.unit_of_work() as session:
        return session.get_one(Shop, shop_id)


def slow_token_answer(access: str, refresh: str) -> Any:
    answer = token_answer(access, refresh)

    def slow(request: Any) -> Any:
        time.sleep(0.2)  # hold the refresh open so every other thread piles up behind it
        return answer(request)
    return slow


def test_ten_threads_at_expiry_cause_exactly_one_refresh(
    committed_db: Database, cipher: TokenCipher, shopify: responses.RequestsMock
) -> None:
    shop_id = make_shop(committed_db, cipher, expires_in=timedelta(seconds=30))
    shopify.add_callback(responses.POST, token_url(DOMAIN),
                         callback=slow_token_answer("shpat_rotated", "shprt_rotated"))
    barrier = threading.Barrier(10)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(shop_tokens.fresh_access_token(committed_db, shop_id))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert results == ["shpat_rotated"] * 10
    assert len(shopify.calls) == 1
    assert form(shopify.calls[0].request) == {
        "client_id": "test-api-key", "client_secret": "shpss_test_secret_0123456789abcdef0123",
        "grant_type": "refresh_token", "refresh_token": "shprt_old",
    }
    shop = stored(committed_db, shop_id)
    assert shop.refresh_token_enc is not None
    assert cipher.decrypt(shop.refresh_token_enc) == "shprt_rotated"
    assert shop.token_expires_at is not None and shop.token_expires_at > utcnow()


def test_a_fresh_token_is_used_as_it_is(committed_db: Database, cipher: TokenCipher,
                                        shopify: responses.RequestsMock) -> None:
    shop_id = make_shop(committed_db, cipher, expires_in=timedelta(minutes=50))
    assert shop_tokens.fresh_access_token(committed_db, shop_id) == "shpat_old"
    assert len(shopify.calls) == 0


def test_a_token_expiring_within_five_minutes_is_refreshed(
    committed_db: Database, cipher: TokenCipher, shopify: responses.RequestsMock
) -> None:
    shop_id = make_shop(committed_db, cipher, expires_in=timedelta(minutes=4))
    shopify.add_callback(responses.POST, token_url(DOMAIN),
                         callback=token_answer("shpat_rotated", "shprt_rotated"))
    assert shop_tokens.fresh_access_token(committed_db, shop_id) == "shpat_rotated"


def test_a_refused_refresh_marks_the_shop_for_reauth(
    committed_db: Database, cipher: TokenCipher, shopify: responses.RequestsMock
) -> None:
    shop_id = make_shop(committed_db, cipher, expires_in=timedelta(seconds=-10))
    shopify.add_callback(responses.POST, token_url(DOMAIN), callback=token_answer(status=400))
    with pytest.raises(ShopNeedsReauthError):
        shop_tokens.fresh_access_token(committed_db, shop_id)
    assert stored(committed_db, shop_id).needs_reauth
    with pytest.raises(ShopNeedsReauthError):
        shop_tokens.fresh_access_token(committed_db, shop_id)
    assert len(shopify.calls) == 1


def test_shopify_down_is_not_a_reauth(committed_db: Database, cipher: TokenCipher,
                                      shopify: responses.RequestsMock) -> None:
    shop_id = make_shop(committed_db, cipher, expires_in=timedelta(seconds=-10))
    shopify.add(responses.POST, token_url(DOMAIN), status=503)
    with pytest.raises(ShopifyUnavailableError):
        shop_tokens.fresh_access_token(committed_db, shop_id)
    assert not stored(committed_db, shop_id).needs_reauth


def test_an_uninstalled_shop_needs_reauth(committed_db: Database, cipher: TokenCipher) -> None:
    shop_id = make_shop(committed_db, cipher, expires_in=timedelta(minutes=50),
                        uninstalled_at=utcnow())
    with pytest.raises(ShopNeedsReauthError):
        shop_tokens.fresh_access_token(committed_db, shop_id)


def test_force_refresh_refreshes_only_the_rejected_token(
    committed_db: Database, cipher: TokenCipher, shopify: responses.RequestsMock
) -> None:
    shop_id = make_shop(committed_db, cipher, expires_in=timedelta(minutes=50))
    shopify.add_callback(responses.POST, token_url(DOMAIN),
                         callback=token_answer("shpat_rotated", "shprt_rotated"))
    assert shop_tokens.force_refresh(committed_db, shop_id, "shpat_older") == "shpat_old"
    assert len(shopify.calls) == 0
    assert shop_tokens.force_refresh(committed_db, shop_id, "shpat_old") == "shpat_rotated"
    assert shop_tokens.force_refresh(committed_db, shop_id, "shpat_old") == "shpat_rotated"
    assert len(shopify.calls) == 1


def test_a_legacy_token_keeps_working_and_can_be_migrated(
    committed_db: Database, cipher: TokenCipher, shopify: responses.RequestsMock
) -> None:
    shop_id = make_shop(committed_db, cipher, expires_in=None, refresh=None)
    assert shop_tokens.fresh_access_token(committed_db, shop_id) == "shpat_old"
    shopify.add_callback(responses.POST, token_url(DOMAIN),
                         callback=token_answer("shpat_expiring", "shprt_first"))
    assert shop_tokens.migrate_legacy_token(committed_db, shop_id) == "shpat_expiring"
    sent = form(shopify.calls[0].request)
    assert sent["subject_token"] == "shpat_old"
    assert sent["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert sent["subject_token_type"] == sent["requested_token_type"] == (
        "urn:shopify:params:oauth:token-type:offline-access-token")
    assert sent["expiring"] == "1"
    shop = stored(committed_db, shop_id)
    assert isinstance(shop.token_expires_at, datetime)
    assert shop_tokens.fresh_access_token(committed_db, shop_id) == "shpat_expiring"


def test_a_rejected_legacy_token_needs_reauth(committed_db: Database, cipher: TokenCipher,
                                              shopify: responses.RequestsMock) -> None:
    shop_id = make_shop(committed_db, cipher, expires_in=None, refresh=None)
    with pytest.raises(ShopNeedsReauthError):
        shop_tokens.force_refresh(committed_db, shop_id, "shpat_old")
    assert stored(committed_db, shop_id).needs_reauth
    assert len(shopify.calls) == 0
