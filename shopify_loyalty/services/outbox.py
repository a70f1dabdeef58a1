"""Units of work: tasks written in the business transaction, open until they have run.

A task is queued as an outbox row in the transaction that needs it (so a rolled-back
transaction queues nothing) and handed to the broker right after the commit. The row stays
open until the task has run to the end; ``due_at`` is its deadline. Every step pushes the
deadline: the send (``lease`` to start and finish), the start of a run (``lease`` again), a
retry the task schedules for itself (its countdown plus ``lease``), a wait the task asks for
(``RunLater``). When a deadline passes with the row still open, the task is taken to be lost
(a publish that failed, a broker that was emptied or restarted, a worker killed mid-task)
and the relay sends it again. Tasks are idempotent, so a task sent twice runs harmlessly
twice: this is what makes "at least once" safe.

This is the one recovery mechanism for every kind of work (fulfilments, webhook events, job
batches, event deliveries): each is an outbox row, swept by one relay.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Executable, Update, bindparam, select, update
from sqlalchemy.orm import Session

from shopify_loyalty.db import SEND_LEASE, QueuedTask, after_commit, queue_after_commit, utcnow
from shopify_loyalty.db_driver import DriverStatement, run_in
from shopify_loyalty.db_reuse import table_of
from shopify_loyalty.models import OutboxMessage
from shopify_loyalty.telemetry.context import request_id

FULFIL_REWARD = "loyalty.fulfil_reward"
DEACTIVATE_DISCOUNT = "loyalty.deactivate_discount"
# The after-commit send normally happens within milliseconds of the commit; a row still unsent
# after this long was missed (a crash or a broker outage), not merely in flight.
SEND_GRACE = timedelta(seconds=5)
# A task that has failed this many runs is a bug, not bad luck: it is given up (and logged)
# rather than sent every few minutes for ever. Far above any retry budget a task has itself.
MAX_RUNS = 50


class RunLater(Exception):
    """Raised by a task's work to be run again at ``at`` (the relay sends it then).

    For waits longer than a broker should hold a message: a delivery retried in hours, a
    fulfilment parked while Shopify is unreachable, a reward another run holds.
    """

    def __init__(self, at: datetime, reason: str) -> None:
        super().__init__(f"{reason}; again at {at.isoformat()}")
        self.at = at


class RetryLater(Exception):
    """Raised by Shopify work (fulfilment, deactivation) to be tried again in ``countdown``
    seconds: a throttled shop, a 5xx or a timeout. Its task decides how (a broker retry,
    or a RunLater through this outbox's deadline)."""

    def __init__(self, countdown: float, reason: str) -> None:
        super().__init__(f"{reason}; retry in {countdown:.1f} s")
        self.countdown = countdown


@dataclass(frozen=True)
class Due:
    id: int
    task_name: str
    args: list[Any]
    shop_id: int | None = None


# Built once (db.table_of): every unit of work that queues a task runs it.
# On the driver (db_driver): the redemption's path writes one.
_ENQUEUE = DriverStatement(
    table_of(OutboxMessage).insert().returning(table_of(OutboxMessage).c.id),
    ["shop_id", "task_name", "created_at", "due_at", "request_id", "sent_at", "args"])


def enqueue(session: Session, shop_id: int | None, task_name: str, *args: Any,
            due_at: datetime | None = None) -> int:
    """Write the task to the outbox (its id is returned).

    Without ``due_at`` it is sent right after the commit; with one, the relay sends it then.
    When the session's dispatcher sends after every commit (``SEND_LEASE`` in its info), the
    row is written as sent already, due at the end of the lease: the send that follows the
    commit then costs no statement of its own (a failed send makes the row due at once, see
    jobs.dispatch). A process that dies between the commit and the send leaves a row the
    relay sends when its lease is over, as it does for any task lost after its send.
    """
    now = utcnow()
    lease: timedelta | None = session.info.get(SEND_LEASE) if due_at is None else None
    outbox_id: int = run_in(session, _ENQUEUE, {
        **row_values(shop_id, task_name, now, lease, due_at), "args": list(args),
    })[0][0]
    if due_at is None:
        queue_after_commit(session, QueuedTask(outbox_id, task_name, list(args), shop_id,
                                               leased=lease is not None))
    return outbox_id


def row_values(shop_id: int | None, task_name: str, now: datetime, lease: timedelta | None,
               due_at: datetime | None = None) -> dict[str, Any]:
    """A new row's columns but its arguments: with ``lease`` (a dispatcher sends it right
    after the commit) written as sent and due when the lease ends, else due at ``due_at``
    or after ``SEND_GRACE``."""
    return {"shop_id": shop_id, "task_name": task_name, "created_at": now,
            "due_at": due_at or now + (lease or SEND_GRACE), "request_id": request_id.get(),
            "sent_at": now if lease is not None else None}


def mark_sent_statement(outbox_ids: Sequence[int], now: datetime,
                        lease: timedelta | None) -> Update:
    """The rows went to the broker: they have ``lease`` to run before the relay resends them.

    ``lease`` None: the tasks ran in-process already and set their own deadlines (completed,
    or a RunLater's time, which a lease from now would override); only ``sent_at`` is noted.
    """
    values: dict[str, Any] = {"sent_at": now}
    if lease is not None:
        values["due_at"] = now + lease
    return (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(outbox_ids))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def take_due(session: Session, now: datetime, limit: int, lease: timedelta) -> list[Due]:
    """The open rows whose deadline has passed, soonest first, reserved for ``lease``.

    ``SKIP LOCKED`` lets several relays run at once (two beats): each takes rows no other
    holds, and the new deadline keeps the next relay off them. The caller commits before it
    sends, so an in-process task can claim its row. (SQLite has no row locks; one relay
    runs there at a time anyway.)
    """
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.task_name, OutboxMessage.args,
               OutboxMessage.shop_id)
        .where(OutboxMessage.completed_at.is_(None), OutboxMessage.due_at <= now)
        .order_by(OutboxMessage.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    due = [Due(row.id, row.task_name, list(row.args or []), row.shop_id) for row in rows]
    if due:
        session.execute(postpone_statement([d.id for d in due], now + lease))
    return due


def unsent_statement(outbox_ids: Sequence[int], now: datetime) -> Update:
    """A send after the commit failed: the rows are not sent, and due for the relay now."""
    return (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.completed_at.is_(None))
        .values(sent_at=None, due_at=now)
        .execution_options(synchronize_session=False)
    )


