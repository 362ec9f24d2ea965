"""A histogram and a summary without metadata, as backfilled data has none.

Shared by the MetricSource contract: the fake and Prometheus must classify them
by name alone and analyse the cumulative series as steady per-second rates.
"""

from monitoring_core.series import SeriesKey
from tests.support import dataset

HISTOGRAM, SUMMARY = "test_rpc_seconds", "test_gc_seconds"
HOURS = 2
LABELS = {"instance": "h", "job": "t"}

Samples = list[tuple[float, float]]


def _key(name: str, **extra: str) -> SeriesKey:
    return SeriesKey.of(name, {**LABELS, **extra})


PER_SCRAPE: dict[SeriesKey, float] = {
    _key(f"{HISTOGRAM}_bucket", le="0.5"): 2.0,
    _key(f"{HISTOGRAM}_bucket", le="+Inf"): 3.0,
    _key(f"{HISTOGRAM}_count"): 3.0,
    _key(f"{HISTOGRAM}_sum"): 0.75,
    _key(f"{SUMMARY}_count"): 6.0,
    _key(f"{SUMMARY}_sum"): 0.03,
}
"""Increase per scrape of every cumulative series."""

QUANTILES: dict[SeriesKey, float] = {
    _key(SUMMARY, quantile="0.5"): 0.004,
    _key(SUMMARY, quantile="0.99"): 0.02,
}
"""The constant value of every quantile series."""


def _times() -> list[float]:
    start = dataset.END - HOURS * 3600
    return [
        start + i * dataset.SCRAPE for i in range(HOURS * 3600 // dataset.SCRAPE + 1)
    ]


def build() -> dict[SeriesKey, Samples]:
    """Every series of both families with its samples."""
    times = _times()
    out = {
        k: [(t, step * i) for i, t in enumerate(times)]
        for k, step in PER_SCRAPE.items()
    }
    out.update({k: [(t, value) for t in times] for k, value in QUANTILES.items()})
    return out


def expected(key: SeriesKey) -> float:
    """The steady per-second rate, or the value, every window should show."""
    if key in QUANTILES:
        return QUANTILES[key]
    return PER_SCRAPE[key] / dataset.SCRAPE


def _family(name: str) -> str:
    for suffix in ("_bucket", "_count", "_sum"):
        name = name.removesuffix(suffix)
    return name


def to_openmetrics(data: dict[SeriesKey, Samples]) -> str:
    """OpenMetrics text for ``promtool tsdb create-blocks-from openmetrics``."""
    lines: list[str] = []
    for family, kind in ((HISTOGRAM, "histogram"), (SUMMARY, "summary")):
        lines.append(f"# TYPE {family} {kind}")
        for key, samples in data.items():
            if _family(key.name) == family:
                labels = ",".join(f'{k}="{v}"' for k, v in key.labels)
                lines += [f"{key.name}{{{labels}}} {v!r} {t}" for t, v in samples]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
