"""shopify.app.toml declares what the code expects."""

from __future__ import annotations

import tomllib
from pathlib import Path

from shopify_loyalty.config import DEFAULT_SCOPES
from shopify_loyalty.shopify.install_calls import WEBHOOK_TOPICS

TOML = Path(__file__).resolve().parents[2] / "shopify.app.toml"


def test_the_app_toml_matches_the_code() -> None:
    config = tomllib.loads(TOML.read_text())
    assert config["access_scopes"]["scopes"] == DEFAULT_SCOPES
    # The Shopify customer sync writes metafields and tags on customers.
    assert "write_customers" in DEFAULT_SCOPES.split(",")
    assert config["auth"]["redirect_urls"][0].endswith("/auth/callback")
    assert config["application_url"].endswith("/app") and config["embedded"] is True
    subscriptions = config["webhooks"]["subscriptions"]
    topics = [t for s in subscriptions for t in s.get("topics", [])]
    compliance = [t for s in subscriptions for t in s.get("compliance_topics", [])]
    assert sorted(topics) == sorted(WEBHOOK_TOPICS)
    assert sorted(compliance) == ["customers/data_request", "customers/redact", "shop/redact"]
    assert {s["uri"] for s in subscriptions} == {"/webhooks"}


def test_the_app_proxy_forwards_apps_loyalty_to_proxy() -> None:
    proxy = tomllib.loads(TOML.read_text())["app_proxy"]
    assert (proxy["prefix"], proxy["subpath"]) == ("apps", "loyalty")
    assert proxy["url"].endswith("/proxy")
