"""Running a request under an ``Idempotency-Key`` (see services.idempotency)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, jsonify, request
from sqlalchemy.orm import Session

from shopify_loyalty.api import presenters
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.errors import LoyaltyError, ValidationError
from shopify_loyalty.models import Customer, Shop
from shopify_loyalty.services import idempotency
from shopify_loyalty.services.customers import portal
from shopify_loyalty.services.rewards import redemption

MAX_KEY_LENGTH = 255


def key_parameter(description: str) -> dict[str, Any]:
    """The ``Idempotency-Key`` header as the spec states it: what ``run`` and
    services.customers.adjustments accept (1 to 255 characters, not only spaces)."""
    return {
        "in": "header", "name": "Idempotency-Key", "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
                   "pattern": r"\S"},
        "description": description,
    }


def _json(status: int, body: Any) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


Identify = Callable[[Session], tuple[Shop, Customer]]
Work = Callable[[Session, Shop, Customer], Any]


def redemption_work(command: redemption.RedeemCommand) -> Work:
    """Redeem, then answer with the updated loyalty info (storefront and external API)."""

    def redeem(session: Session, shop: Shop, customer: Customer) -> Any:
        redemption.redeem_points(session, shop, customer, command, utcnow())
        return presenters.loyalty_info(portal.loyalty_info(session, shop, customer))

    return redeem


def run(db: Database, identify: Identify, work: Work) -> Response:
    """Answer ``work`` (a 200 JSON body), at most once per Idempotency-Key.

    Without a key, identification and work share one transaction. With one, the answer (a
    domain error too) is stored with the work's effects and replayed to every retry.
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        with db.unit_of_work() as session:
            shop, customer = identify(session)
            return _json(200, work(session, shop, customer))
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationError(errors={"Idempotency-Key": ["Must be 1 to 255 characters."]})
    digest = idempotency.request_hash(request.method, request.path, request.get_json(silent=True))
    with db.unit_of_work() as session:
        shop, customer = identify(session)
        key_id, stored = idempotency.claim(session, shop.id, customer.id, key, digest, utcnow())
    if stored is not None:
        response = _json(stored.status, stored.body)
        response.headers["Idempotent-Replayed"] = "true"
        return response
    try:
        with db.unit_of_work() as session:
            # The rows read a moment ago, attached without reading them again (two round
            # trips less): the work locks the customer with its debit, whose RETURNING
            # brings the balance up to date, and reads nothing else of them it must lock.
            answer = work(
                session, session.merge(shop, load=False), session.merge(customer, load=False)
            )
            idempotency.finish(session, key_id, 200, answer)
        return _json(200, answer)
    except LoyaltyError as exc:
        # The work rolled back; its refusal is the answer this key keeps.
        with db.unit_of_work() as session:
            idempotency.finish(session, key_id, exc.status, exc.to_dict())
        raise
    except BaseException:
        with db.unit_of_work() as session:
            idempotency.release(session, key_id)
        raise
