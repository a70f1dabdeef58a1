"""The small chaos run (bench.chaos) in the suite: the real stack (gunicorn, two prefork Celery
workers, beat, a Redis of its own, the Shopify stand-in with faults) on a database of its own,
a few hundred operations over about a minute, one round of the six faults and the four jobs.
Its checks are on the end state after the queues drained, never on timing, so a slow machine
makes it slower, not red. It needs ``redis-server`` on the PATH (CI has it).
"""

from __future__ import annotations

import json

import pytest

from bench.chaos import Options, run
from tests.conftest import DATABASE_URL


@pytest.mark.chaos
def test_a_small_chaos_run_ends_with_no_violation() -> None:
    # Its own database beside the suite's (dropped and migrated by the run).
    report = run(Options(operations=300, minutes=0.75, customers=6, cycles=1, port_base=0,
                         lease_seconds=8, drain_seconds=300,
                         database_url=f"{DATABASE_URL}_chaos"))

    summary = json.dumps({k: report[k] for k in ("violationCounts", "violations", "faults",
                                                 "faultErrors", "crashes", "logs")}, indent=1)
    assert report["violationCount"] == 0, summary
    assert report["operations"] == report["planned"] >= 300
    # Every fault and job ran, and the stand-in injected each kind of Shopify failure it can
    # within a few hundred mutations.
    assert report["faultsNotRun"] == [] and report["faultErrors"] == [], summary
    faults = report["faults"]
    for name in ("restart-redis", "terminate-connections", "restart-gunicorn",
                 "kill-gunicorn", "job:rewards-expiry", "job:points-expiry", "job:tiers",
                 "job:expiry-reminders"):
        assert faults.get(name) == 1, summary
    assert faults.get("kill-worker", 0) + faults.get("kill-worker-mid-task", 0) == 1
    assert sum(v for k, v in faults.items() if k.startswith("shopify:")) > 0, summary
    assert report["rewards"], "no reward was redeemed"
