"""Every GraphQL document the app sends validates against Shopify's admin schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopify_loyalty.shopify.install_calls import DOCUMENTS
from tests.shopify_mock import validation_errors


@pytest.mark.parametrize("path", sorted(DOCUMENTS.glob("*.graphql")), ids=lambda p: p.name)
def test_document_is_valid(path: Path) -> None:
    assert validation_errors(path.read_text()) == []


def test_the_install_documents_exist() -> None:
    names = {p.stem for p in DOCUMENTS.glob("*.graphql")}
    assert {"install_shop", "install_webhook_subscription_create",
            "discount_code_deactivate"} <= names
