"""The published OpenAPI document, and the health check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from shopify_loyalty.config import Settings


def test_openapi_is_valid_and_describes_the_storefront(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json
    validate(spec)
    paths = spec["paths"]
    for path in ("customer-loyalty", "point-redeem-rules", "transactions", "rewards",
                 "redeem-points"):
        assert f"/loyalty/cp/api/{path}" in paths
    redeem = paths["/loyalty/cp/api/redeem-points"]["post"]
    body = redeem["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/RedeemPoints")
    schema = spec["components"]["schemas"]["RedeemPoints"]
    assert schema["required"] == ["redeemRuleId"]
    assert {"401", "403", "404", "409", "422"} <= set(redeem["responses"])
    loyalty = spec["components"]["schemas"]["LoyaltyInfo"]["properties"]
    assert {"availablePoints", "rewards", "storeCreditBalance"} <= set(loyalty)


def test_healthz_is_200_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok"}}


def test_healthz_checks_redis_when_configured(
    settings: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    up = make_app(replace(settings, redis_url="redis://127.0.0.1:6379/15"))
    assert up.test_client().get("/healthz").json["checks"] == {"database": "ok", "redis": "ok"}


def test_healthz_checks_a_rabbitmq_broker_when_configured(
    settings: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    up = make_app(replace(settings, celery_broker_url="amqp://guest:guest@127.0.0.1:5672//"))
    assert up.test_client().get("/healthz").json["checks"] == {"database": "ok", "broker": "ok"}


def test_healthz_is_503_when_a_dependency_is_down(
    settings: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    nothing_listens = "127.0.0.1:1"
    apps: list[Flask] = [
        make_app(replace(settings, redis_url=f"redis://{nothing_listens}/0")),
        make_app(replace(settings, celery_broker_url=f"amqp://guest:guest@{nothing_listens}//")),
        make_app(replace(
            settings, database_url=f"postgresql+psycopg://postgres@{nothing_listens}/test"
        )),
    ]
    for app in apps:
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.json["status"] == "unavailable"
        assert "unreachable" in response.json["checks"].values()
