"""The congress-day rehearsal, the small day: about 120 delegates checked in at six doors for
three sittings, their phones voting in a motion and an election with a tie, its runoff and
paper ballots entered twice, three screens following, papers and speakers — through the
real servers, with the faults of the full day: a tablet offline, an app instance killed with
SIGKILL during a poll, Redis restarted, a screen's connection cut, ballots sent again after
a timeout. Nothing may be lost (bench/rehearsal.py, which prints the table of its checks).

On the suite's SQLite run the embedded default is rehearsed (one instance on SQLite); on its
PostgreSQL run the production setup (two instances on PostgreSQL and a redis-server of the
rehearsal's own, which it restarts) behind the rehearsal's balancer.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import POSTGRES_SERVER

ROOT = Path(__file__).resolve().parent.parent
FAULTS = ["offline", "killed (SIGKILL)", "connection of", "sent again with the same retry key"]


def rehearse() -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "bench" / "rehearsal.py"), "--small"]
    if POSTGRES_SERVER:
        command += ["--only", "postgres", "--postgres", POSTGRES_SERVER]
    else:
        command += ["--only", "sqlite"]
    # The rehearsal makes its own var dir, database, key and servers: none of the suite's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONGRESS_")}
    return subprocess.run(  # noqa: S603 - our own interpreter and script
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def test_a_small_congress_day_with_faults_loses_nothing() -> None:
    done = rehearse()
    table = done.stdout[-12000:] + done.stderr[-4000:]
    assert done.returncode == 0, table
    assert "NOTHING LOST" in done.stdout, table
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    checks = [row for row in rows if row.endswith("| ok |") or row.endswith("| **LOSS** |")]
    assert len(checks) >= 35, table
    assert all(row.endswith("| ok |") for row in checks), table
    faults = FAULTS + (["Redis restarted"] if POSTGRES_SERVER else [])
    assert [f for f in faults if f not in done.stdout] == [], table
