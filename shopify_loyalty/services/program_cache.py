"""A process's copies of shops' programs (tiers, rules, endpoints), checked by version.

Every redemption reads its reward rule, the shop's tiers and its event endpoints; every
order its purchase rule, the tiers and the endpoints: a round trip each, for rows that
change a few times a year. A copy kept here is stamped with the shop's ``program_version``,
which the database moves in the transaction of any change to those tables (migration
0019's triggers) and which every request reads with its shop anyway. A copy whose stamp is
not the shop's is read again. A shop read a moment before a change sees the program as it
was then, as if the request had come a moment earlier.

Rows are kept as detached copies, every column loaded: callers read them and never change
them nor add them to a session (a change goes through a row its own session read:
services.program.tiers.tier). The call that reads gets its session's own rows. In a
transaction that wrote one of the tables (the session events below) every read goes to the
database: its shop's version in memory predates its own change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, make_transient_to_detached

from shopify_loyalty.db import Base
from shopify_loyalty.models import EarnRule, EventEndpoint, RedeemRule, Shop, VipTier

PROGRAM_MODELS: tuple[type[Base], ...] = (VipTier, EarnRule, RedeemRule, EventEndpoint)
_WRITTEN = "program_written"
# (what, shop id) → (the shop's program_version, the copy). One entry per shop and kind:
# small, and a shop's new version replaces its old copy.
_COPIES: dict[tuple[str, int], tuple[int, Any]] = {}

M = TypeVar("M", bound=Base)
T = TypeVar("T")


def program_rows(session: Session, shop_id: int, what: str,
                 read: Callable[[], Sequence[M]]) -> Sequence[M]:
    """The rows ``read`` returns, from this process's copy when it is the shop's version."""
    return _cached(session, shop_id, what, read, lambda rows: [_detached(r) for r in rows])


def program_values(session: Session, shop_id: int, what: str, read: Callable[[], T]) -> T:
    """``program_rows`` for plain values (tuples, not ORM rows): kept as they are."""
    return _cached(session, shop_id, what, read, lambda value: value)


def _cached(session: Session, shop_id: int, what: str, read: Callable[[], T],
            copy: Callable[[T], T]) -> T:
    version = _version(session, shop_id)
    if version is None or session.info.get(_WRITTEN):
        return read()
    kept = _COPIES.get((what, shop_id))
    if kept is not None and kept[0] == version:
        copied: T = kept[1]
        return copied
    value = read()
    _COPIES[(what, shop_id)] = (version, copy(value))
    return value


def _version(session: Session, shop_id: int) -> int | None:
    """The shop's version as this transaction read it: the shop is in the session already
    (signed in, or read with its webhook event); if not, no copy is used."""
    shop = session.identity_map.get(inspect(Shop).identity_key_from_primary_key((shop_id,)))
    return shop.program_version if isinstance(shop, Shop) else None


def _detached(row: M) -> M:
    """A copy of the row that belongs to no session, every column loaded."""
    mapper = inspect(type(row))
    copy = type(row)(**{a.key: getattr(row, a.key) for a in mapper.column_attrs})
    make_transient_to_detached(copy)
    return copy


def copies() -> int:
    """How many copies the process holds (one per shop and kind)."""
    return len(_COPIES)


def forget() -> None:
    """Drop every copy (tests that change a program outside any session, by hand)."""
    _COPIES.clear()


@event.listens_for(Session, "after_flush")
def _note_program_writes(session: Session, _context: Any) -> None:
    written = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(row, PROGRAM_MODELS) for row in written):
        session.info[_WRITTEN] = True


@event.listens_for(Session, "do_orm_execute")
def _note_program_statements(state: ORMExecuteState) -> None:
    # A statement that writes one of the tables (delivery.py disables endpoints so).
    if (state.is_insert or state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ in PROGRAM_MODELS:
        state.session.info[_WRITTEN] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_program_writes(session: Session, transaction: Any) -> None:
    # Only at the root transaction's end: a savepoint rolled back inside it leaves the
    # outer transaction's own writes in place (a memo may forget; this must not).
    if transaction.parent is None:
        session.info.pop(_WRITTEN, None)
