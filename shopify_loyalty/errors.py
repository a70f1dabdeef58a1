"""Domain errors that carry their HTTP meaning, and the one JSON error shape.

Every error answer is ``{"code", "message", "status", "errors"?}``. Services raise these;
``register_error_handlers`` turns them (and Flask's own HTTP errors) into that shape. No
traceback ever reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from flask import Flask, Response, jsonify
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class LoyaltyError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    message: ClassVar[str] = "The request cannot be served."

    def __init__(self, message: str | None = None, errors: Any = None) -> None:
        super().__init__(message or self.message)
        self.detail = message or self.message
        self.errors = errors

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.detail, "status": self.status}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class ValidationError(LoyaltyError):
    status = 422
    code = "validation_error"
    message = "The request body or parameters are not valid."


class InvalidJsonError(LoyaltyError):
    status = 400
    code = "invalid_json"
    message = "The request body is not valid JSON."


class UnauthorizedError(LoyaltyError):
    status = 401
    code = "unauthorized"
    message = "A valid session token is required."


class ForbiddenError(LoyaltyError):
    status = 403
    code = "forbidden"
    message = "This customer may not do that."


class CustomerNotEligibleError(LoyaltyError):
    status = 403
    code = "customer_not_eligible"
    message = "This customer cannot redeem points."


class NotFoundError(LoyaltyError):
    status = 404
    code = "not_found"
    message = "Not found."


class RedeemRuleNotFoundError(NotFoundError):
    code = "redeem_rule_not_found"
    message = "No active redeem rule with that id."


class InsufficientPointsError(LoyaltyError):
    status = 422
    code = "insufficient_points"
    message = "Not enough available points."


class RedeemLimitReachedError(LoyaltyError):
    status = 422
    code = "redeem_limit_reached"
    message = "This reward has been claimed as often as its rule allows."


class IdempotencyKeyMismatchError(LoyaltyError):
    status = 422
    code = "idempotency_key_mismatch"
    message = "This Idempotency-Key was used with a different request."


class RequestInProgressError(LoyaltyError):
    status = 409
    code = "request_in_progress"
    message = "A request with this Idempotency-Key is still being processed."


def error_response(status: int, code: str, message: str, errors: Any = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message, "status": status}
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    return response


UNIQUE_VIOLATION = "23505"


def _sqlstate(exc: IntegrityError) -> str | None:
    state = getattr(exc.orig, "sqlstate", None)
    if state is None and "UNIQUE" in str(exc.orig):  # SQLite says so in words
        return UNIQUE_VIOLATION
    return state if isinstance(state, str) else None


def _http_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(LoyaltyError)
    def _loyalty_error(exc: LoyaltyError) -> Response:
        response = jsonify(exc.to_dict())
        response.status_code = exc.status
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages")
        if status == 422 and messages is not None:
            return error_response(422, ValidationError.code, ValidationError.message, messages)
        if status == 400 and messages is not None:
            return error_response(400, InvalidJsonError.code, InvalidJsonError.message, messages)
        response = error_response(status, _http_code(exc), exc.description or exc.name)
        for name, value in exc.get_headers():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        return response

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError) -> Response:
        # A constraint caught what a service's own checks missed (an id of a row that does not
        # exist, a duplicate): the request was wrong, and its transaction is rolled back.
        log.warning("constraint refused a request: %s", exc.orig)
        if _sqlstate(exc) == UNIQUE_VIOLATION:
            return error_response(409, ConflictError.code, "That already exists.")
        return error_response(422, ValidationError.code,
                              "The request refers to something that does not exist, or breaks "
                              "a rule of the data.")

    @app.errorhandler(DataError)
    def _data(exc: DataError) -> Response:
        log.warning("database refused a value: %s", exc.orig)
        return error_response(422, ValidationError.code,
                              "A value is out of range or of the wrong kind.")

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc: OperationalError | InterfaceError) -> Response:
        # The connection was lost (a restart, a failover, a terminated backend) or the
        # database refused for now (too many clients, a serialization failure): the
        # transaction is rolled back, nothing happened, and the same request may be sent again.
        log.warning("database unavailable: %s", exc.orig)
        response = error_response(503, "database_unavailable",
                                  "The database is unavailable for a moment; try again.")
        response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side.")


class ShopNeedsReauthError(LoyaltyError):
    """The shop's tokens are gone or refused: only a new install (OAuth) brings them back."""

    status = 401
    code = "shop_needs_reauth"
    message = "The shop must re-authorise the app."


class ShopifyUnavailableError(LoyaltyError):
    """Shopify did not answer, or answered 5xx: try again later."""

    status = 502
    code = "shopify_unavailable"
    message = "Shopify could not be reached; try again shortly."


class ConflictError(LoyaltyError):
    status = 409
    code = "conflict"
    message = "The resource is not in a state that allows this."


class EarnRuleNotFoundError(NotFoundError):
    code = "earn_rule_not_found"
    message = "The shop has no active earn rule for that."


class DobAlreadySetError(ConflictError):
    code = "dob_already_set"
    message = "The date of birth is set already; the shop can change it."


class ReferralNotFoundError(NotFoundError):
    code = "referral_not_found"
    message = "No such referral link in this shop."


class ReferralNotAllowedError(LoyaltyError):
    status = 422
    code = "referral_not_allowed"
    message = "This email cannot claim a referral."
