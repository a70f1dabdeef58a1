"""A task's work may close its outbox row in its own transaction (outbox.complete_with): the
row is completed with the work's effects or, on a rollback, not at all."""

from __future__ import annotations

import pytest

from shopify_loyalty.db import Database
from shopify_loyalty.models import OutboxMessage
from shopify_loyalty.services import outbox
from tests import factories


def _queued_row(db: Database) -> int:
    with db.unit_of_work() as session:
        shop = factories.shop(session)
        row_id = outbox.enqueue(session, shop.id, "loyalty.run_job", "tiers")
        session.info.clear()  # not dispatched: only the row is looked at
    return row_id


def _completed(db: Database, row_id: int) -> bool:
    with db.unit_of_work() as session:
        return session.get_one(OutboxMessage, row_id).completed_at is not None


def test_the_row_closes_when_the_work_commits(committed_db: Database) -> None:
    row_id = _queued_row(committed_db)
    running = outbox.Running(row_id)
    token = outbox.RUNNING.set(running)
    try:
        with committed_db.unit_of_work() as session:
            outbox.complete_with(session)
            assert not running.closed  # not before the commit
    finally:
        outbox.RUNNING.reset(token)
    assert running.closed and _completed(committed_db, row_id)


def test_a_rolled_back_work_leaves_the_row_open(committed_db: Database) -> None:
    row_id = _queued_row(committed_db)
    running = outbox.Running(row_id)
    token = outbox.RUNNING.set(running)
    try:
        with pytest.raises(RuntimeError), committed_db.unit_of_work() as session:
            outbox.complete_with(session)
            raise RuntimeError("the work failed after closing the row")
    finally:
        outbox.RUNNING.reset(token)
    assert not running.closed and not _completed(committed_db, row_id)


def test_outside_a_task_run_it_does_nothing(committed_db: Database) -> None:
    row_id = _queued_row(committed_db)
    with committed_db.unit_of_work() as session:
        outbox.complete_with(session)
    assert not _completed(committed_db, row_id)
