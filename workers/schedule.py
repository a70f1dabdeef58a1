"""Celery beat's schedule: a plain dict, attached to the Celery config by shopify_loyalty.jobs.

    celery -A workers.celery_app beat
"""

from __future__ import annotations

from typing import Any

# Every few seconds: a task missed by the after-commit send (a crash, a broker outage) goes
# out within seconds of the broker coming back.
RELAY_INTERVAL_SECONDS = 5.0

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Approval delays are counted in days: a minute late is nobody's loss, and a frequent
    # run keeps each batch small.
    "approve-pending-points": {
        "task": "loyalty.approve_pending_points",
        "schedule": 60.0,
    },
    "relay-outbox": {
        "task": "loyalty.relay_outbox",
        "schedule": RELAY_INTERVAL_SECONDS,
        # A relay that could not start within its interval is superseded by the next one;
        # without this, a stopped worker finds a pile of identical relays when it comes back.
        "options": {"expires": RELAY_INTERVAL_SECONDS},
    },
}
