from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses

from shopify_loyalty.shopify.admin import AdminClient
from shopify_loyalty.shopify.discounts import DiscountCodeSpec, DiscountKind
from shopify_loyalty.shopify.errors import (
    ShopifyGraphQLError,
    ShopifyTransientError,
    ShopifyUserErrors,
)
from shopify_loyalty.shopify.shop_admin import ShopifyAdmin, ShopInfo
from tests.graphql_schema import assert_bodies_valid

SHOP = "demo.myshopify.com"
URL = f"https://{SHOP}/admin/api/2026-10/graphql.json"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
COST = {
    "requestedQueryCost": 10,
    "actualQueryCost": 10,
    "throttleStatus": {
        "maximumAvailable": 2000.0,
        "currentlyAvailable": 1990.0,
        "restoreRate": 100.0,
    },
}


def ok(data: dict[str, Any]) -> dict[str, Any]:
    return {"data": data, "extensions": {"cost": COST}}


@pytest.fixture
def shopify() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock
        assert_bodies_valid(call.request.body for call in mock.calls)


@pytest.fixture
def admin() -> ShopifyAdmin:
    return ShopifyAdmin(AdminClient(SHOP, "shpat_x", sleep=lambda _: None))


def sent_variables(shopify: responses.RequestsMock, index: int = -1) -> dict[str, Any]:
    body = shopify.calls[index].request.body
    assert body is not None
    variables: dict[str, Any] = json.loads(body)["variables"]
    return variables


SPEC = DiscountCodeSpec(
    code="LOY-7QX2M9",
    title="5 EUR off",
    customer_id=7001,
    kind=DiscountKind.FIXED_AMOUNT,
    value=Decimal("5.00"),
    starts_at=NOW,
    ends_at=NOW + timedelta(days=30),
)


def test_create_discount_code_returns_the_node_id(
    shopify: responses.RequestsMock, admin: ShopifyAdmin
) -> None:
    shopify.post(
        URL,
        json=ok(
            {
                "discountCodeBasicCreate": {
                    "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/1057371"},
                    "userErrors": [],
                }
            }
        ),
    )
    assert admin.create_discount_code(SPEC) == "gid://shopify/DiscountCodeNode/1057371"
    assert sent_variables(shopify)["basicCodeDiscount"]["code"] == "LOY-7QX2M9"


def test_free_shipping_uses_its_own_mutation(
    shopify: responses.RequestsMock, admin: ShopifyAdmin
) -> None:
    shopify.post(
        URL,
        json=ok(
            {
                "discountCodeFreeShippingCreate": {
                    "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/9"},
                    "userErrors": [],
                }
            }
        ),
    )
    spec = DiscountCodeSpec(
        code="LOY-SHIP",
        title="Free shipping",
        customer_id=7001,
        kind=DiscountKind.FREE_SHIPPING,
        starts_at=NOW,
    )
    assert admin.create_discount_code(spec) == "gid://shopify/DiscountCodeNode/9"
    assert "freeShippingCodeDiscount" in sent_variables(shopify)


def test_taken_code_raises_user_errors_with_the_code(
    shopify: responses.RequestsMock, admin: ShopifyAdmin
) -> None:
    shopify.post(
        URL,
        json=ok(
            {
                "discountCodeBasicCreate": {
                    "codeDiscountNode": None,
                    "userErrors": [
                        {
                            "field": ["basicCodeDiscount", "code"],
                            "message": "Code must be unique. Please try a different code.",
                            "code": "TAKEN",
                        }
                    ],
                }
            }
        ),
    )
    with pytest.raises(ShopifyUserErrors) as raised:
        admin.create_discount_code(SPEC)
    assert raised.value.codes == {"TAKEN"}
    assert raised.value.errors[0].field == ("basicCodeDiscount", "code")
    assert len(shopify.calls) == 1


