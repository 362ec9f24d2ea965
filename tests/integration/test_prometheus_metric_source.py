"""PrometheusMetricSource passes the MetricSource contract on a real Prometheus."""

from collections.abc import Iterator

import pytest

from adapters.prometheus.client import PrometheusHttp
from adapters.prometheus.metric_source import PrometheusMetricSource
from monitoring_core.errors import SourceUnavailable
from monitoring_core.ports import MetricSource
from monitoring_core.selectors import parse_selector
from tests.contracts.metric_source_contract import (
    AT,
    FamiliesContract,
    MetricSourceContract,
)
from tests.support import families
from tests.support.prometheus import backfill, free_port, private_prometheus


@pytest.fixture(scope="module")
def families_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private Prometheus holding ``tests.support.families``, no metadata."""
    data = tmp_path_factory.mktemp("families") / "data"
    backfill(families.to_openmetrics(families.build()), data)
    with private_prometheus(data) as url:
        yield url


class TestPrometheusMetricSource(MetricSourceContract, FamiliesContract):
    @pytest.fixture(params=[1, 2000], ids=["query-per-series", "one-query"])
    def source(
        self, dataset_prometheus: str, request: pytest.FixtureRequest
    ) -> MetricSource:
        # Every metric in one combined query, and one query per series: both exact.
        return PrometheusMetricSource(
            PrometheusHttp(dataset_prometheus, 30), batch_series=request.param
        )

    @pytest.fixture(params=[1, 2000], ids=["query-per-series", "one-query"])
    def family_source(
        self, families_prometheus: str, request: pytest.FixtureRequest
    ) -> MetricSource:
        return PrometheusMetricSource(
            PrometheusHttp(families_prometheus, 30), batch_series=request.param
        )


def test_unreachable_prometheus_is_source_unavailable() -> None:
    source = PrometheusMetricSource(
        PrometheusHttp(f"http://127.0.0.1:{free_port()}", 2)
    )
    with pytest.raises(SourceUnavailable, match=r"127\.0\.0\.1"):
        source.discover([parse_selector("up")], AT, AT)


def test_a_query_error_is_source_unavailable(dataset_prometheus: str) -> None:
    http = PrometheusHttp(dataset_prometheus, 10)
    with pytest.raises(SourceUnavailable, match="parse error"):
        http.query("sum(", AT)
