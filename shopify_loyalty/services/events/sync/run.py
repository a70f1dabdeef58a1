"""One run of the sync for one shop: due customers written to Shopify, then settled.

Runs in the worker (``loyalty.sync_customers``), never inside a transaction: a short one
claims a chunk of due customers with their current state, the calls go through the shop's
cost-aware client (the bucket every worker shares), and a short one per call settles.

What is retried and what is given up:

- throttled (the bucket, a 429, THROTTLED): the customers are due again when the bucket has
  refilled (``SyncReport.retry_at``); not a failure, so a busy shop never loses a write;
- 5xx and timeouts (after the client's own retries), other GraphQL errors (a scope the shop
  has not granted yet: ACCESS_DENIED), a frozen shop, a token Shopify refuses after one
  refresh: a failure; due again after 1, 2, 4, … minutes (at most an hour), given up and
  logged after ``MAX_FAILURES`` in a row (the customer's next change tries again);
- userErrors: ``metafieldsSet`` is atomic, so a refused batch is written again customer by
  customer, and a customer refused alone (deleted in Shopify, a value Shopify will not take)
  is given up at once and logged: the same input would be refused again;
- a shop that needs re-authorisation: its customers wait an hour, uncounted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select

from shopify_loyalty.db import Database
from shopify_loyalty.errors import ShopifyUnavailableError, ShopNeedsReauthError
from shopify_loyalty.models import Shop, VipTier
from shopify_loyalty.services.events.sync import claims, marks
from shopify_loyalty.services.events.sync.claims import Claimed
from shopify_loyalty.services.events.sync.writes import write_customers
from shopify_loyalty.services.shops import tokens as shop_tokens
from shopify_loyalty.services.shops.admins import ShopAdmins
from shopify_loyalty.shopify.customer_fields import CUSTOMERS_PER_CALL, CustomerFieldsAdmin
from shopify_loyalty.shopify.errors import (
    ShopifyError,
    ShopifyThrottled,
    ShopifyUnauthorized,
    ShopifyUserErrors,
)

log = logging.getLogger(__name__)

# A run ends well within the task lease (90 s by default), so the lease never runs out on a
# live run; what is left is due at once and the next tick starts another run.
RUN_SECONDS = 60.0
# A call is not started with less time left than this.
CALL_MARGIN_SECONDS = 5.0
# Customers taken per claim: 25 calls' worth, a few seconds of a standard shop's bucket.
CLAIM_LIMIT = CUSTOMERS_PER_CALL * 25
MAX_FAILURES = 10
REAUTH_WAIT = timedelta(hours=1)


@dataclass
class SyncReport:
    written: int = 0
    given_up: int = 0
    failed: int = 0
    # Throttled: the shop's run should go again then.
    retry_at: datetime | None = None
    errors: list[str] = field(default_factory=list)


class _Shop:
    """The shop's Shopify side for one run: its token (refreshed once after a 401)."""

    def __init__(self, db: Database, admins: ShopAdmins, shop_id: int, domain: str,
                 deadline: float) -> None:
        self.db, self.admins, self.shop_id, self.domain = db, admins, shop_id, domain
        self.deadline = deadline
        self.token = shop_tokens.fresh_access_token(db, shop_id)
        self.refreshed = False

    def call(self, operation: Callable[[CustomerFieldsAdmin], None]) -> None:
        try:
            operation(self._fields())
        except ShopifyUnauthorized:
            if self.refreshed:
                raise
            self.token = shop_tokens.force_refresh(self.db, self.shop_id, self.token)
            self.refreshed = True
            operation(self._fields())

    def _fields(self) -> CustomerFieldsAdmin:
        return CustomerFieldsAdmin(self.admins.client_for(self.domain, self.token,
                                                          self.deadline))


