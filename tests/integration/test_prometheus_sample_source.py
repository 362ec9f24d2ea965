"""PrometheusSampleSource passes the SampleSource contract on a real Prometheus."""

import pytest

from adapters.prometheus.client import PrometheusHttp
from adapters.prometheus.sample_source import PrometheusSampleSource
from monitoring_core.ports import SampleSource
from tests.contracts.sample_source_contract import SampleSourceContract


class TestPrometheusSampleSource(SampleSourceContract):
    @pytest.fixture
    def sample_source(self, dataset_prometheus: str) -> SampleSource:
        # The private Prometheus holds ``tests.support.dataset``, backfilled.
        return PrometheusSampleSource(PrometheusHttp(dataset_prometheus, 30))
