"""Pinging a pooled PostgreSQL connection only when it has sat idle.

``pool_pre_ping`` pings on every checkout: a round trip each time (two a redemption, three a
task run), ~5% of a redemption's CPU. A connection in steady use was alive a moment ago; the
ones a database restart or an idle timeout leaves dead are those that sat in the pool. So a
connection idle longer than ``IDLE_PING_SECONDS`` is pinged at checkout (the dialect's own
ping, as ``pool_pre_ping`` does), and a dead one is replaced before anyone uses it
(SQLAlchemy, *Disconnect Handling — Pessimistic*: a checkout listener raising
``DisconnectionError`` makes the pool try a fresh connection).

A connection that dies in the second after its last use fails its next statement instead:
SQLAlchemy then invalidates every connection of the pool that is older than the failure
(they reconnect at their next checkout), and the request answers 503 ``database_unavailable``
to be retried, or the task is retried: one failure per process and restart, the same a
connection dropped mid-request costs with ``pool_pre_ping``.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

IDLE_PING_SECONDS = 1.0
_RETURNED_AT = "returned_at"


def ping_when_idle(engine: Engine, idle_seconds: float = IDLE_PING_SECONDS) -> None:
    """Install the checkout ping on ``engine`` (created without ``pool_pre_ping``)."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned <= idle_seconds:
            return  # new (it just connected) or in steady use
        try:
            dialect.do_ping(dbapi_connection)
            dbapi_connection.rollback()  # the ping began a transaction: idle again
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError(str(exc)) from exc
            raise
