"""A pooled connection the database dropped is replaced at checkout when it sat idle, on real
PostgreSQL (db_ping): the backend is really terminated with ``pg_terminate_backend``."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from shopify_loyalty.db import make_engine
from shopify_loyalty.db_ping import IDLE_PING_SECONDS, ping_when_idle
from tests.conftest import DATABASE_URL


@pytest.fixture
def admin() -> Iterator[Engine]:
    engine = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(admin: Engine, pid: int) -> None:
    """End the backend and wait until it is gone (the timeout makes pg_terminate_backend
    wait, up to 10 s), so the next use of its connection cannot race its exit."""
    with admin.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid, 10000)"),
                                  {"pid": pid}).scalar_one()


def test_an_idle_connection_the_database_dropped_is_replaced_before_use(admin: Engine) -> None:
    engine = create_engine(DATABASE_URL, pool_size=1, max_overflow=0)
    ping_when_idle(engine, idle_seconds=0.0)  # every returned connection counts as idle
    try:
        dropped = _backend(engine)
        _terminate(admin, dropped)
        with engine.connect() as connection:  # the ping finds it dead: a fresh one
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != dropped
        with engine.begin() as connection:  # the ping left no transaction open
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_connection_in_steady_use_is_not_pinged_and_one_failure_renews_the_pool(
    admin: Engine,
) -> None:
    engine = create_engine(DATABASE_URL, pool_size=1, max_overflow=0)
    ping_when_idle(engine, idle_seconds=3600.0)  # never idle long enough
    try:
        dropped = _backend(engine)
        _terminate(admin, dropped)
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.execute(text("SELECT 1"))  # not pinged: the statement finds it dead
        assert _backend(engine) != dropped  # the failure invalidated it: reconnected
    finally:
        engine.dispose()


def test_the_service_engine_replaces_a_dropped_connection_that_sat_idle(admin: Engine) -> None:
    engine = make_engine(DATABASE_URL)
    try:
        dropped = _backend(engine)
        _terminate(admin, dropped)
        time.sleep(IDLE_PING_SECONDS + 0.2)  # idle long enough to be pinged at checkout
        with engine.connect() as connection:
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != dropped
    finally:
        engine.dispose()
