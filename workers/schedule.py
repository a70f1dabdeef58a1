"""Celery beat's schedule, attached to the Celery config by shopify_loyalty.jobs.setup.

    celery -A workers.celery_app beat

One beat is enough; two at once (a failover) are safe: every job takes its rows with
SKIP LOCKED and is idempotent, and two relays share the overdue rows.
"""

from __future__ import annotations

from typing import Any

from shopify_loyalty.jobs.scheduled import JOBS

# Every few seconds: a task missed by the after-commit send (a crash, a broker outage) goes
# out within seconds of the broker coming back, and a lost one within seconds of its deadline.
RELAY_INTERVAL_SECONDS = 5.0
# The Shopify customer sync's tick: a customer is written within its 10 s coalescing window
# plus this (services.events.sync).
SHOPIFY_SYNC_INTERVAL_SECONDS = 5.0

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "outbox-relay": {
        "task": "loyalty.relay_outbox",
        "schedule": RELAY_INTERVAL_SECONDS,
        # A relay that could not start within its interval is superseded by the next one;
        # without this, a stopped worker finds a pile of identical relays when it comes back.
        "options": {"expires": RELAY_INTERVAL_SECONDS},
    },
    "shopify-sync": {
        "task": "loyalty.schedule_shopify_sync",
        "schedule": SHOPIFY_SYNC_INTERVAL_SECONDS,
        "options": {"expires": SHOPIFY_SYNC_INTERVAL_SECONDS},
    },
    **{
        name: {"task": "loyalty.run_job", "schedule": job.schedule, "args": [name]}
        for name, job in JOBS.items()
    },
}
