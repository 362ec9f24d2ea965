"""Shards of series and the shard status read from ETL run records (ADR 0055)."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from monitoring_core.runs import EtlRun, Step, StepTiming
from monitoring_core.series import SeriesKey
from monitoring_core.sharding import Sharding, compact, shard_statuses, still_held

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_a_metric_of_one_instance_stays_in_one_shard_whatever_its_other_labels() -> (
    None
):
    sharding = Sharding()
    a = SeriesKey.of("http_requests_total", {"instance": "web-1", "code": "200"})
    b = SeriesKey.of("http_requests_total", {"instance": "web-1", "code": "500"})
    assert sharding.shard_of(a) == sharding.shard_of(b)


def test_shards_are_spread_evenly_and_stay_in_range() -> None:
    sharding = Sharding(count=64)
    keys = [
        SeriesKey.of(f"metric_{n}", {"instance": f"i{i}"})
        for n in range(100)
        for i in range(100)
    ]
    counts = Counter(sharding.shard_of(k) for k in keys)
    assert set(counts) == set(range(64))
    # 10,000 series in 64 shards: 156 expected each; a chi-square statistic
    # above 100 (63 degrees of freedom) would happen by chance once in 500.
    expected = len(keys) / 64
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 100


def test_the_shard_does_not_depend_on_the_process() -> None:
    # A fixed key hashes to the same shard in every process and version: the
    # hash is blake2b, not Python's salted hash(); recomputed here by hand.
    import hashlib

    key = SeriesKey.of("node_load1", {"instance": "db-1:9100", "job": "node"})
    digest = hashlib.blake2b(b"node_load1\0db-1:9100", digest_size=8).digest()
    assert Sharding(count=64).shard_of(key) == int.from_bytes(digest, "big") % 64


def test_series_without_the_label_hash_by_name_alone_and_the_label_is_settable() -> (
    None
):
    bare = SeriesKey.of("up", {})
    assert Sharding(label="job").shard_of(bare) == Sharding().shard_of(bare)
    a = SeriesKey.of("up", {"job": "a", "instance": "x"})
    b = SeriesKey.of("up", {"job": "a", "instance": "y"})
    assert Sharding(count=10_000, label="job").shard_of(a) == Sharding(
        count=10_000, label="job"
    ).shard_of(b)


@pytest.mark.parametrize("count", [0, -1, 10_001])
def test_a_shard_count_out_of_range_is_refused(count: int) -> None:
    with pytest.raises(ValueError, match="shard count"):
        Sharding(count=count)


@pytest.mark.parametrize(
    ("shards", "text"),
    [
        ([], "-"),
        ([3], "3"),
        ([0, 1, 2, 3, 7, 9, 10], "0-3,7,9-10"),
        ([5, 1, 2], "1-2,5"),
    ],
)
def test_compact(shards: list[int], text: str) -> None:
    assert compact(shards) == text


def _run(
    run_id: str, minute: int, worker: str, shards: tuple[int, ...], ok: bool = True
) -> EtlRun:
    at = T0 + timedelta(minutes=minute)
    return EtlRun(
        run_id=run_id,
        started_at=at - timedelta(seconds=20),
        finished_at=at,
        ok=ok,
        steps=(StepTiming(step=Step.WINDOW_STATS, seconds=1.0),),
        series_count=10,
        results_published=10,
        worker=worker,
        shards=shards,
    )


def test_owner_is_the_latest_cycle_and_last_analysis_the_latest_good_one() -> None:
    metadata_only = EtlRun(
        run_id="m",
        started_at=T0,
        finished_at=T0 + timedelta(minutes=9),
        ok=True,
        steps=(StepTiming(step=Step.METADATA, seconds=1.0),),
        series_count=10,
        results_published=10,
        worker="w3",
        shards=(0, 1, 2, 3),
    )
    runs = [
        _run("b", 2, "w2", (1, 2), ok=False),
        _run("a", 1, "w1", (0, 1)),
        metadata_only,
        _run("c", 3, "w1", (7,)),  # shard 7 of 4: ignored
    ]
    statuses = shard_statuses(runs, 4)
    assert [(s.shard, s.worker, s.last_run_id) for s in statuses] == [
        (0, "w1", "a"),
        (1, "w2", "b"),
        (2, "w2", "b"),
        (3, None, None),
    ]
    assert statuses[0].last_analysed_at == T0 + timedelta(minutes=1)
    assert statuses[1].last_analysed_at == T0 + timedelta(minutes=1)  # "b" failed
    assert statuses[2].last_analysed_at is None


def test_still_held_keeps_owned_shards_and_for_a_claimed_cycle_claimed_ones() -> None:
    owned, claims = {1, 2, 3}, {2}
    assert still_held({1, 2, 4}, owned, claims, claimed=True) == {2}
    assert still_held({1, 2, 4}, owned, claims, claimed=False) == {1, 2}
    assert still_held(set(), owned, claims, claimed=False) == frozenset()
