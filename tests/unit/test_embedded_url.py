"""The app's page in the Shopify admin, where an install ends."""

from __future__ import annotations

import base64

import pytest

from shopify_loyalty.shopify import embedded


def _host(text: str) -> str:
    return base64.b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(("host", "expected"), [
    (_host("admin.shopify.com/store/my-shop"), "https://admin.shopify.com/store/my-shop/apps/k"),
    (_host("my-shop.myshopify.com/admin"), "https://my-shop.myshopify.com/admin/apps/k"),
    (None, "https://my-shop.myshopify.com/admin/apps/k"),
    (_host("evil.example/store/x"), "https://my-shop.myshopify.com/admin/apps/k"),
    (_host("admin.shopify.com/store/x/../../evil"), "https://my-shop.myshopify.com/admin/apps/k"),
    ("not base64 !", "https://my-shop.myshopify.com/admin/apps/k"),
])
def test_the_app_url_uses_shopifys_host_or_the_shops_admin(host: str | None,
                                                           expected: str) -> None:
    assert embedded.app_url("my-shop.myshopify.com", host, "k") == expected
