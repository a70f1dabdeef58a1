"""Fixtures: a migrated PostgreSQL database, the app, a client, a customer token.

Each test runs inside an outer transaction that is rolled back afterwards (SQLAlchemy's
*Joining a Session into an External Transaction*): the app's own commits become savepoint
releases. Tests that need real commits across connections (races) use ``committed_db``,
which truncates every table afterwards.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery._state import _set_task_join_will_block
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from shopify_loyalty import create_app
from shopify_loyalty.cli.db import alembic_config
from shopify_loyalty.config import Settings
from shopify_loyalty.db import Base, Database, QueuedTask
from shopify_loyalty.services import program_cache
from shopify_loyalty.shopify.auth import issue_customer_token
from tests import factories
from tests.integration.events_setup import (  # noqa: F401 (the outbound webhooks' fixtures)
    deliverer,
    event_relay,
    fake_now,
    live_deliverer,
    policy,
)

DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
API_KEY = "test-api-key"
API_SECRET = "shpss_test_secret_0123456789abcdef0123"
OLD_SECRET = "shpss_test_old_secret_0123456789abcdef"


@pytest.fixture
def redis_lock() -> Iterator[None]:
    """Held by every test that empties a shared Redis DB or broker: two test runs on one
    machine (developers side by side, CI) take turns instead of flushing each other's data."""
    with open(os.path.join(tempfile.gettempdir(), "shopify-loyalty-redis-tests.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _reset_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(autouse=True)
def celery_may_join() -> None:
    """Every test starts with Celery's join-would-block flag clear. The flag is one global of
    the process, not of a thread: an eager ``apply_async`` sets it for its run and restores
    what it found (``celery.result.denied_join_result``), so two threads applying tasks at
    once (a concurrency test's redemptions) can restore each other's True and leave it set,
    and a later test's ``EagerResult.get()`` then refuses to run ("Never call result.get()
    within a task!"). An in-process worker (``start_worker``) sets it as well."""
    _set_task_join_will_block(False)


@pytest.fixture(autouse=True)
def fresh_program_copies() -> None:
    """Every test starts with no copy of any shop's program (services.program_cache): the
    tests empty their tables and restart their ids, so a new shop can have an old one's id
    and version, which no shop of a real database does."""
    program_cache.forget()


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(
        database_url=DATABASE_URL,
        redis_url=None,
        shopify_api_key=API_KEY,
        shopify_api_secret=API_SECRET,
        shopify_api_secret_old=OLD_SECRET,
        shopify_admin_base_url="https://{shop}",
        app_url="https://loyalty.example.test",
        ratelimit_enabled=False,
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[Flask]:
    from alembic import command

    _reset_schema(settings.database_url)
    command.upgrade(alembic_config(settings.database_url), "head")
    flask_app = create_app(settings, TESTING=True)
    yield flask_app
    flask_app.extensions["loyalty_db"].dispose()


@pytest.fixture
def make_app(app: Flask) -> Iterator[Callable[[Settings], Flask]]:
    """Builds extra apps (other settings); the test app's Celery stays the default after."""
    made: list[Flask] = []

    def make(settings: Settings) -> Flask:
        made.append(create_app(settings))
        return made[-1]

    yield make
    for other in made:
        other.extensions["loyalty_db"].dispose()
    app.extensions["celery"].set_current()
    app.extensions["celery"].set_default()


@pytest.fixture(scope="session")
def db(app: Flask) -> Database:
    database: Database = app.extensions["loyalty_db"]
    return database


class SentTasks(list[QueuedTask]):
    """Every task the app handed to Celery after a commit, in order."""

    def names(self) -> list[tuple[str, list[Any]]]:
        return [(task.task_name, task.args) for task in self]


@pytest.fixture
def sent_tasks(db: Database) -> Iterator[SentTasks]:
    sent = SentTasks()
    real = db.dispatcher
    assert real is not None

    def record(queued: list[QueuedTask]) -> None:
        sent.extend(queued)
        real(queued)

    db.dispatcher = record
    yield sent
    db.dispatcher = real


@pytest.fixture
def session(db: Database, sent_tasks: SentTasks) -> Iterator[Session]:
    """A session inside the test's outer transaction; the app's sessions join it too."""
    connection = db.engine.connect()
    outer = connection.begin()
    db.sessions.configure(bind=connection, join_transaction_mode="create_savepoint")
    test_session = db.sessions()
    yield test_session
    test_session.close()
    outer.rollback()
    connection.close()
    db.sessions.configure(bind=db.engine, join_transaction_mode="conditional_savepoint")


@pytest.fixture
def committed_db(db: Database, sent_tasks: SentTasks) -> Iterator[Database]:
    """The real engine: commits are real. Every table is emptied afterwards."""
    yield db
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def client(app: Flask, session: Session) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def shop(session: Session) -> Any:
    shop = factories.shop(session)
    session.commit()
    return shop


def customer_token(domain: str, customer_id: int, secret: str = API_SECRET, **claims: Any) -> str:
    return issue_customer_token(domain, customer_id, api_key=API_KEY, secret=secret, **claims)


def auth(domain: str, customer_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {customer_token(domain, customer_id)}"}
