"""The loyalty fields of a Shopify customer: metafields ``loyalty.*`` and the tier tag.

What is written (https://shopify.dev/docs/apps/build/custom-data/metafields/list-of-data-types):
``loyalty.points_balance`` (number_integer, the balance as a decimal string),
``loyalty.vip_tier`` (single_line_text_field, the tier's name) and ``loyalty.referral_url``
(url). A value we do not have (no tier, no referral code) is deleted rather than written
empty: ``metafieldsSet`` refuses a blank value (userError BLANK in the schema's
``MetafieldsSetUserErrorCode``), and a theme tests a missing metafield with a plain
``{% if customer.metafields.loyalty.vip_tier %}``. The tier is also a customer tag
``Loyalty tier: <name>`` (segments and Flow filter on tags); no tier, no tier tag.

``metafieldsSet`` takes at most 25 metafields a call and is atomic (the vendored Admin
schema, ``Mutation.metafieldsSet``): three per customer, so eight customers a call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shopify_loyalty.shopify.admin import AdminClient
from shopify_loyalty.shopify.discounts import customer_gid
from shopify_loyalty.shopify.errors import ShopifyGraphQLError, ShopifyUserErrors, UserError

NAMESPACE = "loyalty"
POINTS_BALANCE = "points_balance"
VIP_TIER = "vip_tier"
REFERRAL_URL = "referral_url"
# key → (metafield type, name and description of its definition)
FIELDS: dict[str, tuple[str, str, str]] = {
    POINTS_BALANCE: ("number_integer", "Loyalty points",
                     "The customer's spendable loyalty points."),
    VIP_TIER: ("single_line_text_field", "Loyalty VIP tier",
               "The name of the customer's VIP tier; absent without one."),
    REFERRAL_URL: ("url", "Loyalty referral link", "The link the customer shares to refer."),
}
METAFIELDS_PER_CALL = 25
CUSTOMERS_PER_CALL = METAFIELDS_PER_CALL // len(FIELDS)
TIER_TAG_PREFIX = "Loyalty tier: "


@dataclass(frozen=True, slots=True)
class LoyaltyFields:
    """What one customer's loyalty fields in Shopify should say."""

    shopify_customer_id: int
    points: int
    tier: str | None
    referral_url: str | None

    def values(self) -> dict[str, str | None]:
        return {POINTS_BALANCE: str(self.points), VIP_TIER: self.tier or None,
                REFERRAL_URL: self.referral_url or None}


def tier_tag(tier: str | None) -> str | None:
    # A comma would split the tag in two (tagsAdd also takes "a, b" as two tags).
    return TIER_TAG_PREFIX + tier.replace(",", " ").strip() if tier else None


def metafield_inputs(customers: Iterable[LoyaltyFields]) -> list[dict[str, str]]:
    """``MetafieldsSetInput``s of the values the customers have."""
    return [
        {"ownerId": customer_gid(c.shopify_customer_id), "namespace": NAMESPACE, "key": key,
         "type": FIELDS[key][0], "value": value}
        for c in customers for key, value in c.values().items() if value is not None
    ]


def absent_identifiers(customers: Iterable[LoyaltyFields],
                       keys: Iterable[str] = FIELDS) -> list[dict[str, str]]:
    """``MetafieldIdentifierInput``s of the values the customers lack, among ``keys``."""
    wanted = set(keys)
    return [
        {"ownerId": customer_gid(c.shopify_customer_id), "namespace": NAMESPACE, "key": key}
        for c in customers for key, value in c.values().items()
        if value is None and key in wanted
    ]


def definition_input(key: str) -> dict[str, Any]:
    """The ``MetafieldDefinitionInput`` of one field: on customers, readable by the
    storefront (Liquid and the Storefront API) and the customer's account pages. ``admin``
    access may be set only for app-owned ($app) namespaces (userError
    ADMIN_ACCESS_INPUT_NOT_ALLOWED); ``loyalty`` is the merchant's, as the contract says."""
    kind, name, description = FIELDS[key]
    return {"namespace": NAMESPACE, "key": key, "type": kind, "name": name,
            "description": description, "ownerType": "CUSTOMER",
            "access": {"storefront": "PUBLIC_READ", "customerAccount": "READ"}}


class CustomerFieldsAdmin:
    """The sync's Shopify calls for one shop. Every method raises the client's errors and
    ``ShopifyUserErrors``."""

    def __init__(self, client: AdminClient) -> None:
        self._client = client

    def set_metafields(self, inputs: Sequence[Mapping[str, str]]) -> None:
        if len(inputs) > METAFIELDS_PER_CALL:
            raise ValueError(f"at most {METAFIELDS_PER_CALL} metafields a call")
        data = self._client.execute("MetafieldsSet", {"metafields": list(inputs)})
        _check(data, "metafieldsSet")

    def delete_metafields(self, identifiers: Sequence[Mapping[str, str]]) -> None:
        """Deleting one that does not exist is no error (its entry is null)."""
        data = self._client.execute("MetafieldsDelete", {"metafields": list(identifiers)})
        _check(data, "metafieldsDelete")

    def add_tags(self, shopify_customer_id: int, tags: Sequence[str]) -> None:
        data = self._client.execute("TagsAdd", {"id": customer_gid(shopify_customer_id),
                                                "tags": list(tags)})
        _check(data, "tagsAdd")

    def remove_tags(self, shopify_customer_id: int, tags: Sequence[str]) -> None:
        """Removing a tag the customer does not have is no error."""
        data = self._client.execute("TagsRemove", {"id": customer_gid(shopify_customer_id),
                                                   "tags": list(tags)})
        _check(data, "tagsRemove")

    def create_definition(self, key: str) -> None:
        data = self._client.execute("MetafieldDefinitionCreate",
                                    {"definition": definition_input(key)})
        _check(data, "metafieldDefinitionCreate")


def _check(data: Mapping[str, Any], field: str) -> None:
    payload = data.get(field)
    if not isinstance(payload, Mapping):
        raise ShopifyGraphQLError(f"{field}: no payload in the answer")
    errors = [
        UserError(field=tuple(e["field"]) if e.get("field") else None,
                  message=str(e.get("message", "")), code=e.get("code"))
        for e in payload.get("userErrors") or []
    ]
    if errors:
        raise ShopifyUserErrors(errors)