def start(outbox_id: int, now: datetime, lease: timedelta) -> Bound:
    """A worker starts the task: a fresh deadline, one more run. Returns the row's runs so
    far and the request id that queued it; no row means it is already completed (a duplicate
    delivery: nothing to do)."""
    return _START, {"row_id": outbox_id, "due_at": now + lease}


def start_many(outbox_ids: Sequence[int], now: datetime, lease: timedelta) -> Bound:
    """``start`` for a batch's rows (jobs.setup.run_batch), in one statement: a row each
    (id, runs, request id) for those still open."""
    return _START_MANY, {"row_ids": list(outbox_ids), "due_at": now + lease}


def complete(outbox_id: int, now: datetime, abandoned: bool = False) -> Bound:
    return _COMPLETE, {"row_id": outbox_id, "completed_at": now, "abandoned": abandoned}


@dataclass
class Running:
    """The outbox row of the task running in this context (jobs.setup.run_unit_of_work),
    and whether the task's work closed it in its own committed transaction."""

    outbox_id: int
    closed: bool = False


RUNNING: ContextVar[Running | None] = ContextVar("running_outbox_row", default=None)


def complete_with(session: Session) -> None:
    """Close the running task's row in this transaction, the task's last: committed with the
    work's effects, so the run needs no statement of its own after it (a rollback leaves the
    row open, as any failed run does). Outside a task run, nothing."""
    running = RUNNING.get()
    if running is None or running.closed:
        return
    session.execute(*complete(running.outbox_id, utcnow()))
    after_commit(session, lambda: setattr(running, "closed", True))


# Built once (db.table_of): every task run runs both, as a statement and its parameters.
Bound = tuple[Executable, dict[str, Any]]
_ROWS = table_of(OutboxMessage)
_OPEN_ROW = (_ROWS.c.id == bindparam("row_id"), _ROWS.c.completed_at.is_(None))
_START = (_ROWS.update().where(*_OPEN_ROW)
          .values(attempts=_ROWS.c.attempts + 1)
          .returning(_ROWS.c.attempts, _ROWS.c.request_id))
_START_MANY = (_ROWS.update()
               .where(_ROWS.c.id.in_(bindparam("row_ids", expanding=True)),
                      _ROWS.c.completed_at.is_(None))
               .values(attempts=_ROWS.c.attempts + 1)
               .returning(_ROWS.c.id, _ROWS.c.attempts, _ROWS.c.request_id))
_COMPLETE = _ROWS.update().where(*_OPEN_ROW)


def postpone_statement(outbox_ids: Sequence[int], at: datetime) -> Update:
    """Run again at ``at`` (a retry's countdown plus the lease, a RunLater, or, for rows a
    relay could not send, now)."""
    return (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.completed_at.is_(None))
        .values(due_at=at)
        .execution_options(synchronize_session=False)
    )
