"""Issue 16, acceptance 3 (short form): the chaos suite with three trials.

The same code as ``bench/chaos.py`` (ADR 0059): three ETL workers, two storage
instances, the API and the SLA manager on a private Kafka, MariaDB and
Prometheus; three trials of three different faults from the seeded schedule
(kill -9 of a random process, Kafka restarted, MariaDB stopped 10 s, the SLA
manager restarted), each at a random moment of a 6 s cycle. The seed is
printed and named in every failure message; ``MONITORING_TEST_CHAOS_SEED``
replays one.
"""

import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.chaos import API_ALLOWANCE, describe, report, run_chaos
from bench.chaos_world import Settings

TRIALS = 3


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie has no command line left: it has ended, only not been reaped.
    return not Path(f"/proc/{pid}/cmdline").read_bytes()


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    """Under /tmp and world-readable (MariaDB runs as the mysql user); the
    services' logs are kept in ``tmp_path`` when it is removed."""
    made = Path(tempfile.mkdtemp(prefix="chaos-", dir="/tmp"))
    made.chmod(0o755)
    yield made
    for log in made.glob("*.log"):
        shutil.copy(log, tmp_path / log.name)
    shutil.rmtree(made, ignore_errors=True)


@pytest.mark.timeout(420)
def test_three_random_faults_lose_nothing_and_every_window_is_covered(
    folder: Path,
) -> None:
    seed = int(os.environ.get("MONITORING_TEST_CHAOS_SEED") or random.randrange(10**6))
    print(f"chaos seed {seed}")
    settings = Settings(cycle_seconds=6, hosts=6, metrics=10, folder=folder)
    summary = run_chaos(settings, TRIALS, seed, db_outage=10.0, say=print)
    text = f"seed {seed}\n{report(summary)}"

    assert len(summary.trials) == TRIALS
    assert len({t.kind for t in summary.trials}) == TRIALS, text
    assert summary.final.on_topic > 0, text
    assert not summary.final.lost, f"{len(summary.final.lost)} lost\n{text}"
    assert not summary.final.phantom, text
    assert summary.final.dead_lettered == 0, text
    for trial in summary.trials:
        line = f"seed {seed}: {describe(trial)}"
        assert trial.windows > 0, line
        assert trial.api_recovery <= API_ALLOWANCE, line
        assert trial.unexcused == 0, line
        assert trial.twice == 0, line
        assert not trial.shard_twice, line
        assert trial.sla_intact and trial.predictions_intact, line
    assert summary.passed(), text
    alive = [pid for pid in summary.pids if not _gone(pid)]
    assert not alive, f"processes left running: {alive}"
