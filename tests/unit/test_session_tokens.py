"""Customer session tokens: what verifies and what does not."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from shopify_loyalty.shopify.auth import (
    SessionTokenError,
    decode_customer_token,
    issue_customer_token,
    shop_domain_from_dest,
)

KEY = "api-key"
SECRET = "shpss_current_secret_0123456789abcdef"
OLD = "shpss_previous_secret_0123456789abcdef"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    body = {
        "iss": "https://a.myshopify.com/admin",
        "dest": "https://a.myshopify.com",
        "aud": KEY,
        "sub": "gid://shopify/Customer/42",
        "exp": now + 60,
        "nbf": now,
        "iat": now,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def decode(token: str) -> Any:
    return decode_customer_token(token, api_key=KEY, secrets=(SECRET, OLD))


def test_a_token_signed_with_the_current_secret_names_shop_and_customer() -> None:
    result = decode(jwt.encode(claims(), SECRET, algorithm="HS256"))
    assert (result.shop_domain, result.customer_id) == ("a.myshopify.com", 42)


def test_a_token_signed_with_the_old_secret_still_verifies() -> None:
    assert decode(jwt.encode(claims(), OLD, algorithm="HS256")).customer_id == 42


@pytest.mark.parametrize(
    "dest", ["a.myshopify.com", "https://a.myshopify.com", "HTTPS://A.myshopify.com/"]
)
def test_dest_with_or_without_scheme(dest: str) -> None:
    assert decode(jwt.encode(claims(dest=dest), SECRET, algorithm="HS256")).shop_domain == (
        "a.myshopify.com"
    )


def test_clock_skew_within_ten_seconds_is_tolerated() -> None:
    now = int(time.time())
    token = jwt.encode(claims(exp=now - 5, nbf=now + 5), SECRET, algorithm="HS256")
    assert decode(token).customer_id == 42


@pytest.mark.parametrize(
    "token",
    # Built when the test runs, not when it is collected: a suite that runs for minutes
    # would otherwise see "not yet valid" become valid.
    [
        pytest.param(
            lambda: jwt.encode(claims(), "shpss_someone_elses_secret_0123456789",
                               algorithm="HS256"),
            id="forged",
        ),
        pytest.param(
            lambda: jwt.encode(claims(exp=int(time.time()) - 30), SECRET, algorithm="HS256"),
            id="expired",
        ),
        pytest.param(
            lambda: jwt.encode(claims(nbf=int(time.time()) + 60), SECRET, algorithm="HS256"),
            id="not-yet-valid",
        ),
        pytest.param(lambda: jwt.encode(claims(sub=None), SECRET, algorithm="HS256"), id="no-sub"),
        pytest.param(
            lambda: jwt.encode(claims(sub="gid://shopify/Shop/42"), SECRET, algorithm="HS256"),
            id="sub-not-a-customer",
        ),
        pytest.param(
            lambda: jwt.encode(claims(aud="other-app"), SECRET, algorithm="HS256"), id="wrong-aud"
        ),
        pytest.param(lambda: jwt.encode(claims(dest=None), SECRET, algorithm="HS256"),
                     id="no-dest"),
        pytest.param(lambda: jwt.encode(claims(), None, algorithm="none"), id="alg-none"),
        pytest.param(lambda: jwt.encode(claims(), SECRET * 2, algorithm="HS512"), id="other-alg"),
        pytest.param(lambda: "not.a.jwt", id="garbage"),
        pytest.param(lambda: "", id="empty"),
    ],
)
def test_bad_tokens_are_refused(token: Callable[[], str]) -> None:
    with pytest.raises(SessionTokenError):
        decode(token())


def test_issued_tokens_verify_and_expire_after_their_ttl() -> None:
    token = issue_customer_token("a.myshopify.com", 7, api_key=KEY, secret=SECRET, ttl=30)
    assert decode(token).customer_id == 7
    payload = jwt.decode(token, SECRET, algorithms=["HS256"], audience=KEY)
    assert payload["exp"] - payload["nbf"] == 30


def test_shop_domain_from_dest_strips_scheme_and_slash() -> None:
    assert shop_domain_from_dest(" https://Shop.myshopify.com/ ") == "shop.myshopify.com"
