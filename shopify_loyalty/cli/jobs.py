"""``jobs list`` and ``jobs run NAME [--now ISO]``: a scheduled job, once, in this process."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from shopify_loyalty.cli.output import emit, instant
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.errors import NotFoundError
from shopify_loyalty.jobs import scheduled
from shopify_loyalty.jobs.dispatch import OutboxDispatcher
from shopify_loyalty.services.events.sync import schedule as sync_schedule

RELAY = "outbox-relay"
# Beat's tick of the Shopify customer sync: run by hand where no beat runs (in-process mode).
SHOPIFY_SYNC = "shopify-sync"


@click.group(help="Scheduled jobs (beat runs them on their schedule).", cls=AppGroup)
def jobs() -> None:
    pass


@jobs.command("list")
def list_() -> None:
    rows = [{"name": RELAY, "description": "Send again the tasks that were missed or lost."},
            {"name": SHOPIFY_SYNC, "description": "Queue a Shopify customer sync run for every "
                                                  "shop with customers due."}]
    rows += [{"name": job.name, "description": job.description}
             for job in scheduled.JOBS.values()]
    emit(rows)


@jobs.command("run")
@click.argument("name")
@click.option("--now", "now_text", help="Run as of this instant (ISO 8601; UTC if no offset).")
def run(name: str, now_text: str | None) -> None:
    """Run every batch of job NAME now and print what it did."""
    now = instant(now_text) if now_text is not None else utcnow()
    if name == RELAY:
        dispatcher: OutboxDispatcher = current_app.extensions["loyalty_dispatcher"]
        report = dispatcher.relay(now)
        emit({"job": RELAY, "asOf": now, "sent": report.sent, "left": report.left})
        return
    db: Database = current_app.extensions["loyalty_db"]
    if name == SHOPIFY_SYNC:
        with db.unit_of_work() as session:
            queued = sync_schedule.queue_due_shops(session, now)
        emit({"job": SHOPIFY_SYNC, "asOf": now, "shops": queued})
        return
    try:
        emit(scheduled.run_now(db, name, now).to_dict())
    except NotFoundError as exc:
        click.echo(json.dumps(exc.to_dict()), err=True)
        raise SystemExit(1) from exc
