"""The hottest statements, run on the driver's own connection: compiled once, no execution
context.

A webhook's acknowledgement is one autocommitted statement (services.orders.receipt), and
through ``Database.first_now`` SQLAlchemy's part of it (the connection wrapper, the autocommit
switch as an execution option, the compiled cache's lookup, each parameter through its type)
cost more of the process's CPU than psycopg's and the statement's own: measured single-threaded
250 µs through SQLAlchemy against 136 µs on the pooled psycopg connection. A
``DriverStatement`` is the statement's SQL for psycopg, compiled once; ``first_on_driver``
runs it on a connection from the same pool (its checkout ping included), in autocommit, and
raises the errors SQLAlchemy would (``DataError`` for a value the server refuses).

Its parameters go to psycopg as they are: the caller gives each one in the form the column
takes (an enum's value, an aware datetime, JSON as text under a cast).

``run_in`` does the same inside a session's transaction, for the Core statements of the
redemption's path: measured under callgrind, a one-row statement through ``Session.execute``
cost 0.40 M instructions against 0.17 M on the session's psycopg connection. There each
parameter goes through its column type's bind processor (the JSON encoder, an enum's
value), as SQLAlchemy would send it, and the rows come back as psycopg's tuples, with no
result processing: it is for statements that return ids and counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Insert
from sqlalchemy.engine import CursorResult, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.sql.expression import Executable

from shopify_loyalty.db import Base, Database
from shopify_loyalty.db_reuse import table_of, transaction_memo


class DriverStatement:
    """A Core statement and, once first run, its SQL and the values bound in it."""

    def __init__(self, statement: Executable, columns: Sequence[str] | None = None,
                 elsewhere: Callable[[Session], Executable] | None = None) -> None:
        """``columns``: an INSERT's or UPDATE's columns the caller gives values for (the
        others are left to the table's defaults: a scalar default is bound here; one that
        must be computed, a timestamp, has to be given). ``elsewhere``: the statement
        ``run_in`` runs off the driver, when it is the backend's own (db_reuse.per_backend:
        an upsert)."""
        self.statement = statement
        self.elsewhere = elsewhere
        self.columns = None if columns is None else list(columns)
        self.sql = ""
        self.defaults: dict[str, Any] = {}  # the values bound in the statement (a 0, False)
        self.processors: dict[str, Callable[[Any], Any]] = {}

    def compile_for(self, dialect: Dialect) -> None:
        if self.sql:
            return
        if isinstance(self.statement, Insert) and self.columns is None:
            raise ValueError("an INSERT's columns must be named: the others are the table's")
        compiled: Any = self.statement.compile(  # type: ignore[attr-defined]
            dialect=dialect, column_keys=self.columns)
        if compiled.escaped_bind_names:
            raise ValueError(f"bind names the driver cannot take: {compiled.escaped_bind_names}")
        defaults = {key: value for key, value in compiled.params.items()
                    if self.columns is None or key not in self.columns}
        for column in [*compiled.insert_prefetch, *compiled.update_prefetch]:
            if column.key in (self.columns or ()):
                continue
            default = column.default if column in compiled.insert_prefetch else column.onupdate
            if default is None or not default.is_scalar:
                raise ValueError(f"{column}: its value is computed; give it")
            defaults[column.key] = default.arg
        self.defaults = defaults
        # SQLAlchemy's own processors of the compiled statement (no public accessor).
        self.processors = dict(compiled._bind_processors)
        self.sql = compiled.string

    def bound(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters as SQLAlchemy would send them: through each column's type."""
        values = {**self.defaults, **params}
        for key, process in self.processors.items():
            if key in values:
                values[key] = process(values[key])
        return values


def run_in(session: Session, statement: DriverStatement,
           params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[Any]:
    """Run ``statement`` in the session's transaction (after its autoflush, as
    ``Session.execute`` would); the rows it returns, as the driver gives them. Through
    ``Session.execute`` on a driver other than psycopg (SQLite), and for a list of more than
    one parameter set (SQLAlchemy sends them as one multi-row statement)."""
    if session.autoflush:
        session.flush()
    dialect, cursor = _driver_cursor(session)
    if isinstance(params, Sequence) and len(params) == 1:
        params = params[0]
    if cursor is None or not isinstance(params, Mapping):
        own = statement.statement if statement.elsewhere is None else statement.elsewhere(session)
        result: Any = session.execute(own, params)
        assert isinstance(result, CursorResult)
        return list(result) if result.returns_rows else []
    statement.compile_for(dialect)
    values = statement.bound(params)
    try:
        cursor.execute(statement.sql, values)
        return cursor.fetchall() if cursor.description is not None else []
    except psycopg.Error as exc:
        raise _wrapped(statement, values, exc) from exc


M = TypeVar("M", bound=Base)
_INSERTS: dict[type[Base], tuple[DriverStatement, frozenset[str]]] = {}


def insert_as_stored(session: Session, model: type[M], values: dict[str, Any]) -> M:
    """Write one row of ``model`` (``values``: every column but the id, the defaults
    included, so that no attribute of the object is left to load) and return it attached
    to the session as stored, as if flushed and refreshed."""
    if model not in _INSERTS:
        table = table_of(model)
        columns = frozenset(table.c.keys()) - {"id"}
        _INSERTS[model] = (DriverStatement(table.insert().returning(table.c.id),
                                           sorted(columns)), columns)
    insert, columns = _INSERTS[model]
    if values.keys() != columns:
        raise ValueError(f"{model.__name__}: columns {sorted(columns ^ values.keys())} "
                         "missing or unknown")
    row = model(id=run_in(session, insert, values)[0][0], **values)
    make_transient_to_detached(row)
    session.add(row)
    return row


def _driver_cursor(session: Session) -> tuple[Dialect, psycopg.Cursor[Any] | None]:
    """The session's dialect and a cursor on its transaction's psycopg connection (None on
    another driver), kept for the transaction: a redemption runs ten statements in it."""
    memo = transaction_memo(session, "driver_cursor")
    if not memo:
        connection = session.connection()
        driver = connection.connection.driver_connection
        memo[None] = (connection.dialect,
                      driver.cursor() if isinstance(driver, psycopg.Connection) else None)
    found: tuple[Dialect, psycopg.Cursor[Any] | None] = memo[None]
    return found


def first_on_driver(db: Database, statement: DriverStatement, params: dict[str, Any]) -> Any:
    """``db.first_now(statement, params)``: its first row, or None."""
    bind = db.sessions.kw.get("bind", db.engine)
    if not isinstance(bind, Engine):  # a test's connection: through it, as first_now does
        return db.first_now(statement.statement, params)
    statement.compile_for(bind.dialect)
    values = {**statement.defaults, **params}  # given in column form: no processing
    pooled = bind.raw_connection()
    try:
        connection = pooled.driver_connection
        assert isinstance(connection, psycopg.Connection)
        connection.autocommit = True
        try:
            return connection.execute(statement.sql, values).fetchone()
        finally:
            connection.autocommit = False
    except psycopg.OperationalError as exc:
        pooled.invalidate(exc)  # a broken connection does not go back to the pool
        raise _wrapped(statement, values, exc) from exc
    except psycopg.Error as exc:
        raise _wrapped(statement, values, exc) from exc
    finally:
        pooled.close()


def _wrapped(statement: DriverStatement, values: Any,
             exc: psycopg.Error) -> DBAPIError:
    """The SQLAlchemy error of the driver's (DataError, IntegrityError, OperationalError…),
    as the app's error handlers know them."""
    return DBAPIError.instance(statement.sql, values, exc, psycopg.Error)  # type: ignore[return-value]
