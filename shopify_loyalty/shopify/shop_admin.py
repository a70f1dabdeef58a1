"""`ShopifyAdmin`: the typed Shopify operations the workers call, over one `AdminClient`.

Store credit and lost answers. A discount code is ours and unique, so a repeated create answers
TAKEN and `find_discount_by_code` recovers the first attempt's id. Store credit has no such key:
in the schema this app targets, `storeCreditAccountCredit` takes only an amount and an expiry,
and a `StoreCreditAccountTransaction` carries `amount`, `createdAt`, `expiresAt`, `event` and an
`origin` that can only be an `OrderTransaction` - no idempotency key, note or tag we could set.
(Shopify's 2027-01 reference adds a merchant-only `note` to transactions,
https://shopify.dev/docs/api/admin-graphql/2027-01/interfaces/StoreCreditAccountTransaction ;
once the app targets a version that can write it, tag each credit with the reward's id.)

So `credit_store_credit` never lets the client repeat a request whose answer was lost
(`retry_after_send=False`): it raises `ShopifyTransientError` instead, and before any retry
the worker calls `find_store_credit` with the time it recorded before its first attempt. That
reads the customer's account in that currency, newest first, and returns the oldest credit
(ADJUSTMENT event, the same amount and expiry) created since then whose id is not already
recorded on another reward (`exclude`). Found: record it, the credit was applied. Not found:
crediting again is safe. A merchant's manual credit of the very same amount and expiry in that
window would be taken for ours; the window is minutes and the amount and expiry must match, which
we accept, and the worker should not credit again without this check.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from shopify_loyalty.shopify.admin import AdminClient
from shopify_loyalty.shopify.discounts import DiscountCodeSpec, customer_gid, discount_code_mutation
from shopify_loyalty.shopify.errors import ShopifyGraphQLError, ShopifyUserErrors, UserError

# Shopify's createdAt comes from Shopify's clock, `since` from ours.
CLOCK_SKEW = timedelta(minutes=2)
# How many recent credits to look through; a customer gets few credits within minutes.
RECENT_CREDITS = 50


@dataclass(frozen=True, slots=True)
class ShopInfo:
    name: str
    currency_code: str
    myshopify_domain: str
    # "Europe/Paris"; None when the answer lacks it (the shop's days are then UTC days).
    iana_timezone: str | None = None


class ShopifyAdmin:
    """Typed Shopify operations of one shop. Every method may raise the client's errors."""

    def __init__(self, client: AdminClient) -> None:
        self._client = client

    def create_discount_code(self, spec: DiscountCodeSpec) -> str:
        """Create the reward's code; return its discount node GID.

        Raises `ShopifyUserErrors` (with code TAKEN when the code exists already).
        """
        mutation = discount_code_mutation(spec)
        data = self._client.execute(mutation.document, mutation.variables)
        payload = _payload(data, mutation.payload_field)
        return _node_id(payload.get("codeDiscountNode"), mutation.payload_field)

    def find_discount_by_code(self, code: str) -> str | None:
        """The discount node GID of `code` (case-insensitive in Shopify), or None."""
        data = self._client.execute("CodeDiscountNodeByCode", {"code": code})
        node = data.get("codeDiscountNodeByCode")
        return str(node["id"]) if isinstance(node, Mapping) else None

    def deactivate_discount(self, discount_gid: str) -> None:
        """Deactivate a code (an unused reward refunded or expired). Raises `ShopifyUserErrors`."""
        data = self._client.execute("DiscountCodeDeactivate", {"id": discount_gid})
        _payload(data, "discountCodeDeactivate")

    def variant_price(self, variant_id: int) -> Decimal:
        """A variant's current price in the shop's currency.

        Raises `ShopifyGraphQLError` (code NOT_FOUND) when the variant does not exist.
        """
        gid = f"gid://shopify/ProductVariant/{variant_id}"
        variant = self._client.execute("ProductVariantPrice", {"id": gid}).get("productVariant")
        if not isinstance(variant, Mapping):
            raise ShopifyGraphQLError(f"variant {variant_id} not found", ["NOT_FOUND"])
        return Decimal(str(variant["price"]))

    def credit_store_credit(
        self, customer_id: int, amount: Decimal, currency: str, expires_at: datetime | None
    ) -> str:
        """Credit the customer's store credit; return the transaction GID.

        Raises `ShopifyUserErrors`, and `ShopifyTransientError` when the answer was lost (call
        `find_store_credit` before crediting again).
        """
        credit: dict[str, Any] = {
            "creditAmount": {"amount": str(amount), "currencyCode": currency},
            "expiresAt": expires_at.isoformat() if expires_at else None,
        }
        data = self._client.execute(
            "StoreCreditAccountCredit",
            {"id": customer_gid(customer_id), "creditInput": credit},
            retry_after_send=False,
        )
        payload = _payload(data, "storeCreditAccountCredit")
        return _node_id(payload.get("storeCreditAccountTransaction"), "storeCreditAccountCredit")

    def find_store_credit(
        self,
        customer_id: int,
        amount: Decimal,
        currency: str,
        *,
        since: datetime,
        expires_at: datetime | None = None,
        exclude: Collection[str] = (),
    ) -> str | None:
        """The GID of a credit matching an attempt made at or after `since`, or None."""
        data = self._client.execute(
            "CustomerStoreCreditTransactions",
            {
                "customerId": customer_gid(customer_id),
                "accountQuery": f"currency_code:{currency}",
                "transactionQuery": "type:credit",
                "first": RECENT_CREDITS,
            },
        )
        customer = data.get("customer")
        accounts = customer["storeCreditAccounts"]["nodes"] if customer else []
        if not accounts:
            return None
        newest_first = accounts[0]["transactions"]["nodes"]
        for transaction in reversed(newest_first):
            if _matches(transaction, amount, currency, since, expires_at, exclude):
                return str(transaction["id"])
        return None

    def shop_info(self) -> ShopInfo:
        shop = self._client.execute("ShopInfo")["shop"]
        return ShopInfo(shop["name"], shop["currencyCode"], shop["myshopifyDomain"],
                        shop.get("ianaTimezone"))

    def create_webhook_subscription(self, topic: str, callback_url: str) -> str:
        """Subscribe `callback_url` to `topic` ("orders/paid", "customer.tags_added" or the enum,
        "ORDERS_PAID"); return its GID.

        Raises `ShopifyUserErrors`.
        """
        data = self._client.execute(
            "WebhookSubscriptionCreate",
            {
                "topic": topic.upper().replace("/", "_").replace(".", "_"),
                "webhookSubscription": {"uri": callback_url, "format": "JSON"},
            },
        )
        payload = _payload(data, "webhookSubscriptionCreate")
        return _node_id(payload.get("webhookSubscription"), "webhookSubscriptionCreate")


