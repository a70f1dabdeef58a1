"""Idempotency keys, after brandur's *Implementing Stripe-like Idempotency Keys in Postgres*.

A request with a key runs in two transactions. ``claim`` (its own short transaction) records
the key with the request's hash and a lock, or finds it: finished → replay the stored
answer; other request under the same key → IdempotencyKeyMismatchError; still running →
RequestInProgressError. The business transaction then stores the answer with ``finish``,
atomically with its effects, so a key that has an answer has had its effect exactly once.
A request that dies before finishing leaves no effect; ``release`` (or, after a crash, the
lock's age) frees the key for a retry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from shopify_loyalty.db import backend_insert
from shopify_loyalty.db_driver import DriverStatement, run_in
from shopify_loyalty.db_reuse import per_backend, table_of
from shopify_loyalty.errors import IdempotencyKeyMismatchError, RequestInProgressError
from shopify_loyalty.models import IdempotencyKey

# A request holds its key at most this long; after it the holder is taken to have crashed
# (its transaction rolled back with it), and a retry may run.
LOCK_TIMEOUT = timedelta(seconds=60)


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any


def request_hash(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(
    session: Session, shop_id: int, customer_id: int, key: str, digest: str, now: datetime
) -> tuple[int, StoredResponse | None]:
    """Take the key for this request, or return the stored answer to replay.

    Returns (key id, None) when the caller should run the request.
    Raises IdempotencyKeyMismatchError, RequestInProgressError.
    """
    inserted = run_in(session, _CLAIM, {
        "shop_id": shop_id, "customer_id": customer_id, "key": key, "request_hash": digest,
        "locked_at": now, "created_at": now,
    })
    if inserted:
        return inserted[0][0], None
    row = session.scalars(
        select(IdempotencyKey)
        .where(
            IdempotencyKey.shop_id == shop_id,
            IdempotencyKey.customer_id == customer_id,
            IdempotencyKey.key == key,
        )
        .with_for_update()
    ).one()
    if row.request_hash != digest:
        raise IdempotencyKeyMismatchError()
    if row.response_status is not None:
        return row.id, StoredResponse(row.response_status, row.response_body)
    if row.locked_at is not None and now - row.locked_at < LOCK_TIMEOUT:
        raise RequestInProgressError()
    row.locked_at = now
    return row.id, None


def finish(session: Session, key_id: int, status: int, body: Any) -> None:
    run_in(session, _FINISH, {"key_id": key_id, "response_status": status,
                              "response_body": body, "locked_at": None})


# Built once (db.table_of, db.per_backend): every request with a key runs both.
_KEYS = table_of(IdempotencyKey)
_FINISH = DriverStatement(_KEYS.update().where(_KEYS.c.id == bindparam("key_id")),
                          ["response_status", "response_body", "locked_at"])


def _claim_for(dialect: str) -> Any:
    return (backend_insert(dialect, _KEYS)
            .on_conflict_do_nothing(index_elements=["shop_id", "customer_id", "key"])
            .returning(_KEYS.c.id))


_CLAIM = DriverStatement(
    _claim_for("postgresql"),
    ["shop_id", "customer_id", "key", "request_hash", "locked_at", "created_at"],
    elsewhere=per_backend(_claim_for))


def release(session: Session, key_id: int) -> None:
    """Forget a key whose request failed without an answer worth replaying."""
    session.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.id == key_id, IdempotencyKey.response_status.is_(None))
        .execution_options(synchronize_session=False)
    )
