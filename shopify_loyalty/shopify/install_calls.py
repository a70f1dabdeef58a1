"""The install's Admin calls, over the shared cost-aware client.

Errors are mapped to what the install and refund flows decide on: a rejected token
(AdminUnauthorizedError), a refusal a retry will not fix (AdminCallError), and Shopify being
unreachable, throttled or failing (ShopifyUnavailableError).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from shopify_loyalty.errors import ShopifyUnavailableError
from shopify_loyalty.shopify.admin import AdminClient
from shopify_loyalty.shopify.customer_fields import FIELDS, CustomerFieldsAdmin
from shopify_loyalty.shopify.errors import (
    ShopifyError,
    ShopifyGraphQLError,
    ShopifyShopGone,
    ShopifyThrottled,
    ShopifyTransientError,
    ShopifyUnauthorized,
    ShopifyUserErrors,
)
from shopify_loyalty.shopify.shop_admin import ShopifyAdmin

WEBHOOK_TOPICS = (
    "orders/create", "orders/updated", "orders/paid", "orders/cancelled", "refunds/create",
    "customers/create", "customers/update", "app/uninstalled",
    # Since API 2025-01 the customer topics no longer carry marketing consent; these do
    # (https://shopify.dev/changelog/new-customer-s-webhook-and-changes-to-existing-customer-s-webhooks-payload).
    "customers_email_marketing_consent/update", "customers_marketing_consent/update",
    # … nor tags: these say which tags were added or removed.
    "customer.tags_added", "customer.tags_removed",
)
T = TypeVar("T")
log = logging.getLogger(__name__)


class AdminUnauthorizedError(Exception):
    """Shopify answered 401: the access token was rejected."""


class AdminCallError(Exception):
    """GraphQL errors or userErrors that a retry will not fix."""


@dataclass(frozen=True)
class AdminEndpoint:
    base_url: str  # "https://{shop}"
    api_version: str

    def admin(self, shop_domain: str, token: str) -> ShopifyAdmin:
        return ShopifyAdmin(AdminClient(
            shop_domain, token, base_url=self.base_url, api_version=self.api_version
        ))


@contextmanager
def _mapped_errors(what: str) -> Iterator[None]:
    try:
        yield
    except ShopifyUnauthorized as exc:
        raise AdminUnauthorizedError(what) from exc
    except (ShopifyUserErrors, ShopifyGraphQLError, ShopifyShopGone) as exc:
        raise AdminCallError(f"{what}: {exc}") from exc
    except (ShopifyThrottled, ShopifyTransientError) as exc:
        raise ShopifyUnavailableError(f"{what}: {exc}") from exc


def _call(endpoint: AdminEndpoint, shop_domain: str, token: str, what: str,
          operation: Callable[[ShopifyAdmin], T]) -> T:
    with _mapped_errors(what):
        return operation(endpoint.admin(shop_domain, token))


@dataclass(frozen=True)
class ShopInfo:
    name: str
    currency: str
    iana_timezone: str | None = None


def shop_info(endpoint: AdminEndpoint, shop_domain: str, token: str) -> ShopInfo:
    info = _call(endpoint, shop_domain, token, "shop", lambda admin: admin.shop_info())
    return ShopInfo(name=info.name, currency=info.currency_code,
                    iana_timezone=info.iana_timezone)


def create_webhook_subscription(endpoint: AdminEndpoint, shop_domain: str, token: str,
                                topic: str, callback_url: str) -> None:
    """Subscribe ``topic`` (``orders/create``) at ``callback_url``. A subscription that exists
    already is not an error: a re-install registers the same ones again."""
    try:
        _call(endpoint, shop_domain, token, f"webhookSubscriptionCreate {topic}",
              lambda admin: admin.create_webhook_subscription(topic, callback_url))
    except AdminCallError as exc:
        cause = exc.__cause__
        if isinstance(cause, ShopifyUserErrors) and all(
            "already been taken" in error.message for error in cause.errors
        ):
            return
        raise



def create_metafield_definitions(endpoint: AdminEndpoint, shop_domain: str,
                                 token: str) -> list[str]:
    """Define the sync's customer metafields (``loyalty.*``), so the admin shows them and
    the storefront may read them; the keys that could not be defined.

    Each is tried whatever happened to the others, and none fails the install: the sync
    writes the values without definitions too (``metafieldsSet`` with their type), and
    the next install tries again. One that exists already (TAKEN) is defined.
    """
    failed: list[str] = []
    for key in FIELDS:
        client = AdminClient(shop_domain, token, base_url=endpoint.base_url,
                             api_version=endpoint.api_version)
        try:
            CustomerFieldsAdmin(client).create_definition(key)
        except ShopifyUserErrors as refused:
            if refused.codes == {"TAKEN"}:
                continue
            log.warning("shop %s: metafield definition %s refused: %s", shop_domain, key,
                        refused)
            failed.append(key)
        except ShopifyError as error:
            log.warning("shop %s: metafield definition %s not created: %s", shop_domain, key,
                        error)
            failed.append(key)
    return failed
