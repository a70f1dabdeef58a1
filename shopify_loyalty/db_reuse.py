"""What the hot paths keep instead of building or asking again (bench.profile_redeem: a
statement's construction, and the ORM's handling of it, cost several times its execution).

- ``table_of``: a model's table, for Core statements built once at import and given their
  values as parameters;
- ``per_backend``: the same for statements that differ by backend (an upsert's ON CONFLICT);
- ``transaction_memo``: what a transaction already read or locked (an order's row, a shop's
  endpoints), so that the next caller in the same transaction does not ask again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Table, event
from sqlalchemy.orm import Session

from shopify_loyalty.db import Base

_MEMOS = "transaction_memos"


def table_of(model: type[Base]) -> Table:
    """The model's table, for the Core statements the hot paths build once at import."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


T = TypeVar("T")


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
