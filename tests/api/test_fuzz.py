"""Fuzzing every storefront, admin and external operation from /openapi.json (schemathesis):
no input is a server error, and every answer matches the spec's own description of it.

Each operation is called with valid credentials for its surface and with a shop that has
data (a customer with points, rules of several kinds, a reward), so the fuzzer reaches past
authentication into the views. Bounded: a few dozen examples per operation.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy.orm import Session

from shopify_loyalty.models import RedeemRuleKind, Shop
from shopify_loyalty.services.shops import api_keys
from tests import factories
from tests.api.test_admin import admin
from tests.conftest import auth

EXAMPLES = 25


@pytest.fixture
def api_schema(app: Flask) -> Any:
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def fuzz_shop(session: Session) -> Shop:
    shop = factories.shop(session, access_token_enc="not-used-here", settings={})
    factories.customer(session, shop, 1001, points=5000, email="ann@example.com")
    for kind in (RedeemRuleKind.FIXED_AMOUNT, RedeemRuleKind.STORE_CREDIT,
                 RedeemRuleKind.VARIABLE_AMOUNT):
        factories.rule(session, shop, kind)
    session.commit()
    return shop


def credentials(session: Session, shop: Shop, path: str) -> dict[str, str]:
    """Valid credentials for the operation's surface. A fresh API key each time: the fuzzer
    revokes keys through the admin API as it goes."""
    if path.startswith("/loyalty/cp/api/"):
        return auth(shop.domain, 1001)
    if path.startswith("/api/admin/"):
        return admin(shop.domain)
    _row, key = api_keys.create_key(session, shop, "fuzz")
    session.commit()
    return {"X-API-Key": key}


@schema.include(path_regex="^/(loyalty/cp/api|api/admin|api/external)/").parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_input_is_a_server_error_and_answers_match_the_spec(
    case: Any, session: Session, fuzz_shop: Shop,
) -> None:
    headers = credentials(session, fuzz_shop, case.path)
    case.call_and_validate(headers={**(case.headers or {}), **headers},
                           checks=[not_a_server_error, response_schema_conformance])
