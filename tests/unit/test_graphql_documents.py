from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import graphql
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopify_loyalty.shopify import documents
from shopify_loyalty.shopify.discounts import (
    DiscountCodeSpec,
    DiscountKind,
    basic_code_input,
    discount_code_mutation,
)
from tests.graphql_schema import assert_valid, schema

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def spec(**changes: object) -> DiscountCodeSpec:
    fields: dict[str, object] = {
        "code": "LOY-7QX2M9",
        "title": "Loyalty reward",
        "customer_id": 7001,
        "kind": DiscountKind.FIXED_AMOUNT,
        "value": Decimal("5.00"),
        "starts_at": NOW,
        "ends_at": NOW + timedelta(days=30),
    }
    fields.update(changes)
    return DiscountCodeSpec(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(documents.all_documents()))
def test_every_document_validates_and_is_one_named_operation(name: str) -> None:
    text = documents.load(name)
    errors = graphql.validate(schema(), graphql.parse(text))
    assert not errors, [e.message for e in errors]
    (operation,) = graphql.parse(text).definitions
    assert isinstance(operation, graphql.OperationDefinitionNode)
    assert operation.name is not None and operation.name.value == name


def test_documents_ask_for_user_error_codes_where_the_payload_has_them() -> None:
    for name in (
        "DiscountCodeBasicCreate",
        "DiscountCodeFreeShippingCreate",
        "DiscountCodeDeactivate",
        "StoreCreditAccountCredit",
    ):
        assert "userErrors {\n      field\n      message\n      code" in documents.load(name)


def test_unknown_document_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="Nope"):
        documents.load("Nope")


KIND_SPECS = {
    DiscountKind.FIXED_AMOUNT: spec(),
    DiscountKind.VARIABLE_AMOUNT: spec(kind=DiscountKind.VARIABLE_AMOUNT, value=Decimal("3.5")),
    DiscountKind.PERCENTAGE: spec(
        kind=DiscountKind.PERCENTAGE, value=Decimal("10"), collection_ids=(55, 56)
    ),
    DiscountKind.FREE_SHIPPING: spec(
        kind=DiscountKind.FREE_SHIPPING, value=None, max_shipping=Decimal("20.00")
    ),
    DiscountKind.FREE_PRODUCT: spec(
        kind=DiscountKind.FREE_PRODUCT, value=None, variant_id=9001, unit_price=Decimal("24.90")
    ),
}


@pytest.mark.parametrize("kind", list(DiscountKind))
def test_builder_variables_coerce_to_the_mutation(kind: DiscountKind) -> None:
    mutation = discount_code_mutation(KIND_SPECS[kind])
    assert_valid(documents.load(mutation.document), mutation.variables)
    (discount_input,) = mutation.variables.values()
    assert "customerSelection" not in discount_input
    assert discount_input["context"] == {"customers": {"add": ["gid://shopify/Customer/7001"]}}
    assert discount_input["usageLimit"] == 1
    assert discount_input["appliesOncePerCustomer"] is True
    assert discount_input["startsAt"] == "2026-03-01T12:00:00+00:00"
    assert discount_input["endsAt"] == "2026-03-31T12:00:00+00:00"


def test_fixed_amount_is_split_over_the_order_not_per_item() -> None:
    gets = basic_code_input(spec(min_subtotal=Decimal("50"), product_ids=(1, 2)))["customerGets"]
    assert gets == {
        "items": {
            "products": {"productsToAdd": ["gid://shopify/Product/1", "gid://shopify/Product/2"]}
        },
        "value": {"discountAmount": {"amount": "5.00", "appliesOnEachItem": False}},
    }


def test_percentage_goes_to_shopify_as_a_fraction() -> None:
    built = basic_code_input(KIND_SPECS[DiscountKind.PERCENTAGE])
    assert built["customerGets"]["value"] == {"percentage": 0.1}
    assert built["customerGets"]["items"] == {
        "collections": {"add": ["gid://shopify/Collection/55", "gid://shopify/Collection/56"]}
    }


def test_free_product_is_one_unit_of_the_variant_at_its_price() -> None:
    built = basic_code_input(KIND_SPECS[DiscountKind.FREE_PRODUCT])
    assert built["customerGets"] == {
        "items": {"products": {"productVariantsToAdd": ["gid://shopify/ProductVariant/9001"]}},
        "value": {"discountAmount": {"amount": "24.90", "appliesOnEachItem": False}},
    }