def _payload(data: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    payload = data.get(field)
    if not isinstance(payload, Mapping):
        raise ShopifyGraphQLError(f"{field}: no payload in the answer")
    errors = [
        UserError(
            field=tuple(error["field"]) if error.get("field") else None,
            message=str(error.get("message", "")),
            code=error.get("code"),
        )
        for error in payload.get("userErrors") or []
    ]
    if errors:
        raise ShopifyUserErrors(errors)
    return payload


def _node_id(node: object, field: str) -> str:
    if not isinstance(node, Mapping) or "id" not in node:
        raise ShopifyGraphQLError(f"{field}: no id and no userErrors in the answer")
    return str(node["id"])


def _matches(
    transaction: Mapping[str, Any],
    amount: Decimal,
    currency: str,
    since: datetime,
    expires_at: datetime | None,
    exclude: Collection[str],
) -> bool:
    if transaction.get("__typename") != "StoreCreditAccountCreditTransaction":
        return False
    money = transaction["amount"]
    expiry = transaction.get("expiresAt")
    return (
        transaction["event"] == "ADJUSTMENT"
        and transaction["id"] not in exclude
        and money["currencyCode"] == currency
        and Decimal(str(money["amount"])) == amount
        and _parse(transaction["createdAt"]) >= since - CLOCK_SKEW
        and _same_moment(expiry, expires_at)
    )


def _same_moment(shopify_value: str | None, ours: datetime | None) -> bool:
    if shopify_value is None or ours is None:
        return shopify_value is None and ours is None
    # Shopify keeps whole seconds.
    return _parse(shopify_value) == ours.replace(microsecond=0)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
