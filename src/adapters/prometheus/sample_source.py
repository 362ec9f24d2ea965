"""Raw samples from Prometheus, as scraped, for judging objectives slice by slice."""

import math
from datetime import datetime, timedelta

from adapters.prometheus.client import PrometheusHttp
from monitoring_core.ports import SampleSource
from monitoring_core.selectors import Selector
from monitoring_core.series import SeriesKey, SeriesSamples

_MILLISECOND = timedelta(milliseconds=1)


class PrometheusSampleSource(SampleSource):
    """Reads a range vector ``selector[range]`` with one instant query.

    A range vector at time ``t`` holds the samples in ``(t - range, t]``;
    evaluated one millisecond (Prometheus' timestamp resolution) before ``end``
    it holds those in ``[start, end)`` (Prometheus 2 closes the range on both
    sides, 3 on the right only; the filter below makes both exact). No step,
    no lookback, no interpolation: the raw samples, without stale markers.
    """

    def __init__(self, http: PrometheusHttp) -> None:
        self._http = http

    def samples(
        self, selector: Selector, start: datetime, end: datetime
    ) -> list[SeriesSamples]:
        """Every sample in ``[start, end)`` of every series the selector matches."""
        milliseconds = round((end - start) / _MILLISECOND)
        if milliseconds <= 0:
            return []
        promql = f"{selector.to_promql()}[{milliseconds}ms]"
        found = self._http.query(promql, end - _MILLISECOND)
        lo, hi = start.timestamp(), end.timestamp()
        out = []
        for item in found:
            values = tuple(
                (float(t), float(v))
                for t, v in item.get("values", [])
                if not math.isnan(float(v)) and lo <= float(t) < hi
            )
            if values:
                out.append(
                    SeriesSamples(
                        key=SeriesKey.from_prometheus(item["metric"]), samples=values
                    )
                )
        return sorted(out, key=lambda s: s.key.canonical)
