"""The small chaos run (bench.chaos) in the suite: the real stack (gunicorn, two prefork Celery
workers, beat, a Redis of its own, the Shopify stand-in with faults) on a database of its own,
a few hundred operations over about a minute, one round of the six faults and the four jobs.
Its checks are on the end state after the queues drained, never on timing, so a slow machine
makes it slower, not red. It needs ``redis-server`` on the PATH (CI has it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATABASE_URL

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.chaos
def test_a_small_chaos_run_ends_with_no_violation(tmp_path: Path) -> None:
    # In a process of its own (its app and Celery settings must not become the suite's), on
    # its own database beside the suite's (dropped and migrated by the run).
    out = tmp_path / "chaos.json"
    ran = subprocess.run(
        [sys.executable, "-m", "bench.chaos", "--operations", "300", "--minutes", "0.75",
         "--customers", "6", "--cycles", "1", "--port-base", "0", "--lease-seconds", "8",
         "--drain-seconds", "300", "--report", str(out)],
        cwd=ROOT, env={**os.environ, "BENCH_DATABASE_URL": f"{DATABASE_URL}_chaos"},
        capture_output=True, text=True, timeout=1500, check=False)
    assert out.exists(), ran.stderr[-3000:]
    report = json.loads(out.read_text())

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
    # Events went to an endpoint failing half the time: each delivered or visibly waiting.
    assert report["events"] == "checked"
