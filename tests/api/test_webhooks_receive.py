"""POST /webhooks: signature, size, duplicates, unknown shops, bad input."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopify_loyalty.models import EarnRuleKind, PointTransaction, WebhookEvent, WebhookStatus
from shopify_loyalty.services.program import earn_rules
from shopify_loyalty.shopify.webhook_hmac import sign_webhook, verify_webhook
from tests import shopify_webhooks as hooks
from tests.conftest import API_SECRET, OLD_SECRET, SentTasks


def _events(session: Session) -> list[WebhookEvent]:
    return list(session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all())


def _earning_shop(session: Session, shop: Any) -> None:
    earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
        kind=EarnRuleKind.PURCHASE, points_per_unit=1))
    session.commit()


def test_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    # Computed independently:
    #   printf "{\"id\":1}" | openssl dgst -sha256 -hmac secret -binary | base64
    assert sign_webhook(b'{"id":1}', "secret") == "A971iWIMgT8Zj9A9eWfikrFj7wQ16/Qwcc4OlRl2PLc="
    assert verify_webhook(b'{"id":1}', sign_webhook(b'{"id":1}', "b"), ["a", "b"])
    assert not verify_webhook(b'{"id":1}', None, ["a"])
    assert not verify_webhook(b'{"id":2}', sign_webhook(b'{"id":1}', "a"), ["a"])


def test_good_signature_stores_processes_and_answers_200(
    client: FlaskClient, session: Session, shop: Any, sent_tasks: SentTasks
) -> None:
    _earning_shop(session, shop)
    response = hooks.deliver(client, shop.domain, "orders/paid", hooks.order(),
                             webhook_id="wh-1")
    assert response.status_code == 200
    [event] = _events(session)
    assert (event.topic, event.webhook_id, event.status) == (
        "orders/paid", "wh-1", WebhookStatus.PROCESSED)
    assert event.payload["id"] == hooks.ORDER_ID  # exact beyond 2**53
    assert sent_tasks.names() == [("loyalty.process_webhook", [event.id])]


def test_old_secret_still_verifies(client: FlaskClient, session: Session, shop: Any) -> None:
    response = hooks.deliver(client, shop.domain, "orders/paid", hooks.order(),
                             secret=OLD_SECRET)
    assert response.status_code == 200
    assert len(_events(session)) == 1


def test_wrong_or_missing_signature_is_401_and_stores_nothing(
    client: FlaskClient, session: Session, shop: Any, sent_tasks: SentTasks
) -> None:
    wrong = hooks.deliver(client, shop.domain, "orders/paid", hooks.order(),
                          secret="not-the-secret")
    missing = hooks.deliver(client, shop.domain, "orders/paid", hooks.order(), secret=None)
    body = b'{"id": 1}'
    tampered = hooks.deliver(client, shop.domain, "orders/paid", None, body=b'{"id": 2}',
                             X_Shopify_Hmac_Sha256=sign_webhook(body, API_SECRET), secret=None)
    for response in (wrong, missing, tampered):
        assert response.status_code == 401
        assert response.get_json()["code"] == "unauthorized"
    assert _events(session) == [] and sent_tasks == []


def test_same_delivery_three_times_has_one_effect(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    _earning_shop(session, shop)
    for _ in range(3):
        response = hooks.deliver(client, shop.domain, "orders/paid", hooks.order(),
                                 webhook_id="same-id")
        assert response.status_code == 200
    assert len(_events(session)) == 1
    assert session.scalar(select(func.count(PointTransaction.id))) == 1


def test_unknown_or_uninstalled_shop_is_200_with_no_effect(
    client: FlaskClient, session: Session, shop: Any, sent_tasks: SentTasks
) -> None:
    from shopify_loyalty.db import utcnow

    unknown = hooks.deliver(client, "nobody.myshopify.com", "orders/paid", hooks.order())
    shop.uninstalled_at = utcnow()
    session.commit()
    gone = hooks.deliver(client, shop.domain, "orders/paid", hooks.order())
    assert unknown.status_code == gone.status_code == 200
    assert _events(session) == [] and sent_tasks == []


def test_body_over_10_mb_is_413(client: FlaskClient, session: Session, shop: Any) -> None:
    body = b'{"id": 1, "pad": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    response = hooks.deliver(client, shop.domain, "orders/paid", None, body=body)
    assert response.status_code == 413
    assert _events(session) == []


def test_body_over_the_api_limit_but_under_10_mb_is_accepted(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    payload = hooks.order(note="x" * (2 * 1024 * 1024))
    assert hooks.deliver(client, shop.domain, "orders/paid", payload).status_code == 200


def test_signed_non_json_is_400(client: FlaskClient, session: Session, shop: Any) -> None:
    response = hooks.deliver(client, shop.domain, "orders/paid", None, body=b"not json{")
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_json"
    assert _events(session) == []


def test_missing_shopify_header_is_422(client: FlaskClient, session: Session, shop: Any) -> None:
    response = hooks.deliver(client, shop.domain, "orders/paid", hooks.order(),
                             X_Shopify_Webhook_Id="")
    assert response.status_code == 422
    assert "X-Shopify-Webhook-Id" in response.get_json()["errors"]


def test_payload_missing_fields_leaves_a_failed_event_not_a_500(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    payload = hooks.order()
    del payload["id"]
    for topic, body in (("orders/paid", payload), ("refunds/create", {"id": 5}),
                        ("customers/update", [1, 2]), ("orders/paid", "text")):
        assert hooks.deliver(client, shop.domain, topic, body).status_code == 200
    events = _events(session)
    assert [e.status for e in events] == [WebhookStatus.FAILED] * 4
    assert events[0].error == "invalid_webhook_payload: id is missing or not a Shopify id."
    assert events[0].attempts == 1


def test_topic_we_do_not_handle_is_kept_as_processed(
    client: FlaskClient, session: Session, shop: Any, sent_tasks: SentTasks
) -> None:
    assert hooks.deliver(client, shop.domain, "products/update", {"id": 1}).status_code == 200
    [event] = _events(session)
    assert event.status is WebhookStatus.PROCESSED
    assert sent_tasks == []
