"""Typed errors of the Shopify Admin API adapter.

Each class tells the caller what to do next: re-queue later (`ShopifyThrottled`), retry with
backoff (`ShopifyTransientError`), refresh the token (`ShopifyUnauthorized`), give up on the
shop (`ShopifyShopGone`) or give up on the request (`ShopifyUserErrors`, `ShopifyGraphQLError`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ShopifyError(Exception):
    """Base of every error raised by the Shopify adapter."""


class ShopifyThrottled(ShopifyError):
    """The shop's cost bucket cannot pay for the request now.

    The worker should re-queue the job with `wait_seconds` as its countdown instead of
    sleeping in the worker process.
    """

    def __init__(self, wait_seconds: float) -> None:
        super().__init__(f"Shopify bucket exhausted; retry in {wait_seconds:.2f} s")
        self.wait_seconds = wait_seconds


class ShopifyTransientError(ShopifyError):
    """5xx, timeout or connection error that outlived the client's own bounded retries."""


class ShopifyUnauthorized(ShopifyError):
    """HTTP 401: the access token is missing, wrong or expired."""


class ShopifyShopGone(ShopifyError):
    """HTTP 402 (frozen), 404 (no such shop) or 423 (locked): permanent for this shop.

    https://shopify.dev/docs/api/usage/response-codes
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class UserError:
    """One entry of a mutation payload's `userErrors`."""

    field: tuple[str, ...] | None
    message: str
    code: str | None = None


class ShopifyUserErrors(ShopifyError):
    """The mutation ran but Shopify refused its input (payload `userErrors`)."""

    def __init__(self, errors: Sequence[UserError]) -> None:
        super().__init__("; ".join(_describe(error) for error in errors) or "userErrors")
        self.errors = list(errors)

    @property
    def codes(self) -> frozenset[str]:
        """The distinct error codes, e.g. ``{"TAKEN"}``."""
        return frozenset(error.code for error in self.errors if error.code)


class ShopifyGraphQLError(ShopifyError):
    """Top-level `errors` other than THROTTLED, or an HTTP status without a better class."""

    def __init__(self, message: str, codes: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.codes = frozenset(codes)


def _describe(error: UserError) -> str:
    where = ".".join(error.field) if error.field else "input"
    suffix = f" ({error.code})" if error.code else ""
    return f"{where}: {error.message}{suffix}"
