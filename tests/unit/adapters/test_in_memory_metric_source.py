"""The in-memory metric source passes the MetricSource contract."""

import pytest
from tests.contracts.metric_source_contract import MetricSourceContract
from tests.support import dataset

from adapters.in_memory.metric_source import InMemoryMetricSource
from monitoring_core.ports import MetricSource


class TestInMemoryMetricSource(MetricSourceContract):
    @pytest.fixture
    def source(self) -> MetricSource:
        fake = InMemoryMetricSource()
        for key, (kind, samples) in dataset.build().items():
            fake.add(key, samples, kind)
        return fake
