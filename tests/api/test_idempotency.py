"""Idempotency-Key on redeem-points: one key, one debit, whatever the retries."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shopify_loyalty.models import Customer, IdempotencyKey, RedeemRule, Reward, Shop
from tests import factories
from tests.conftest import SentTasks, auth

URL = "/loyalty/cp/api/redeem-points"


@pytest.fixture
def rule(session: Session, shop: Shop) -> RedeemRule:
    factories.customer(session, shop, 1001, points=1000)
    row = factories.rule(session, shop)
    session.commit()
    return row


def post(client: FlaskClient, shop: Shop, body: Any, key: str, customer: int = 1001) -> Any:
    headers = {**auth(shop.domain, customer), "Idempotency-Key": key}
    return client.post(URL, json=body, headers=headers)


def rewards(session: Session) -> int:
    return session.scalar(select(func.count(Reward.id))) or 0


def test_a_retry_replays_the_first_answer_without_a_second_debit(
    client: FlaskClient, session: Session, shop: Shop, rule: RedeemRule, sent_tasks: SentTasks
) -> None:
    first = post(client, shop, {"redeemRuleId": rule.id}, "k-1")
    again = post(client, shop, {"redeemRuleId": rule.id}, "k-1")
    assert first.status_code == again.status_code == 200
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert rewards(session) == 1
    assert len(sent_tasks) == 1
    assert session.scalars(select(Customer)).one().available_points == 500


def test_a_new_key_is_a_new_redemption(
    client: FlaskClient, session: Session, shop: Shop, rule: RedeemRule
) -> None:
    post(client, shop, {"redeemRuleId": rule.id}, "k-1")
    assert post(client, shop, {"redeemRuleId": rule.id}, "k-2").json["availablePoints"] == 0
    assert rewards(session) == 2


def test_the_same_key_with_another_body_is_refused(
    client: FlaskClient, session: Session, shop: Shop, rule: RedeemRule
) -> None:
    post(client, shop, {"redeemRuleId": rule.id}, "k-1")
    other = post(client, shop, {"redeemRuleId": rule.id, "points": 500}, "k-1")
    assert (other.status_code, other.json["code"]) == (422, "idempotency_key_mismatch")
    assert rewards(session) == 1


def test_keys_belong_to_one_customer(
    client: FlaskClient, session: Session, shop: Shop, rule: RedeemRule
) -> None:
    factories.customer(session, shop, 2002, points=1000)
    session.commit()
    post(client, shop, {"redeemRuleId": rule.id}, "shared")
    theirs = post(client, shop, {"redeemRuleId": rule.id}, "shared", customer=2002)
    assert theirs.status_code == 200
    assert "Idempotent-Replayed" not in theirs.headers
    assert rewards(session) == 2


def test_a_refusal_is_replayed_too(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    factories.customer(session, shop, 1001, points=100)
    rule = factories.rule(session, shop)
    session.commit()
    first = post(client, shop, {"redeemRuleId": rule.id}, "poor")
    assert first.json["code"] == "insufficient_points"
    factories.customer(session, shop, 1001, points=1000)  # points arrive meanwhile
    session.commit()
    again = post(client, shop, {"redeemRuleId": rule.id}, "poor")
    assert (again.status_code, again.json) == (422, first.json)
    assert rewards(session) == 0


def test_a_key_still_running_answers_409(
    client: FlaskClient, session: Session, shop: Shop, rule: RedeemRule
) -> None:
    post(client, shop, {"redeemRuleId": rule.id}, "k-1")
    session.execute(update(IdempotencyKey).values(response_status=None, response_body=None,
                                                  locked_at=func.now()))
    session.commit()
    busy = post(client, shop, {"redeemRuleId": rule.id}, "k-1")
    assert (busy.status_code, busy.json["code"]) == (409, "request_in_progress")


def test_an_abandoned_key_can_be_retried_after_its_lock_expires(
    client: FlaskClient, session: Session, shop: Shop, rule: RedeemRule
) -> None:
    post(client, shop, {"redeemRuleId": rule.id}, "k-1")
    # As if the first request had died after claiming the key: no answer, an old lock,
    # and (its transaction rolled back) no reward.
    session.execute(update(IdempotencyKey).values(
        response_status=None, response_body=None,
        locked_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 5)))
    session.commit()
    retry = post(client, shop, {"redeemRuleId": rule.id}, "k-1")
    assert retry.status_code == 200
    assert rewards(session) == 2  # the test's first reward was not rolled back, the retry ran


@pytest.mark.parametrize("key", ["", "   ", "x" * 256])
def test_unusable_keys_are_a_validation_error(
    client: FlaskClient, shop: Shop, rule: RedeemRule, key: str
) -> None:
    response = post(client, shop, {"redeemRuleId": rule.id}, key)
    assert (response.status_code, response.json["code"]) == (422, "validation_error")
