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


def test_the_admin_pages_read_what_they_need_from_the_spec(client: FlaskClient) -> None:
    schemas = client.get("/openapi.json").json["components"]["schemas"]
    settings = schemas["Settings"]["properties"]
    # Every choice setting names its choices for the Settings form, in the enum's order.
    for name, prop in settings.items():
        if prop["x-setting-kind"] == "choice":
            assert list(prop["x-choice-labels"]) == prop["enum"], name
    assert settings["pointsExpiry"]["x-choice-labels"]["INACTIVITY"] == "After inactivity"
    # Each setting names the section of the Settings page it shows in.
    assert all(prop["x-setting-group"] for prop in settings.values())
    assert settings["refundExpiredRewards"]["x-setting-group"] == "Expiry and reminders"
    assert settings["expiryReminderDays"]["items"] == {"type": "integer", "minimum": 1,
                                                      "maximum": 365}
    listed = schemas["VipTierListed"]["properties"]
    assert listed["members"]["type"] == "integer"
    assert "tierProgress" in schemas["CustomerDetail"]["properties"]
