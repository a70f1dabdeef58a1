"""The hottest statement, run on the driver's own connection: compiled once, no execution
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
"""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

from shopify_loyalty.db import Database


class DriverStatement:
    """A Core statement and, once first run, its SQL and the values bound in it."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self.sql = ""
        self.defaults: dict[str, Any] = {}  # the values bound in the statement (a 0, False)

    def compile_for(self, dialect: Dialect) -> None:
        if not self.sql:
            compiled = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            self.defaults = dict(compiled.params)
            self.sql = compiled.string


def first_on_driver(db: Database, statement: DriverStatement, params: dict[str, Any]) -> Any:
    """``db.first_now(statement, params)``: its first row, or None."""
    bind = db.sessions.kw.get("bind", db.engine)
    if not isinstance(bind, Engine):  # a test's connection: through it, as first_now does
        return db.first_now(statement.statement, params)
    statement.compile_for(bind.dialect)
    values = {**statement.defaults, **params}
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


def _wrapped(statement: DriverStatement, values: dict[str, Any],
             exc: psycopg.Error) -> DBAPIError:
    """The SQLAlchemy error of the driver's (DataError, IntegrityError, OperationalError…),
    as the app's error handlers know them."""
    return DBAPIError.instance(statement.sql, values, exc, psycopg.Error)  # type: ignore[return-value]
