"""What the hot paths keep instead of building or asking again (bench.profile_redeem: a
statement's construction, and the ORM's handling of it, cost several times its execution).

- ``table_of``: a model's table, for Core statements built once at import and given their
  values as parameters;
- ``per_backend``: the same for statements that differ by backend (an upsert's ON CONFLICT);
- ``transaction_memo``: what a transaction already read or locked (an order's row, a shop's
  endpoints), so that the next caller in the same transaction does not ask again;
- ``insert_as_stored``: a new row written by one Core INSERT and attached as stored, not
  flushed by the ORM's unit of work (several times the statement's cost).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Table, event
from sqlalchemy.orm import Session, make_transient_to_detached

from shopify_loyalty.db import Base
from shopify_loyalty.db_driver import DriverStatement, run_in

_MEMOS = "transaction_memos"


def table_of(model: type[Base]) -> Table:
    """The model's table, for the Core statements the hot paths build once at import."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


T = TypeVar("T")
M = TypeVar("M", bound=Base)
_INSERTS: dict[type[Base], tuple[Any, frozenset[str]]] = {}


def insert_as_stored(session: Session, model: type[M], values: dict[str, Any]) -> M:
    """Write one row of ``model`` (``values``: every column but the id, the defaults
    included, so that no attribute of the object is left to load) and return it attached
    to the session as stored, as if flushed and refreshed (on the driver: db_driver)."""
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



def per_backend(build: Callable[[str], T]) -> Callable[[Session], T]:
    """A statement built once per backend (an upsert's ON CONFLICT is the backend's own):
    ``build(dialect name)`` on first use, its result after."""
    built: dict[str, T] = {}

    def statement(session: Session) -> T:
        name = session.get_bind().dialect.name
        if name not in built:
            built[name] = build(name)
        return built[name]

    return statement


def transaction_memo(session: Session, name: str) -> dict[Any, Any]:
    """A dict that lives as long as the session's current transaction: what a hot path has
    already read or locked in it (an order's row, a shop's endpoints), so the next caller in
    the same transaction does not ask the database again. Emptied at every commit and every
    rollback, a savepoint's included (its row locks go with it); a savepoint's release
    keeps it."""
    memos: dict[str, dict[Any, Any]] = session.info.setdefault(_MEMOS, {})
    return memos.setdefault(name, {})


@event.listens_for(Session, "after_transaction_end")
def _forget_memos_at_the_end(session: Session, transaction: Any) -> None:
    # The root transaction's end (a savepoint's release keeps them: its locks are held).
    if transaction.parent is None:
        session.info.pop(_MEMOS, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_memos_on_rollback(session: Session, _transaction: Any) -> None:
    session.info.pop(_MEMOS, None)