def sync_shop(db: Database, admins: ShopAdmins, app_url: str, shop_id: int, now: datetime,
              lease: timedelta) -> SyncReport:
    """Write the shop's due customers to Shopify (see the module's doc for failures).

    Raises nothing of Shopify's: every outcome is settled on the customers' rows.
    """
    started = time.monotonic()
    deadline = started + RUN_SECONDS
    report = SyncReport()

    def at() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    with db.unit_of_work() as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            return report
        if not marks.enabled(shop):
            marks.clear_shop(session, shop_id)
            return report
        domain = shop.domain
        tier_names = list(session.scalars(select(VipTier.name).where(VipTier.shop_id == shop_id)))
    side: _Shop | None = None
    while time.monotonic() < deadline - CALL_MARGIN_SECONDS:
        with db.unit_of_work() as session:
            chunk = claims.claim(session, shop_id, domain, app_url, at(), CLAIM_LIMIT, lease)
        if not chunk:
            break
        try:
            side = side or _Shop(db, admins, shop_id, domain, deadline)
        except ShopNeedsReauthError:
            log.warning("shopify sync: shop %s needs re-authorisation", domain)
            with db.unit_of_work() as session:
                claims.release(session, chunk, at() + REAUTH_WAIT)
            return report
        except ShopifyUnavailableError as error:
            _fail(db, chunk, f"token: {error}", at(), report)
            return report
        if not _write_chunk(db, side, chunk, tier_names, deadline, at, report):
            break
    return report


def _write_chunk(db: Database, side: _Shop, chunk: Sequence[Claimed], tier_names: list[str],
                 deadline: float, at: Callable[[], datetime], report: SyncReport) -> bool:
    """Write the chunk call by call; False when the run must stop (throttled, failing, out
    of time), the rest of the chunk settled accordingly."""
    for start in range(0, len(chunk), CUSTOMERS_PER_CALL):
        batch, rest = chunk[start:start + CUSTOMERS_PER_CALL], chunk[start:]
        if time.monotonic() >= deadline - CALL_MARGIN_SECONDS:
            with db.unit_of_work() as session:
                claims.release(session, rest, at())
            return False
        try:
            written, refused = _write_batch(side, batch, tier_names)
        except ShopifyThrottled as throttled:
            report.retry_at = at() + timedelta(seconds=throttled.wait_seconds)
            with db.unit_of_work() as session:
                claims.release(session, rest, report.retry_at)
            return False
        except (ShopifyError, ShopNeedsReauthError, ShopifyUnavailableError) as error:
            _fail(db, rest, f"{type(error).__name__}: {error}", at(), report)
            return False
        now = at()
        with db.unit_of_work() as session:
            claims.settle_written(session, written, now)
            for claimed, message in refused:
                claims.give_up(session, claimed, message, now)
        for claimed, message in refused:
            log.warning("shopify sync: customer %s refused by Shopify, given up: %s",
                        claimed.fields.shopify_customer_id, message)
        report.written += len(written)
        report.given_up += len(refused)
    return True


def _write_batch(side: _Shop, batch: Sequence[Claimed], tier_names: list[str]
                 ) -> tuple[list[Claimed], list[tuple[Claimed, str]]]:
    """Written, and refused (with Shopify's reason). Raises the adapter's other errors."""
    try:
        side.call(partial(write_customers, batch=batch, tier_names=tier_names))
        return list(batch), []
    except ShopifyUserErrors as refused:
        if len(batch) == 1:
            return [], [(batch[0], str(refused))]
    written: list[Claimed] = []
    given_up: list[tuple[Claimed, str]] = []
    for claimed in batch:
        try:
            side.call(partial(write_customers, batch=[claimed], tier_names=tier_names))
            written.append(claimed)
        except ShopifyUserErrors as alone:
            given_up.append((claimed, str(alone)))
    return written, given_up


def _fail(db: Database, rest: Sequence[Claimed], error: str, now: datetime,
          report: SyncReport) -> None:
    hopeless = [c for c in rest if c.failures + 1 >= MAX_FAILURES]
    again = [c for c in rest if c.failures + 1 < MAX_FAILURES]
    with db.unit_of_work() as session:
        claims.retry_later(session, again, error, now)
        for claimed in hopeless:
            claims.give_up(session, claimed, error, now)
    log.warning("shopify sync: %d customers not written (%s); %d given up after %d failures",
                len(rest), error, len(hopeless), MAX_FAILURES)
    report.failed += len(again)
    report.given_up += len(hopeless)
    report.errors.append(error)
