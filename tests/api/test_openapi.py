from __future__ import annotations

from flask.testing import FlaskClient
from openapi_spec_validator import validate


def test_the_spec_is_valid_and_lists_the_new_apis(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    validate(spec)
    for path in ("/auth", "/auth/callback", "/api/admin/redeem-rules",
                 "/api/admin/customers/{customer_id}/adjust-points",
                 "/api/admin/imports/balances", "/api/external/redeem-points"):
        assert path in spec["paths"], path
