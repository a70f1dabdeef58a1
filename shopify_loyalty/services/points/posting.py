"""A ledger row's statements: the balance update, the row itself, and a credit's batch.

The balance UPDATE is conditional (``available_points + delta >= 0``), so it finds no row
when a debit would go below zero, and then nothing else is written. On PostgreSQL the three
are one statement: the UPDATE … RETURNING feeds the row's INSERT … SELECT, which feeds a
credit's batch INSERT, as data-modifying CTEs (one round trip instead of three; a refused
debit writes nothing, as a statement is atomic). Each CTE reads the one before it, so the
customer's row is locked before anything of theirs is written, and a debit's spend from the
batches stays a statement of its own after it (services.points.batches): the lock order of
every writer, customer then batches, holds. Elsewhere (SQLite) the statements run one by
one. All of them are built once over their tables (db_reuse.table_of).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Update, bindparam, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, make_transient_to_detached

from shopify_loyalty.db_driver import DriverStatement, run_in
from shopify_loyalty.db_reuse import table_of
from shopify_loyalty.models import Customer, PointBatch, PointTransaction
from shopify_loyalty.services.points import batches

# The row's columns given by the caller (``values`` of ``post``); the balance after is the
# UPDATE's.
ROW_COLUMNS = ("shop_id", "customer_id", "kind", "status", "points", "source_type",
               "source_id", "note", "approve_after", "created_at")


def post_row(session: Session, values: dict[str, Any], credited: int, spent: int,
             activity: bool) -> tuple[tuple[int, int, int], PointTransaction] | None:
    """Apply ``values["points"]`` to the balance (with the lifetime ``credited`` and
    ``spent``; ``activity`` also moves ``last_activity_at``), append the row, and open a
    credit's batch. The balances after and the row (attached as stored), or None when the
    balance would go below zero or the customer is not the shop's."""
    params = {"customer": values["customer_id"], "shop": values["shop_id"],
              "delta": values["points"], "credited": credited, "spent": spent,
              "at": values["created_at"]}
    credit = values["points"] > 0
    in_one = session.get_bind().dialect.name == "postgresql"
    if in_one:
        posted = run_in(session, _POSTING[(activity, credit)], {**params, **{
            f"row_{name}": values[name] for name in ROW_COLUMNS}})
        if not posted:
            return None
        found = posted[0]
        balances, row_id = (found[0], found[1], found[2]), found[3]
    else:
        applied = session.execute(_APPLY[activity], params).first()
        if applied is None:
            return None
        balances = (applied[0], applied[1], applied[2])
        row_id = session.execute(_APPEND, {**values, "available_after": balances[0]}
                                 ).scalar_one()
    # Attached as stored (SQLAlchemy's make_transient_to_detached), not flushed: the ORM's
    # flush of a new object costs several times the statement.
    row = PointTransaction(id=row_id, available_after=balances[0], **values)
    make_transient_to_detached(row)
    session.add(row)
    if credit and not in_one:
        batches.credit(session, row, values["created_at"])
    return balances, row


def _apply_statement(activity: bool) -> Update:
    """The balance UPDATE; ``activity``: it also moves ``last_activity_at``."""
    c = table_of(Customer).c
    values: dict[str, Any] = {
        "available_points": c.available_points + bindparam("delta"),
        "credited_points": c.credited_points + bindparam("credited"),
        "spent_points": c.spent_points + bindparam("spent"),
        # Given, not left to the column's onupdate: a CTE's UPDATE does not get it.
        "updated_at": bindparam("at"),
    }
    if activity:
        values["last_activity_at"] = bindparam("at")
    return (
        table_of(Customer).update()
        .where(c.id == bindparam("customer"), c.shop_id == bindparam("shop"),
               c.available_points + bindparam("delta") >= 0)
        .values(values)
        .returning(c.available_points, c.credited_points, c.spent_points)
    )


def _posting_statement(activity: bool, credit: bool) -> Select[Any]:
    """PostgreSQL: the UPDATE, the row and (``credit``) the batch in one statement."""
    rows, batches = table_of(PointTransaction), table_of(PointBatch)
    applied = _apply_statement(activity).cte("applied")
    row = (
        postgresql.insert(rows)
        .from_select(
            [*ROW_COLUMNS, "available_after"],
            select(*(bindparam(f"row_{name}", type_=rows.c[name].type)
                     for name in ROW_COLUMNS), applied.c.available_points),
            include_defaults=False)
        .returning(rows.c.id, rows.c.shop_id, rows.c.customer_id, rows.c.points,
                   rows.c.created_at)
        .cte("row")
    )
    found = select(applied.c.available_points, applied.c.credited_points,
                   applied.c.spent_points, row.c.id).select_from(applied.join(row, true()))
    if credit:
        found = found.add_cte(
            postgresql.insert(batches)
            .from_select(
                ["shop_id", "customer_id", "transaction_id", "points", "remaining", "earned_at"],
                select(row.c.shop_id, row.c.customer_id, row.c.id, row.c.points, row.c.points,
                       row.c.created_at),
                include_defaults=False)
            .cte("batch"))
    return found


_APPLY = {activity: _apply_statement(activity) for activity in (True, False)}
_APPEND = table_of(PointTransaction).insert().returning(table_of(PointTransaction).c.id)
# On the driver (db_driver): every ledger row on PostgreSQL is one of them.
_POSTING = {(activity, credit): DriverStatement(_posting_statement(activity, credit))
            for activity in (True, False) for credit in (True, False)}
