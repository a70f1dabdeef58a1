"""Engine, sessions and the unit of work.

The edge owns the transaction (SQLAlchemy, *Session Basics*): a view or a task opens
``with db.unit_of_work() as session:``, calls services that never commit, and the block
commits. Tasks queued in the transaction are outbox rows; they are dispatched only after the
commit succeeds, so a rolled-back transaction never sends one (Celery, *Database
transactions*), and a crash after the commit leaves the row for the relay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, Engine, Result
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import JSON, TypeDecorator

from shopify_loyalty.db_ping import ping_when_idle

log = logging.getLogger(__name__)

# Named constraints, so that Alembic migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@dataclass(frozen=True)
class QueuedTask:
    """An outbox row as the dispatcher needs it once its transaction has committed.

    ``leased``: the row was written already marked sent, with the lease as its deadline
    (services.outbox.enqueue), so a send that works needs no further statement.
    """

    outbox_id: int
    task_name: str
    args: list[Any]
    # The shop the task works for: the dispatcher routes Shopify work to the shop's lane.
    shop_id: int | None = None
    leased: bool = False


Dispatcher = Callable[[list[QueuedTask]], None]
_QUEUED = "queued_tasks"
_AFTER_COMMIT = "after_commit"
# Session.info key: how long a task handed to the broker after the commit has to run
# (the dispatcher's lease); set when a dispatcher sends after every commit.
SEND_LEASE = "send_lease"
_T = TypeVar("_T")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    # A connection a database restart dropped is replaced at checkout, not found dead by a
    # request: pinged when it sat idle (db_ping; pool_pre_ping would ping every checkout).
    engine = create_engine(url, pool_size=10, max_overflow=20)
    ping_when_idle(engine)
    return engine


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.dispatcher: Dispatcher | None = None
        self.send_lease: timedelta | None = None

    def dispatch_after_commit(self, dispatcher: Dispatcher, lease: timedelta) -> None:
        """Hand every committed transaction's tasks to ``dispatcher``, which gives each
        ``lease`` to run: the rows are written with that deadline (services.outbox)."""
        self.dispatcher = dispatcher
        self.send_lease = lease

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: commit at the end of the block, roll back on any exception.

        Tasks written to the outbox inside the block are handed to the dispatcher after
        the commit, never before it and never after a rollback.
        """
        session = self.sessions()
        if self.dispatcher is not None and self.send_lease is not None:
            # This block's tasks are sent right after its commit (services.outbox.enqueue).
            session.info[SEND_LEASE] = self.send_lease
        try:
            yield session
            session.commit()
            queued: list[QueuedTask] = session.info.pop(_QUEUED, [])
            committed: list[Callable[[], None]] = session.info.pop(_AFTER_COMMIT, [])
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        for callback in committed:
            callback()
        if queued and self.dispatcher is not None:
            self.dispatcher(queued)

    def execute_now(self, statement: Executable, params: dict[str, Any] | None = None) -> None:
        """Run one statement in its own autocommitted round trip, outside any session.

        For bookkeeping after a commit (marking outbox rows sent), where a transaction of
        its own would cost three round trips. Uses the sessions' bind, so it sees what they see.
        """
        self._now(statement, params, lambda _result: None)

    def first_now(self, statement: Executable, params: dict[str, Any] | None = None) -> Any:
        """``execute_now`` for a statement with RETURNING: its first row, or None."""
        return self._now(statement, params, Result.first)

    def all_now(self, statement: Executable, params: dict[str, Any] | None = None) -> list[Any]:
        """``execute_now`` for a statement with RETURNING: all its rows."""
        return self._now(statement, params, lambda result: list(result.all()))

    def _now(self, statement: Executable, params: dict[str, Any] | None,
             read: Callable[[Result[Any]], _T]) -> _T:
        bind = self.sessions.kw.get("bind", self.engine)
        if isinstance(bind, Engine):
            with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                return read(connection.execute(statement, params))
        with bind.begin_nested():  # a test's connection: atomic, as autocommit is
            return read(bind.execute(statement, params))

    def dispose(self) -> None:
        self.engine.dispose()


def upsert_insert(session: Session, model: type[Base]) -> Any:
    """An INSERT that can take ON CONFLICT clauses on the session's backend."""
    return backend_insert(session.get_bind().dialect.name, model)


def backend_insert(dialect: str, table: type[Base] | Table) -> Any:
    """``upsert_insert`` for the backend named (``postgresql`` or ``sqlite``)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def queue_after_commit(session: Session, task: QueuedTask) -> None:
    session.info.setdefault(_QUEUED, []).append(task)


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Call ``callback`` once the unit of work's transaction has committed (never after a
    rollback)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(Session, "after_soft_rollback")
def _forget_queued_tasks(session: Session, previous_transaction: Any) -> None:
    # A rolled-back transaction's outbox rows do not exist: nothing may be sent for them.
    # (A savepoint rolled back inside a live transaction queues nothing: see outbox.enqueue.)
    if not previous_transaction.nested:
        session.info.pop(_QUEUED, None)
        session.info.pop(_AFTER_COMMIT, None)
