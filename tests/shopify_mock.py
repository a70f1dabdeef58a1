"""Shopify at the HTTP boundary: ``responses`` callbacks that check every GraphQL document
against the admin schema before answering."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import graphql
import responses

from tests.graphql_schema import schema

API_VERSION = "2026-10"


def validation_errors(document: str) -> list[str]:
    return [e.message for e in graphql.validate(schema(), graphql.parse(document))]


def token_url(domain: str) -> str:
    return f"https://{domain}/admin/oauth/access_token"


def graphql_url(domain: str) -> str:
    return f"https://{domain}/admin/api/{API_VERSION}/graphql.json"


def form(request: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.body).items()}


def token_answer(access: str = "shpat_new", refresh: str = "shprt_new",
                 status: int = 200) -> Callable[[Any], tuple[int, dict[str, str], str]]:
    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        if status != 200:
            return status, {}, json.dumps({"error": "invalid_grant"})
        return 200, {}, json.dumps({
            "access_token": access, "scope": "read_customers,write_discounts",
            "expires_in": 3600, "refresh_token": refresh,
            "refresh_token_expires_in": 7_776_000,
        })
    return answer


class GraphQLStub:
    """Answers each document by operation name; records (name, variables, token)."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, Any], str]] = []

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body)
        document = body["query"]
        errors = validation_errors(document)
        assert not errors, errors
        operation = graphql.parse(document).definitions[0]
        name = operation.name.value  # type: ignore[attr-defined]
        token = request.headers["X-Shopify-Access-Token"]
        self.calls.append((name, body.get("variables") or {}, token))
        answer = self.answers[name]
        data = answer(body.get("variables") or {}) if callable(answer) else answer
        return 200, {}, json.dumps({"data": data})

    def names(self) -> list[str]:
        return [name for name, _v, _t in self.calls]


def install_answers() -> dict[str, Any]:
    return {
        "ShopInfo": {"shop": {"name": "Good Shop", "currencyCode": "EUR",
                                 "myshopifyDomain": "good-shop.myshopify.com",
                                 "ianaTimezone": "Europe/Paris"}},
        "WebhookSubscriptionCreate": lambda v: {"webhookSubscriptionCreate": {
            "webhookSubscription": {"id": "gid://shopify/WebhookSubscription/1",
                                    "topic": v["topic"]},
            "userErrors": [],
        }},
        "MetafieldDefinitionCreate": lambda v: {"metafieldDefinitionCreate": {
            "createdDefinition": {"id": "gid://shopify/MetafieldDefinition/"
                                        + v["definition"]["key"]},
            "userErrors": [],
        }},
        "DiscountCodeDeactivate": {"discountCodeDeactivate": {
            "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/1"}, "userErrors": [],
        }},
    }


def mock_graphql(rsps: responses.RequestsMock, domain: str,
                 answers: dict[str, Any] | None = None) -> GraphQLStub:
    stub = GraphQLStub(answers or install_answers())
    rsps.add_callback(responses.POST, graphql_url(domain), callback=stub)
    return stub
