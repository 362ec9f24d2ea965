"""The in-memory metric source passes the MetricSource contract."""

import pytest

from adapters.in_memory.metric_source import InMemoryMetricSource
from monitoring_core.ports import MetricSource
from tests.contracts.metric_source_contract import MetricSourceContract
from tests.support import dataset


class TestInMemoryMetricSource(MetricSourceContract):
    @pytest.fixture
    def source(self) -> MetricSource:
        fake = InMemoryMetricSource()
        for key, (kind, samples) in dataset.build().items():
            fake.add(key, samples, kind)
        return fake