def test_find_discount_by_code(shopify: responses.RequestsMock, admin: ShopifyAdmin) -> None:
    shopify.post(
        URL, json=ok({"codeDiscountNodeByCode": {"id": "gid://shopify/DiscountCodeNode/5"}})
    )
    shopify.post(URL, json=ok({"codeDiscountNodeByCode": None}))
    assert admin.find_discount_by_code("loy-7qx2m9") == "gid://shopify/DiscountCodeNode/5"
    assert admin.find_discount_by_code("LOY-NONE") is None


def test_deactivate_discount(shopify: responses.RequestsMock, admin: ShopifyAdmin) -> None:
    gid = "gid://shopify/DiscountCodeNode/5"
    shopify.post(
        URL,
        json=ok({"discountCodeDeactivate": {"codeDiscountNode": {"id": gid}, "userErrors": []}}),
    )
    admin.deactivate_discount(gid)
    assert sent_variables(shopify) == {"id": gid}


def test_variant_price(shopify: responses.RequestsMock, admin: ShopifyAdmin) -> None:
    shopify.post(
        URL,
        json=ok({"productVariant": {"id": "gid://shopify/ProductVariant/9001", "price": "24.90"}}),
    )
    shopify.post(URL, json=ok({"productVariant": None}))
    assert admin.variant_price(9001) == Decimal("24.90")
    with pytest.raises(ShopifyGraphQLError) as raised:
        admin.variant_price(404)
    assert raised.value.codes == {"NOT_FOUND"}


def test_credit_store_credit(shopify: responses.RequestsMock, admin: ShopifyAdmin) -> None:
    shopify.post(
        URL,
        json=ok(
            {
                "storeCreditAccountCredit": {
                    "storeCreditAccountTransaction": {
                        "id": "gid://shopify/StoreCreditAccountCreditTransaction/77",
                        "createdAt": "2026-03-01T12:00:01Z",
                        "expiresAt": None,
                        "amount": {"amount": "10.0", "currencyCode": "EUR"},
                    },
                    "userErrors": [],
                }
            }
        ),
    )
    transaction = admin.credit_store_credit(7001, Decimal("10.00"), "EUR", None)
    assert transaction == "gid://shopify/StoreCreditAccountCreditTransaction/77"
    assert sent_variables(shopify) == {
        "id": "gid://shopify/Customer/7001",
        "creditInput": {
            "creditAmount": {"amount": "10.00", "currencyCode": "EUR"},
            "expiresAt": None,
        },
    }


def test_credit_user_errors(shopify: responses.RequestsMock, admin: ShopifyAdmin) -> None:
    shopify.post(
        URL,
        json=ok(
            {
                "storeCreditAccountCredit": {
                    "storeCreditAccountTransaction": None,
                    "userErrors": [
                        {
                            "field": ["creditInput", "creditAmount", "currencyCode"],
                            "message": "Currency mismatch",
                            "code": "MISMATCHING_CURRENCY",
                        }
                    ],
                }
            }
        ),
    )
    with pytest.raises(ShopifyUserErrors) as raised:
        admin.credit_store_credit(7001, Decimal("10"), "USD", NOW + timedelta(days=90))
    assert raised.value.codes == {"MISMATCHING_CURRENCY"}