def test_free_shipping_limits_and_combinations() -> None:
    mutation = discount_code_mutation(
        spec(
            kind=DiscountKind.FREE_SHIPPING,
            value=None,
            max_shipping=Decimal("20.00"),
            min_subtotal=Decimal("30"),
            combines_with=frozenset({"order", "product"}),
        )
    )
    shipping = mutation.variables["freeShippingCodeDiscount"]
    assert shipping["maximumShippingPrice"] == "20.00"
    assert shipping["destination"] == {"all": True}
    assert shipping["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": "30"}}
    assert shipping["combinesWith"] == {
        "orderDiscounts": True,
        "productDiscounts": True,
        "shippingDiscounts": False,
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"starts_at": datetime(2026, 1, 1)},
        {"combines_with": frozenset({"everything"})},
        {"product_ids": (1,), "collection_ids": (2,)},
        {"value": None},
        {"kind": DiscountKind.PERCENTAGE, "value": Decimal("150")},
        {"kind": DiscountKind.FREE_PRODUCT, "value": None, "variant_id": 1},
    ],
)
def test_spec_rejects_what_shopify_would(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        spec(**changes)


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(
        [DiscountKind.FIXED_AMOUNT, DiscountKind.PERCENTAGE, DiscountKind.VARIABLE_AMOUNT]
    ),
    value=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100"), places=2),
    min_subtotal=st.none()
    | st.decimals(min_value=Decimal("0"), max_value=Decimal("1e6"), places=2),
    limits=st.sampled_from(["none", "products", "collections"]),
    ends=st.none() | st.integers(min_value=1, max_value=3650),
    combines=st.frozensets(st.sampled_from(["order", "product", "shipping"])),
)
def test_any_valid_spec_coerces(
    kind: DiscountKind,
    value: Decimal,
    min_subtotal: Decimal | None,
    limits: str,
    ends: int | None,
    combines: frozenset[str],
) -> None:
    mutation = discount_code_mutation(
        spec(
            kind=kind,
            value=value,
            min_subtotal=min_subtotal,
            product_ids=(11, 12) if limits == "products" else (),
            collection_ids=(21,) if limits == "collections" else (),
            ends_at=None if ends is None else NOW + timedelta(days=ends),
            combines_with=combines,
        )
    )
    assert_valid(documents.load(mutation.document), mutation.variables)
    if kind is DiscountKind.PERCENTAGE:
        percentage = mutation.variables["basicCodeDiscount"]["customerGets"]["value"]["percentage"]
        assert 0 < percentage <= 1


def test_a_code_without_a_customer_is_open_to_all_buyers() -> None:
    mutation = discount_code_mutation(spec(customer_id=None))
    assert mutation.variables["basicCodeDiscount"]["context"] == {"all": "ALL"}
    assert_valid(documents.load(mutation.document), mutation.variables)


def test_the_customer_sync_documents_take_what_the_adapter_sends() -> None:
    from shopify_loyalty.shopify import customer_fields as cf

    customers = [cf.LoyaltyFields(7001, 1200, "Gold", "https://app.test/r/s/ABCDEFGH"),
                 cf.LoyaltyFields(7002, 0, None, None)]
    inputs = cf.metafield_inputs(customers)
    assert len(inputs) == 4 and all(i["value"] for i in inputs)  # no blank value is sent
    assert_valid(documents.load("MetafieldsSet"), {"metafields": inputs})
    assert_valid(documents.load("MetafieldsDelete"),
                 {"metafields": cf.absent_identifiers(customers)})
    assert_valid(documents.load("TagsAdd"), {"id": "gid://shopify/Customer/7001",
                                             "tags": [cf.tier_tag("Gold")]})
    assert_valid(documents.load("TagsRemove"), {"id": "gid://shopify/Customer/7001",
                                                "tags": ["Loyalty tier: Silver"]})
    for key in cf.FIELDS:
        assert_valid(documents.load("MetafieldDefinitionCreate"),
                     {"definition": cf.definition_input(key)})
    # Three metafields a customer, at most 25 a call.
    assert cf.CUSTOMERS_PER_CALL == 8
    assert cf.tier_tag("Gold, Plus") == "Loyalty tier: Gold  Plus" and cf.tier_tag(None) is None
