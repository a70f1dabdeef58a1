"""The few Admin GraphQL calls of the install and of a reward refund.

A deliberately small sender: the shared cost-aware client (shopify/admin.py, written in
parallel) replaces ``send`` at merge time. Documents live in ``documents/*.graphql`` and are
validated against the admin schema in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import requests

from shopify_loyalty.errors import ShopifyUnavailableError

DOCUMENTS = Path(__file__).parent / "documents"
# (connect, read) seconds: these calls are small; a hung socket must not hold a worker.
GRAPHQL_TIMEOUT = (3.05, 15.0)
WEBHOOK_TOPICS = (
    "orders/create", "orders/updated", "orders/paid", "orders/cancelled", "refunds/create",
    "customers/create", "customers/update", "app/uninstalled",
)


class AdminUnauthorizedError(Exception):
    """Shopify answered 401: the access token was rejected."""


class AdminCallError(Exception):
    """GraphQL errors or userErrors that a retry will not fix."""


@cache
def document(name: str) -> str:
    return (DOCUMENTS / f"{name}.graphql").read_text()


@dataclass(frozen=True)
class AdminEndpoint:
    base_url: str  # "https://{shop}"
    api_version: str

    def url(self, shop_domain: str) -> str:
        base = self.base_url.format(shop=shop_domain).rstrip("/")
        return f"{base}/admin/api/{self.api_version}/graphql.json"


def send(endpoint: AdminEndpoint, shop_domain: str, token: str, name: str,
         variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``data`` of one document. Raises AdminUnauthorizedError, AdminCallError,
    ShopifyUnavailableError (network, throttled, 5xx)."""
    try:
        response = requests.post(
            endpoint.url(shop_domain),
            json={"query": document(name), "variables": variables or {}},
            headers={"X-Shopify-Access-Token": token, "Accept": "application/json"},
            timeout=GRAPHQL_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise ShopifyUnavailableError(f"Admin API unreachable: {exc}") from exc
    if response.status_code == 401:
        raise AdminUnauthorizedError(name)
    if response.status_code != 200:
        raise ShopifyUnavailableError(f"Admin API answered {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise ShopifyUnavailableError("Admin API answered non-JSON") from exc
    if body.get("errors"):
        codes = {(e.get("extensions") or {}).get("code") for e in body["errors"]}
        if "THROTTLED" in codes:
            raise ShopifyUnavailableError("throttled")
        raise AdminCallError(str(body["errors"])[:500])
    data: dict[str, Any] = body.get("data") or {}
    return data


@dataclass(frozen=True)
class ShopInfo:
    name: str
    currency: str


def shop_info(endpoint: AdminEndpoint, shop_domain: str, token: str) -> ShopInfo:
    shop = send(endpoint, shop_domain, token, "install_shop")["shop"]
    return ShopInfo(name=shop["name"], currency=shop["currencyCode"])


def create_webhook_subscription(endpoint: AdminEndpoint, shop_domain: str, token: str,
                                topic: str, callback_url: str) -> None:
    """Subscribe ``topic`` (``orders/create``) at ``callback_url``. A subscription that exists
    already is not an error: a re-install registers the same ones again."""
    result = send(endpoint, shop_domain, token, "install_webhook_subscription_create", {
        "topic": topic.upper().replace("/", "_"),
        "webhookSubscription": {"uri": callback_url, "format": "JSON"},
    })["webhookSubscriptionCreate"]
    errors = [e for e in result.get("userErrors") or []
              if "already been taken" not in (e.get("message") or "")]
    if errors:
        raise AdminCallError(f"webhookSubscriptionCreate {topic}: {errors}")


def deactivate_discount(endpoint: AdminEndpoint, shop_domain: str, token: str,
                        discount_id: str) -> None:
    result = send(endpoint, shop_domain, token, "discount_code_deactivate",
                  {"id": discount_id})["discountCodeDeactivate"]
    if result.get("userErrors"):
        raise AdminCallError(f"discountCodeDeactivate: {result['userErrors']}")
