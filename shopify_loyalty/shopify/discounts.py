"""Pure builders: a reward's `DiscountCodeSpec` to the variables of a discount mutation.

Percentages go to Shopify as a fraction: `DiscountCustomerGetsValueInput.percentage` is "between
0.00 - 1.00" in the schema, so 10 % is sent as 0.1.

Free product: exactly one unit of the chosen variant. A basic code at 100 % would make every
unit of that variant in the cart free, so it is out. Of the two shapes that give one unit:

* a buy-X-get-Y code (`discountCodeBxgyCreate`, "get" side one unit at 100 %,
  `usesPerOrderLimit: 1`) needs a "buy" side that any order meets, and the schema forbids that:
  `DiscountItemsInput.all` is "Not supported for Buy X get Y discounts", so the prerequisite
  would have to name products or collections, and naming the variant itself turns the reward
  into "buy one, get one";
* an amount-off code (`discountCodeBasicCreate`) limited to that variant
  (`items.products.productVariantsToAdd`) worth one unit's current price with
  `appliesOnEachItem: false`: the amount is split across the entitled items, so however many
  units are in the cart the customer saves at most one unit's price, and Shopify never
  discounts more than the entitled items cost
  (https://shopify.dev/docs/api/admin-graphql/latest/input-objects/DiscountAmountInput).

We use the amount-off code. The worker reads the unit price from Shopify
(`ShopifyAdmin.variant_price`) when it fulfils the reward; a later price rise is not followed,
which is the price the customer saw when redeeming.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

COMBINES_WITH = {
    "order": "orderDiscounts",
    "product": "productDiscounts",
    "shipping": "shippingDiscounts",
}


class DiscountKind(StrEnum):
    FIXED_AMOUNT = "FIXED_AMOUNT"
    PERCENTAGE = "PERCENTAGE"
    FREE_SHIPPING = "FREE_SHIPPING"
    FREE_PRODUCT = "FREE_PRODUCT"
    VARIABLE_AMOUNT = "VARIABLE_AMOUNT"


@dataclass(frozen=True, slots=True)
class DiscountCodeSpec:
    """What one reward's discount code must be. Ids are Shopify's numeric ids.

    ``customer_id`` None: any buyer may use the code (once: a referred friend's code, made
    before the friend is a customer).
    """

    code: str
    title: str
    customer_id: int | None
    kind: DiscountKind
    starts_at: datetime
    value: Decimal | None = None
    ends_at: datetime | None = None
    min_subtotal: Decimal | None = None
    product_ids: tuple[int, ...] = ()
    collection_ids: tuple[int, ...] = ()
    variant_id: int | None = None
    unit_price: Decimal | None = None
    max_shipping: Decimal | None = None
    combines_with: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", DiscountKind(self.kind))
        for moment in (self.starts_at, self.ends_at):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("starts_at and ends_at must be timezone-aware")
        if unknown := self.combines_with - COMBINES_WITH.keys():
            raise ValueError(f"unknown combines_with classes: {sorted(unknown)}")
        if self.product_ids and self.collection_ids:
            # Shopify entitles either products or collections, not both on one discount.
            raise ValueError("limit a discount to products or to collections, not both")
        needs_value = self.kind in (
            DiscountKind.FIXED_AMOUNT,
            DiscountKind.PERCENTAGE,
            DiscountKind.VARIABLE_AMOUNT,
        )
        if needs_value and (self.value is None or self.value <= 0):
            raise ValueError(f"{self.kind} needs a positive value")
        if self.kind is DiscountKind.PERCENTAGE and self.value is not None and self.value > 100:
            raise ValueError("a percentage is at most 100")
        if self.kind is DiscountKind.FREE_PRODUCT and (
            self.variant_id is None or self.unit_price is None or self.unit_price <= 0
        ):
            raise ValueError("FREE_PRODUCT needs variant_id and a positive unit_price")


@dataclass(frozen=True, slots=True)
class DiscountMutation:
    """A ready call: document name, payload field in `data`, and variables."""

    document: str
    payload_field: str
    variables: dict[str, Any]


def customer_gid(customer_id: int) -> str:
    return f"gid://shopify/Customer/{customer_id}"


def discount_code_mutation(spec: DiscountCodeSpec) -> DiscountMutation:
    """The create mutation for `spec`: free shipping or a basic (amount/percentage) code."""
    if spec.kind is DiscountKind.FREE_SHIPPING:
        return DiscountMutation(
            "DiscountCodeFreeShippingCreate",
            "discountCodeFreeShippingCreate",
            {"freeShippingCodeDiscount": free_shipping_code_input(spec)},
        )
    return DiscountMutation(
        "DiscountCodeBasicCreate",
        "discountCodeBasicCreate",
        {"basicCodeDiscount": basic_code_input(spec)},
    )


def basic_code_input(spec: DiscountCodeSpec) -> dict[str, Any]:
    """`DiscountCodeBasicInput` for FIXED_AMOUNT, VARIABLE_AMOUNT, PERCENTAGE, FREE_PRODUCT."""
    if spec.kind is DiscountKind.FREE_SHIPPING:
        raise ValueError("free shipping is not a basic discount")
    if spec.kind is DiscountKind.FREE_PRODUCT:
        assert spec.variant_id is not None and spec.unit_price is not None
        items: dict[str, Any] = {
            "products": {"productVariantsToAdd": [_gid("ProductVariant", spec.variant_id)]}
        }
        value: dict[str, Any] = {
            "discountAmount": {"amount": _money(spec.unit_price), "appliesOnEachItem": False}
        }
    else:
        assert spec.value is not None
        items = _items(spec)
        if spec.kind is DiscountKind.PERCENTAGE:
            value = {"percentage": float(spec.value / 100)}
        else:
            value = {"discountAmount": {"amount": _money(spec.value), "appliesOnEachItem": False}}
    return {**_common(spec), "customerGets": {"items": items, "value": value}}


def free_shipping_code_input(spec: DiscountCodeSpec) -> dict[str, Any]:
    """`DiscountCodeFreeShippingInput` for FREE_SHIPPING, to every destination."""
    variables: dict[str, Any] = {**_common(spec), "destination": {"all": True}}
    if spec.max_shipping is not None:
        variables["maximumShippingPrice"] = _money(spec.max_shipping)
    return variables


def _common(spec: DiscountCodeSpec) -> dict[str, Any]:
    common: dict[str, Any] = {
        "code": spec.code,
        "title": spec.title,
        "startsAt": spec.starts_at.isoformat(),
        "endsAt": spec.ends_at.isoformat() if spec.ends_at else None,
        "usageLimit": 1,
        "appliesOncePerCustomer": True,
        "context": {"all": "ALL"} if spec.customer_id is None
        else {"customers": {"add": [customer_gid(spec.customer_id)]}},
        "combinesWith": {name: key in spec.combines_with for key, name in COMBINES_WITH.items()},
    }
    if spec.min_subtotal is not None:
        common["minimumRequirement"] = {
            "subtotal": {"greaterThanOrEqualToSubtotal": _money(spec.min_subtotal)}
        }
    return common


def _items(spec: DiscountCodeSpec) -> dict[str, Any]:
    if spec.product_ids:
        return {"products": {"productsToAdd": [_gid("Product", i) for i in spec.product_ids]}}
    if spec.collection_ids:
        return {"collections": {"add": [_gid("Collection", i) for i in spec.collection_ids]}}
    return {"all": True}


def _gid(kind: str, numeric_id: int) -> str:
    return f"gid://shopify/{kind}/{numeric_id}"


def _money(amount: Decimal) -> str:
    # GraphQL `Decimal` travels as a string so no float rounding touches money.
    return str(amount)
