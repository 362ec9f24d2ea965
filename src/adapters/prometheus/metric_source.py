"""MetricSource on Prometheus: discovery, window statistics and histories."""

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from adapters.prometheus.answers import (
    answer_key,
    skipped_natives,
    to_history,
    to_stats,
)
from adapters.prometheus.client import JsonObject, PrometheusHttp
from adapters.prometheus.groups import (
    Group,
    common_labels,
    group_selector,
    narrowed,
    native_group,
    plain_query,
    unanalysed,
)
from adapters.prometheus.promql import (
    STAT_LABEL,
    history_term,
    names_selector,
    stat_terms,
    union,
)
from monitoring_core.kinds import classify_all
from monitoring_core.ports import MetricSource
from monitoring_core.selectors import Selector
from monitoring_core.series import SeriesHistory, SeriesInfo, SeriesKey, ValueKind
from monitoring_core.windows import SeriesWindowStats

DEFAULT_BATCH_SERIES = 50
"""Series per combined query. PromQL's ``or`` is superlinear in its terms: on
987 node-exporter series scraped every 5 s, window statistics took 90 s in one
query of 2000, 26 s in batches of 500, 2.9 s in batches of 50."""


class PrometheusMetricSource(MetricSource):
    """Computes statistics inside Prometheus with ``*_over_time``.

    Args:
        http: the connection.
        rate_seconds: range of ``rate()`` for cumulative series (counters,
            histograms' and summaries' ``_bucket``, ``_count``, ``_sum``).
        resolution_seconds: subquery step for windows of rates.
        batch_series: about how many series one combined query may cover.
        concurrency: queries in flight at once, so that Prometheus evaluates
            one batch while this process parses the previous one.
        narrow_label: a label whose values select a batch's series of a metric
            when they are not all of it (a sharded worker's share, ADR 0055).
    """

    def __init__(
        self,
        http: PrometheusHttp,
        rate_seconds: int = 120,
        resolution_seconds: int = 60,
        batch_series: int = DEFAULT_BATCH_SERIES,
        concurrency: int = 2,
        narrow_label: str | None = None,
    ) -> None:
        self._http = http
        self._narrow = narrow_label
        self._concurrency = concurrency
        self._rate = rate_seconds
        self._resolution = resolution_seconds
        self._batch = batch_series

    def discover(
        self, selectors: Sequence[Selector], start: datetime, end: datetime
    ) -> list[SeriesInfo]:
        """Series with samples in ``[start, end]``, each listed once."""
        if not selectors:
            return []
        found = self._http.series([s.to_promql() for s in selectors], start, end)
        types = self._http.metric_types()
        keys = sorted(
            {SeriesKey.from_prometheus(m) for m in found}, key=lambda k: k.canonical
        )
        return classify_all(keys, types)

    def _batches(self, series: Sequence[SeriesInfo]) -> Iterator[list[Group]]:
        by_name: dict[tuple[str, ValueKind], list[SeriesInfo]] = defaultdict(list)
        for info in series:
            by_name[(info.key.name, info.value_kind)].append(info)
        batch: list[Group] = []
        size = 0
        for (name, kind), members in sorted(by_name.items()):
            if batch and size + len(members) > self._batch:
                yield batch
                batch, size = [], 0
            batch.append((name, kind, members))
            size += len(members)
        if batch:
            yield batch

    def window_stats(
        self, series: Sequence[SeriesInfo], windows: Sequence[int], at: datetime
    ) -> list[SeriesWindowStats]:
        """One combined instant query per batch of metric names."""
        wanted = {i.key: i for i in series}
        values: dict[SeriesKey, dict[str, float]] = defaultdict(dict)
        batches = list(self._batches(series))
        natives = self._natives(batches, at)
        native = unanalysed(batches, natives)
        queries = [self._stats_query(b, windows, natives) for b in batches]
        for result in self._pipelined(lambda q: self._http.query(q, at), queries):
            for item in result:
                key = answer_key(item["metric"])
                if key not in wanted:
                    continue
                if "value" not in item:  # {"histogram": [t, {...}]} instead
                    native.add(key)
                    continue
                values[key][item["metric"][STAT_LABEL]] = float(item["value"][1])
        skipped_natives(native, "window statistics")
        return [
            to_stats(wanted[k], v, windows, at)
            for k, v in values.items()
            if k not in native and any(f"count:{w}" in v for w in windows)
        ]

    def _natives(self, batches: list[list[Group]], at: datetime) -> set[SeriesKey]:
        """Series whose latest sample is a native histogram.

        Prometheus 2.4x answers functions of native histograms (``*_over_time``,
        ``label_replace``) with zeros, so only their plain samples tell them apart.
        """
        queries = [plain_query(b, self._narrow) for b in batches]
        return {
            answer_key(item["metric"])
            for result in self._pipelined(lambda q: self._http.query(q, at), queries)
            for item in result
            if "histogram" in item
        }

    def _stats_query(
        self, batch: list[Group], windows: Sequence[int], natives: set[SeriesKey]
    ) -> str:
        terms = []
        for name, kind, members in batch:
            selector = group_selector(name, members, self._narrow)
            native = native_group(kind, members, natives)
            terms += stat_terms(
                name, selector, kind, windows, self._rate, self._resolution, native
            )
        return union(terms)

    def history(
        self,
        series: Sequence[SeriesInfo],
        start: datetime,
        end: datetime,
        step_seconds: int,
    ) -> list[SeriesHistory]:
        """One combined range query per batch; missing steps are NaN."""
        wanted = {i.key for i in series}
        t0, t1 = start.timestamp(), end.timestamp()
        n = int((t1 - t0) // step_seconds) + 1
        out = []
        batches = list(self._batches(series))
        natives = self._natives(batches, end)
        native = unanalysed(batches, natives)
        queries = [q for b in batches for q in self._history_queries(b, natives)]

        def fetch(query: str) -> list[JsonObject]:
            return self._http.query_range(query, t0, t1, step_seconds)

        for result in self._pipelined(fetch, queries):
            for item in result:
                key = answer_key(item["metric"])
                if key in wanted and "histograms" in item:
                    native.add(key)
                elif key in wanted:
                    out.append(to_history(key, item, t0, step_seconds, n))
        skipped_natives(native, "histories")
        return [h for h in out if h.series not in native]

    def _pipelined(
        self, fetch: Callable[[str], list[JsonObject]], queries: list[str]
    ) -> Iterator[list[JsonObject]]:
        """Answers in query order, with up to ``concurrency`` requests in flight."""
        if self._concurrency <= 1 or len(queries) <= 1:
            yield from map(fetch, queries)
            return
        with ThreadPoolExecutor(self._concurrency, "prometheus") as pool:
            yield from pool.map(fetch, queries)

    def _history_queries(
        self, batch: list[Group], natives: set[SeriesKey]
    ) -> list[str]:
        """Values as one plain selector (cheapest for Prometheus); rates drop
        the name, so they go as tagged terms joined with ``or``."""
        gauges = [
            (name, members) for name, kind, members in batch if kind is ValueKind.VALUE
        ]
        counters = [
            history_term(
                name,
                group_selector(name, members, self._narrow),
                kind,
                self._rate,
                native_group(kind, members, natives),
            )
            for name, kind, members in batch
            if kind is ValueKind.PER_SECOND_RATE
        ]
        queries = [union(counters)] if counters else []
        if gauges:
            members = [m for _, group in gauges for m in group]
            selector = names_selector([n for n, _ in gauges], common_labels(members))
            queries.append(narrowed(selector, members, self._narrow).to_promql())
        return queries
