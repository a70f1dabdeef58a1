"""Fuzzing every storefront, admin and external operation from /openapi.json (schemathesis):
no input is a server error, every answer matches the spec's own description of it, what the
spec allows is accepted and what it forbids is refused.

Each operation is called with valid credentials for its surface and with a shop that has
data (a customer with points, rules of several kinds, a tier, a reward), so the fuzzer reaches
past authentication into the views. Bounded: ``EXAMPLES`` examples per operation, positive
(requests the spec allows) and negative (requests it forbids), the same draw each run;
``FUZZ_EXAMPLES=500`` in the environment runs longer, ``FUZZ_RANDOM=1`` draws afresh.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
)
from sqlalchemy.orm import Session

from shopify_loyalty.models import RedeemRuleKind, Shop
from shopify_loyalty.services.shops import api_keys
from tests import factories
from tests.api.test_admin import admin
from tests.conftest import auth

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
# The same draw every run, so the suite does not pass or fail by luck; FUZZ_RANDOM=1 draws
# afresh (with --hypothesis-seed to repeat one).
DERANDOMIZE = os.environ.get("FUZZ_RANDOM") != "1"

# Refusals of a request the spec allows that depend on the data, not on the request: the
# points a customer has, what a key was used for before, a limit already reached.
STATE_CODES = frozenset({
    "insufficient_points", "redeem_limit_reached", "idempotency_key_mismatch",
    "referral_not_allowed", "dob_already_set",
    # An endpoint URL's scheme and resolved addresses: the deployment's setting and DNS.
    "unsafe_endpoint_url",
})

# Rules no OpenAPI 3.0 schema can state, each in its operation's description: a comparison of
# two fields, a bound relative to today, the merged state of a partial change (PATCH), a
# choice between two query parameters, an id that must name an existing row of the shop (a
# tier), a name or threshold another tier has, the columns of a CSV, a tier's decimals. A 422
# ``validation_error`` naming only these fields, from the service (not from the request's
# schema), is a correct answer to a request the spec allows. Everything else the spec allows
# must be accepted.
UNSTATABLE: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/api/admin/redeem-rules"): frozenset({"maxPoints", "requiredTierId"}),
    ("PATCH", "/api/admin/redeem-rules/{rule_id}"): frozenset({
        "pointsCost", "value", "variantIds", "pointsPerUnit", "minPoints", "maxPoints",
        "limitCount", "limitInterval", "requiredTierId"}),
    ("PATCH", "/api/admin/earn-rules/{rule_id}"): frozenset({
        "points", "pointsPerUnit", "minOrder", "includeShipping", "network", "refereeValue",
        "refereeKind"}),
    ("POST", "/api/admin/vip-tiers"): frozenset({"name", "threshold", "earnMultiplier"}),
    ("PATCH", "/api/admin/vip-tiers/{tier_id}"): frozenset({"name", "threshold",
                                                            "earnMultiplier"}),
    ("POST", "/loyalty/cp/api/birthday"): frozenset({"dob"}),
    ("PATCH", "/api/admin/customers/{customer_id}"): frozenset({"dob"}),
    ("POST", "/api/admin/customers/{customer_id}/tier"): frozenset({"tierId", "until"}),
    ("GET", "/api/external/customer-loyalty"): frozenset({"customerId"}),
    ("POST", "/api/admin/imports/balances"): frozenset({"file"}),
}


def _refusal_is_about_state(case: Any, response: Any) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    code = body.get("code") if isinstance(body, dict) else None
    if code in STATE_CODES:
        return True
    errors = body.get("errors")
    if code != "validation_error" or not isinstance(errors, dict):
        return False
    if case.path == "/api/external/customer-loyalty":
        errors = errors.get("query", errors)  # its one rule is the schema's own
    elif set(errors) & {"json", "query", "headers", "files", "form"}:
        return False  # the request's own schema refused it: the spec says less than it
    return set(errors) <= UNSTATABLE.get((case.method, case.path), frozenset())


@schemathesis.check
def spec_allowed_requests_are_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's positive_data_acceptance, but a refusal because of the data (not the
    request) is no disagreement between the spec and the code."""
    if response.status_code in (400, 422) and _refusal_is_about_state(case, response):
        return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [not_a_server_error, response_schema_conformance, spec_allowed_requests_are_accepted,
          negative_data_rejection]


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
@settings(max_examples=EXAMPLES, deadline=None, derandomize=DERANDOMIZE,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_input_is_a_server_error_and_answers_match_the_spec(
    case: Any, session: Session, fuzz_shop: Shop,
) -> None:
    headers = credentials(session, fuzz_shop, case.path)
    case.call_and_validate(headers={**(case.headers or {}), **headers}, checks=CHECKS)