def test_lost_credit_answer_is_not_retried(
    shopify: responses.RequestsMock, admin: ShopifyAdmin
) -> None:
    shopify.post(URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(ShopifyTransientError):
        admin.credit_store_credit(7001, Decimal("10"), "EUR", None)
    assert len(shopify.calls) == 1


def credit(
    gid: int, amount: str, created: str, *, expires: str | None = None, event: str = "ADJUSTMENT"
) -> dict[str, Any]:
    return {
        "__typename": "StoreCreditAccountCreditTransaction",
        "id": f"gid://shopify/StoreCreditAccountCreditTransaction/{gid}",
        "createdAt": created,
        "expiresAt": expires,
        "event": event,
        "amount": {"amount": amount, "currencyCode": "EUR"},
    }


def account(*transactions: dict[str, Any]) -> dict[str, Any]:
    return ok(
        {
            "customer": {
                "storeCreditAccounts": {
                    "nodes": [
                        {
                            "id": "gid://shopify/StoreCreditAccount/3",
                            "transactions": {"nodes": list(transactions)},
                        }
                    ]
                }
            }
        }
    )


def test_find_store_credit_returns_the_oldest_unclaimed_match(
    shopify: responses.RequestsMock, admin: ShopifyAdmin
) -> None:
    shopify.post(
        URL,
        json=account(
            credit(5, "10.0", "2026-03-01T12:00:09Z"),
            credit(4, "10.0", "2026-03-01T12:00:05Z"),
            credit(3, "10.0", "2026-03-01T12:00:04Z", event="ORDER_REFUND"),
            credit(2, "25.0", "2026-03-01T12:00:03Z"),
            credit(1, "10.0", "2026-02-20T09:00:00Z"),
        ),
    )
    found = admin.find_store_credit(
        7001,
        Decimal("10.00"),
        "EUR",
        since=NOW,
        exclude={"gid://shopify/StoreCreditAccountCreditTransaction/4"},
    )
    assert found == "gid://shopify/StoreCreditAccountCreditTransaction/5"
    assert sent_variables(shopify)["accountQuery"] == "currency_code:EUR"


def test_find_store_credit_matches_the_expiry(
    shopify: responses.RequestsMock, admin: ShopifyAdmin
) -> None:
    expires = NOW + timedelta(days=90, microseconds=5)
    shopify.post(
        URL,
        json=account(
            credit(8, "10.0", "2026-03-01T12:00:05Z"),
            credit(9, "10.0", "2026-03-01T12:00:06Z", expires="2026-05-30T12:00:00Z"),
        ),
    )
    found = admin.find_store_credit(7001, Decimal("10"), "EUR", since=NOW, expires_at=expires)
    assert found == "gid://shopify/StoreCreditAccountCreditTransaction/9"


@pytest.mark.parametrize(
    "answer",
    [
        account(),
        account(credit(1, "10.0", "2026-02-20T09:00:00Z")),
        ok({"customer": {"storeCreditAccounts": {"nodes": []}}}),
        ok({"customer": None}),
    ],
)
def test_find_store_credit_none(
    shopify: responses.RequestsMock, admin: ShopifyAdmin, answer: dict[str, Any]
) -> None:
    shopify.post(URL, json=answer)
    assert admin.find_store_credit(7001, Decimal("10"), "EUR", since=NOW) is None


def test_shop_info(shopify: responses.RequestsMock, admin: ShopifyAdmin) -> None:
    shopify.post(
        URL, json=ok({"shop": {"name": "Demo", "currencyCode": "EUR", "myshopifyDomain": SHOP}})
    )
    assert admin.shop_info() == ShopInfo("Demo", "EUR", SHOP)


def test_create_webhook_subscription(shopify: responses.RequestsMock, admin: ShopifyAdmin) -> None:
    shopify.post(
        URL,
        json=ok(
            {
                "webhookSubscriptionCreate": {
                    "webhookSubscription": {"id": "gid://shopify/WebhookSubscription/12"},
                    "userErrors": [],
                }
            }
        ),
    )
    gid = admin.create_webhook_subscription("orders/paid", "https://app.example/webhooks")
    assert gid == "gid://shopify/WebhookSubscription/12"
    assert sent_variables(shopify)["topic"] == "ORDERS_PAID"


def test_webhook_user_errors_have_no_code(
    shopify: responses.RequestsMock, admin: ShopifyAdmin
) -> None:
    shopify.post(
        URL,
        json=ok(
            {
                "webhookSubscriptionCreate": {
                    "webhookSubscription": None,
                    "userErrors": [
                        {
                            "field": ["webhookSubscription", "callbackUrl"],
                            "message": "Address for this topic has already been taken",
                        }
                    ],
                }
            }
        ),
    )
    with pytest.raises(ShopifyUserErrors) as raised:
        admin.create_webhook_subscription("APP_UNINSTALLED", "https://app.example/webhooks")
    assert raised.value.codes == frozenset()
